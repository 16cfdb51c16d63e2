// The workers and the datasets a pass acts on, as a world that keeps going while passes come, die
// and go: the prepare worker publishes each label's dataset some time after a start reaches it,
// a retrain worker runs for ten minutes, and every start that reaches a worker is counted, so a
// test can tell how often each published version was retrained.
//
// Each kind of worker answers as its trigger (src/triggers/) does:
//   - Space: a restart carries no parameter, ends the run in progress and starts another (a
//     retrain Space trains the latest dataset, here the version the restart was sent for); its
//     stage is active while a run lasts and PAUSED after (and before any run);
//   - command: each start runs a process of its own, whose record says running or ended; the
//     reference retrain worker trains a version once: a repeat of its request (same idempotency
//     key) trains nothing and ends at once;
//   - webhook: the receiver drops a request whose Idempotency-Key it has seen, and cannot be asked
//     how its run is doing;
//   - Hugging Face Job: each start is a job of its own, named by its id and labelled with its
//     request's key; a repeat of a request is another job, which trains again (nothing drops it:
//     only the pass's asking by the key keeps it from being sent). Its stage says running or ended.
// Time is the fake clock's: what the world did by now follows from the starts and their times.
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "hub/hub.h"
#include "support/engine_fakes.h"
#include "triggers/trigger.h"

namespace orch::testing {

enum class WorkerKind { kSpace, kCommand, kWebhook, kJob };

inline const char* WorkerKindName(WorkerKind kind) {
  switch (kind) {
    case WorkerKind::kSpace: return "Space";
    case WorkerKind::kCommand: return "Command";
    case WorkerKind::kWebhook: return "Webhook";
    case WorkerKind::kJob: return "Job";
  }
  return "?";
}

inline void PrintTo(WorkerKind kind, std::ostream* out) { *out << WorkerKindName(kind); }

class WorkerWorld final : public Trigger, public Hub {
 public:
  // A dataset version the prepare worker published.
  struct Publication {
    std::string label, version;
    Clock::TimePoint at;
  };

  WorkerWorld(FakeClock& clock, WorkerKind kind) : clock_(clock), kind_(kind) {}

  // The targets and metadata URL of each kind, as a configuration names them.
  std::string PrepareTarget() const { return TargetOf("prepare"); }
  std::string RetrainTarget(const std::string& label) const { return TargetOf("retrain_" + label); }
  static std::string MetadataUrl(const std::string& label) {
    return "https://hub.test/datasets/owner/" + label + "/resolve/main/dataset_metadata.json";
  }

  // How long after a start of the prepare worker `label`'s dataset appears; the run ends 10 s
  // after its last label's.
  void SetPublishDelay(const std::string& label, double seconds) { publish_delay_[label] = seconds; }
  // `version` of `label` was out before the test began (it counts as no publication of the world).
  void PublishedBefore(const std::string& label, const std::string& version) { earlier_[label] = version; }
  // A start that reached its worker now, as an earlier pass sent it. Returns the run's id for a Job
  // ("" for the other kinds, and for a webhook's repeat, which is dropped).
  std::string Deliver(const StartRequest& request) {
    ++deliveries_;
    const bool prepare = request.target == PrepareTarget();
    std::vector<Run>& runs = runs_[request.target];
    if (kind_ == WorkerKind::kWebhook && !seen_keys_.insert(request.idempotency_key).second) return "";  // dropped
    if (kind_ == WorkerKind::kSpace && !runs.empty() && runs.back().ends > clock_.Now())
      runs.back().cut = clock_.Now();  // the restart ends the run in progress
    Run run;
    if (prepare) {
      double longest = 0;
      for (const std::string& label : Split(request.label)) {
        const double delay = publish_delay_.count(label) ? publish_delay_.at(label) : 60;
        run.versions[label] = {"v" + std::to_string(++versions_[label] + 1), clock_.Now() + SecondsToDuration(delay)};
        longest = std::max(longest, delay);
      }
      run.ends = clock_.Now() + SecondsToDuration(longest + 10);
    } else if (kind_ == WorkerKind::kCommand && !trained_keys_.insert(request.idempotency_key).second) {
      run.ends = clock_.Now() + std::chrono::seconds(1);  // answers the decision it made before
    } else {
      run.ends = clock_.Now() + kRetrainTime;
      ++trainings_[request.label][request.dataset_version];
    }
    run.key = request.idempotency_key;
    if (kind_ == WorkerKind::kJob) run.id = "owner/job" + std::to_string(++jobs_);
    runs.push_back(std::move(run));
    return runs.back().id;
  }

  // ---- the trigger: every start reaches its worker ----
  std::vector<StartResult> Start(std::span<const StartRequest> requests) override {
    std::vector<StartResult> results;
    for (const StartRequest& request : requests) {
      const std::string id = Deliver(request);
      results.push_back({true,
                         kind_ == WorkerKind::kSpace     ? "stage BUILDING"
                         : kind_ == WorkerKind::kCommand ? "pid 4242, log worker.log"
                         : kind_ == WorkerKind::kJob     ? "job " + id + " SCHEDULING"
                                                         : "HTTP 202 from https://hooks.test",
                         false, id});
    }
    return results;
  }
  std::vector<WorkerState> Inspect(std::span<const WorkerRef> workers, TimeBudget) override {
    std::vector<WorkerState> states;
    for (const WorkerRef& worker : workers)
      states.push_back(kind_ == WorkerKind::kJob ? StateOfJob(worker) : StateOf(worker.target));
    return states;
  }

  // ---- the Hub: each label's latest version ----
  std::vector<MetadataRead> ReadMetadata(std::span<const std::string> urls, TimeBudget) override {
    std::vector<MetadataRead> reads;
    for (const std::string& url : urls) {
      const std::string label = LabelOf(url);
      MetadataRead read;
      std::optional<std::string> latest;
      if (auto earlier = earlier_.find(label); earlier != earlier_.end()) latest = earlier->second;
      for (const Publication& publication : Publications())
        if (publication.label == label) latest = publication.version;
      if (latest) {
        read.status = MetadataRead::Status::kOk;
        read.metadata = DatasetMetadata{*latest, kSamples, 0};
      } else {
        read.status = MetadataRead::Status::kNotFound;
        read.detail = "404";
      }
      reads.push_back(read);
    }
    return reads;
  }

  // ---- what happened ----
  // The versions the prepare worker published by now, oldest first.
  std::vector<Publication> Publications() const {
    std::vector<Publication> out;
    for (const Run& run : RunsOf(PrepareTarget()))
      for (const auto& [label, version] : run.versions)
        if (version.second <= clock_.Now() && (!run.cut || version.second < *run.cut))
          out.push_back({label, version.first, version.second});
    std::stable_sort(out.begin(), out.end(), [](const Publication& a, const Publication& b) { return a.at < b.at; });
    return out;
  }
  // How many times `version` of `label` was trained: started by a start that reached the worker and
  // was not dropped as a repeat (a Space's run cut short by another restart counts: it began).
  int Trainings(const std::string& label, const std::string& version) const {
    auto of_label = trainings_.find(label);
    if (of_label == trainings_.end()) return 0;
    auto count = of_label->second.find(version);
    return count == of_label->second.end() ? 0 : count->second;
  }
  const std::map<std::string, std::map<std::string, int>>& trainings() const { return trainings_; }
  // Every start that reached a worker (repeats a receiver dropped included).
  size_t deliveries() const { return deliveries_; }

  static constexpr int64_t kSamples = 100000;  // every dataset is large enough for its cycle
  static constexpr std::chrono::seconds kRetrainTime{600};

 private:
  struct Run {
    std::string id, key;  // a Job's id, and the key of the request it was started for
    Clock::TimePoint ends;
    std::optional<Clock::TimePoint> cut;                                       // a later restart ended it
    std::map<std::string, std::pair<std::string, Clock::TimePoint>> versions;  // prepare: label -> (version, when)
  };

  std::string TargetOf(const std::string& worker) const {
    switch (kind_) {
      case WorkerKind::kSpace: return "owner/" + worker;
      case WorkerKind::kCommand: return "command:" + worker + " --hub /srv/hub";
      case WorkerKind::kWebhook: return "webhook:https://hooks.test/" + worker;
      case WorkerKind::kJob: return "hf-job:owner/workers:1 run " + worker;
    }
    return worker;
  }
  static std::string LabelOf(const std::string& url) {
    const std::string prefix = "https://hub.test/datasets/owner/";
    return url.substr(prefix.size(), url.find('/', prefix.size()) - prefix.size());
  }
  static std::vector<std::string> Split(const std::string& labels) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= labels.size()) {
      const size_t comma = std::min(labels.find(',', start), labels.size());
      out.push_back(labels.substr(start, comma - start));
      start = comma + 1;
    }
    return out;
  }
  const std::vector<Run>& RunsOf(const std::string& target) const {
    static const std::vector<Run> none;
    auto found = runs_.find(target);
    return found == runs_.end() ? none : found->second;
  }
  WorkerState StateOf(const std::string& target) const {
    const std::vector<Run>& runs = RunsOf(target);
    const bool running = !runs.empty() && clock_.Now() < runs.back().ends;
    switch (kind_) {
      case WorkerKind::kSpace:
        return running ? WorkerState{WorkerState::Health::kActive, "stage RUNNING"}
                       : WorkerState{WorkerState::Health::kFinished, "stage PAUSED"};
      case WorkerKind::kCommand:
        if (runs.empty())
          return {WorkerState::Health::kFinished, "not running (no earlier start recorded)", "",
                  WorkerState::Evidence::kProcess};
        return running
                   ? WorkerState{WorkerState::Health::kActive, "pid 4242 running", "", WorkerState::Evidence::kProcess}
                   : WorkerState{WorkerState::Health::kFinished, "pid 4242 exited with status 0", "",
                                 WorkerState::Evidence::kProcess};
      case WorkerKind::kWebhook:
      case WorkerKind::kJob: break;
    }
    return {WorkerState::Health::kFinished, "a webhook receiver cannot be asked about its run", "",
            WorkerState::Evidence::kNone};
  }
  // A Job, by its id, or else by its request's key, as the Hub's list by label finds it.
  WorkerState StateOfJob(const WorkerRef& worker) const {
    const std::vector<Run>& runs = RunsOf(worker.target);
    const auto found = std::find_if(runs.rbegin(), runs.rend(), [&](const Run& run) {
      return worker.run_id.empty() ? run.key == worker.idempotency_key : run.id == worker.run_id;
    });
    WorkerState state;
    if (found == runs.rend()) {
      state = {WorkerState::Health::kFinished, "no job was started for this request", "", WorkerState::Evidence::kNone};
      state.request = WorkerState::Request::kNotReceived;
      return state;
    }
    const bool running = clock_.Now() < found->ends;
    state = {running ? WorkerState::Health::kActive : WorkerState::Health::kFinished,
             "job " + found->id + (running ? " RUNNING" : " COMPLETED"), "", WorkerState::Evidence::kProcess};
    state.request = WorkerState::Request::kReceived;
    state.run_id = found->id;
    return state;
  }

  FakeClock& clock_;
  WorkerKind kind_;
  std::map<std::string, double> publish_delay_;
  std::map<std::string, std::string> earlier_;
  std::map<std::string, std::vector<Run>> runs_;                 // by target, in the order the starts reached it
  std::map<std::string, int> versions_;                          // by label: the prepare runs that were to publish one
  std::set<std::string> seen_keys_;                              // webhook: the keys the receivers have seen
  std::set<std::string> trained_keys_;                           // command: the retrain requests the worker decided
  std::map<std::string, std::map<std::string, int>> trainings_;  // label -> version -> trainings begun
  size_t deliveries_ = 0;
  int jobs_ = 0;  // Jobs started so far
};

}  // namespace orch::testing
