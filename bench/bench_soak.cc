// Soak: many passes against a real PostgreSQL database, in a random world: passes killed at random
// moments or started two or three at once, Hub and webhook faults (answers lost after the work was
// done among them), datasets published at random times or never (stale cycles), retrain jobs that
// end at random times. Both labels, each with its own retrain worker, of the kind asked for.
// At the end, calm passes finish every cycle; then every version published must have been retrained
// exactly once. Exits 1 with a line saying which invariant broke, 0 otherwise.
//
//   bench_soak [--passes N] [--seed N] [--workers space|command|webhook|hf-job|mixed]
//
// mixed: a prepare Hugging Face Job, a command: retrain worker for department and a webhook: one for
// urgency. hf-job: every worker a Job on the fake Hub, the prepare job running until its datasets
// are out, each retrain job for a random time; a Job is its own run, so no repeat is excused.
// What a command: worker of the soak runs (the soak's own binary) is `bench_soak --report URL --as
// NAME`: it posts its request, as a webhook trigger would, to the soak's receiver of command runs.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "db/open_database.h"
#include "db/state_store.h"
#include "support/app_database.h"
#include "support/fake_hub.h"
#include "support/job_workers.h"
#include "support/orchestrator_env.h"
#include "support/postgres_server.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"
#include "support/webhook_receiver.h"
#include "triggers/webhook_trigger.h"
#include "util/error.h"
#include "util/time.h"

namespace orch::bench {
namespace {

using namespace std::chrono_literals;
using testing::AppDatabase;
using testing::FakeHub;
using testing::FakeHubJobs;
using testing::ProcessResult;
using testing::Subprocess;
using testing::WebhookReceiver;
using Fault = FakeHub::Fault;
using Publication = FakeHub::Publication;
using SteadyClock = std::chrono::steady_clock;

constexpr const char* kToken = "hf_soak";
constexpr const char* kPrepareSpace = "owner/prepare";
// Small, so that a cycle whose prepare worker publishes nothing is abandoned within a few passes.
constexpr double kStaleAfter = 3;
// A dataset comes out at most this part of STALE_AFTER after its cycle began: in time for the
// cycle, which must then retrain it.
constexpr double kPublishedWithin = 0.6;
// A retrain job ends (its Space pauses) at the latest this long after its restart: well within
// STALE_AFTER, which is as long as the orchestrator holds a label back for a running retrain.
constexpr auto kJobsEndWithin = 1s;
constexpr auto kJobsWatched = 20ms;    // how often the retrain Spaces are looked at
constexpr int64_t kSamples = 1000000;  // every dataset is large enough for its cycle
constexpr const char* kAbandoned = "abandoning a stale prepare cycle";
// The last line of a command: run's log.
constexpr const char* kReported = "reported ";
constexpr const char* kNotReported = "the soak's receiver did not take the report";
// At most, to finish every cycle at the end: a cycle whose dataset never came goes stale, is
// prepared anew and its new dataset comes out.
constexpr auto kCalmEnd = std::chrono::seconds(static_cast<int>(4 * kStaleAfter) + 10);

enum class Kind { kSpace, kCommand, kWebhook, kJob };

struct Label {
  std::string name, dataset, space;  // space: the retrain Space, for Kind::kSpace
  Kind kind;
};

// A retrain or prepare request some worker carried out.
struct Act {
  std::string label, version;  // version "" for a prepare
};

struct Tally {
  int passes = 0, groups = 0, concurrent = 0, kills = 0, faults = 0, lost_answers = 0, abandoned = 0;
  int exit_codes[256] = {};
  std::vector<std::string> broken;  // invariants that broke, one line each
};

std::optional<Act> ActOf(const WebhookReceiver::Received& received) {
  if (!received.carried_out) return std::nullopt;
  const nlohmann::json body = nlohmann::json::parse(received.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return std::nullopt;
  return Act{body.value("label", ""), body.value("dataset_version", "")};
}

std::string SelfPath() { return std::filesystem::read_symlink("/proc/self/exe").string(); }

// The random world the passes run in, and what its workers did.
class World {
 public:
  World(const std::string& workers, unsigned seed) : random_(seed), script_random_(seed ^ 0x9e3779b9u) {
    const bool mixed = workers == "mixed";
    const Kind kind = workers == "command"   ? Kind::kCommand
                      : workers == "webhook" ? Kind::kWebhook
                      : workers == "hf-job"  ? Kind::kJob
                                             : Kind::kSpace;
    prepare_kind_ = mixed ? Kind::kJob : kind;
    labels_ = {{"department", "owner/department", "owner/retrain_dept", mixed ? Kind::kCommand : kind},
               {"urgency", "owner/urgency", "owner/retrain_urgency", mixed ? Kind::kWebhook : kind}};
    database_ = AppDatabase::Postgres();
    database_->CreateSchema();
    database_->AddMisclassified(20, "department");
    database_->AddMisclassified(10, "urgency");
    database_->AddCorrectComplaints(100);
    hub_.SetToken(kToken);
    hub_.AddSpace(kPrepareSpace, "PAUSED");
    for (const Label& label : labels_) {
      hub_.AddSpace(label.space, "PAUSED");
      hub_.TrainsOn(label.space, label.dataset);
      hub_.PublishMetadata(label.dataset, FakeHub::Metadata("v0", 5));
    }
    hub_.OnRestart(kPrepareSpace, std::function<std::vector<Publication>()>([this] {
                     std::vector<Publication> script;
                     for (const auto& [label, publication] : PrepareScript("")) script.push_back(publication);
                     return script;
                   }));
    // A prepare job starts its cycle's publications as it runs; a retrain job runs until EndJobsInTime ends it.
    testing::PrepareJobsPublish(
        hub_,
        [this](const std::string& labels) {
          for (const auto& [label, publication] : PrepareScript(labels))
            hub_.StartPublications(Publisher(label), {publication});
          return std::vector<Publication>{};
        },
        FakeHubJobs::Behavior::Manual());
    hub_.jobs().SetBehavior(testing::kRetrainJobImage, FakeHubJobs::Behavior::Manual());
    hooks_.OnDelivery([this](const WebhookReceiver::Received& received) { OnDelivery(received, false); });
    runs_.OnDelivery([this](const WebhookReceiver::Received& received) { OnDelivery(received, true); });

    env_ = testing::OrchestratorEnv(hub_, database_->url(), kToken);
    env_["POLL_TIMEOUT"] = std::to_string(kPollTimeout);
    env_["STALE_AFTER"] = std::to_string(kStaleAfter);
    env_["HTTP_RETRIES"] = "2";
    env_["WORKER_LOG_DIR"] = dir_.File("logs");
    env_["PREPARE_DATASET_REPO"] = Target(prepare_kind_, kPrepareSpace, "prepare");
    env_["RETRAIN_DEPT_REPO"] = Target(labels_[0].kind, labels_[0].space, labels_[0].name);
    env_["RETRAIN_URGENCY_REPO"] = Target(labels_[1].kind, labels_[1].space, labels_[1].name);
    jobs_ = std::thread([this] { EndJobsInTime(); });
  }
  ~World() {
    stop_jobs_ = true;
    jobs_.join();
  }
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  // Runs one group of passes: one, or two or three started at once (only one may act). Outside the
  // calm end, new corrections arrive first, a fault may wait for the passes, a retrain job may have
  // ended, and one pass of the group may be killed at a random moment.
  void RunGroup(bool calm, Tally& tally) {
    if (!calm) {
      for (const Label& label : labels_)
        if (random_() % 4 != 0) database_->AddMisclassified(1, label.name);
      if (random_() % 3 == 0) InjectRandomFault(tally);
    }
    LetRetrainJobsEnd(/*all=*/calm);
    const int size = calm || random_() % 6 != 0 ? 1 : 2 + static_cast<int>(random_() % 2);
    std::vector<std::unique_ptr<Subprocess>> passes;
    for (int i = 0; i < size; ++i) {
      std::vector<std::string> args = {ORCH_BINARY, "run"};
      if (size == 1) args.insert(args.end(), {"--wait-lock", "10"});
      passes.push_back(std::make_unique<Subprocess>(args, env_, dir_.path().string()));
    }
    if (!calm && random_() % 10 < 3) {
      std::this_thread::sleep_for(std::chrono::milliseconds(random_() % 250));
      passes[random_() % passes.size()]->Signal(SIGKILL);
      ++tally.kills;
    }
    for (auto& pass : passes) {
      const ProcessResult result = pass->Wait(60s);
      ++tally.passes;
      if (result.timed_out) tally.broken.push_back("a pass did not end within 60 s:\n" + result.err);
      if (result.exit_code >= 0) ++tally.exit_codes[result.exit_code];
      for (size_t at = result.err.find(kAbandoned); at != std::string::npos; at = result.err.find(kAbandoned, at + 1))
        ++tally.abandoned;
      if (result.exit_code >= 0 && result.exit_code != 0 && result.exit_code != 1 && result.exit_code != 75)
        tally.broken.push_back("a pass exited " + std::to_string(result.exit_code) + ":\n" + result.err);
      Note("a pass ended: exit " + std::to_string(result.exit_code) + ", signal " + std::to_string(result.term_signal) +
           "\n" + result.err);
      if (std::getenv("ORCH_SOAK_DEBUG"))
        std::fprintf(stderr, "=== exit %d signal %d\n%s\n", result.exit_code, result.term_signal, result.err.c_str());
    }
    ++tally.groups;
    tally.concurrent += size > 1;
    NoteUnsettledRetrains();
    // A prepare Space pauses itself once it has published all it was to publish.
    if (!hub_.PublicationsPending(kPrepareSpace)) hub_.SetSpaceStage(kPrepareSpace, "PAUSED");
  }

  // Whether every command: run started has reported and ended: each writes a last line to its log.
  bool CommandRunsEnded() const {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(dir_.File("logs"), error)) {
      if (entry.path().extension() != ".log") continue;  // a record of the orchestrator's
      const std::string log = testing::ReadFile(entry.path().string());
      if (log.find(kReported) == std::string::npos && log.find(kNotReported) == std::string::npos) return false;
    }
    return true;
  }

  // Whether every label is idle with nothing left to publish and every command: run has reported:
  // the calm end is over.
  bool Settled() {
    if (!CommandRunsEnded()) return false;
    for (const LabelState& state : States())
      if (state.phase != Phase::kIdle) return false;
    return !hub_.PublicationsPending(kPrepareSpace) &&
           std::none_of(labels_.begin(), labels_.end(),
                        [&](const Label& label) { return hub_.PublicationsPending(Publisher(label.name)); });
  }

  // The calm end: no new corrections, faults, kills or unpublished datasets, jobs that end before
  // each pass, and waits long enough for any dataset still to come.
  void BecomeCalm() {
    std::lock_guard lock(script_mutex_);
    calm_ = true;
    env_["POLL_TIMEOUT"] = "5";
  }

  // Checks the invariants, prints the figures, and returns the exit status.
  int Report(const std::string& workers, int asked_passes, unsigned seed, double seconds, Tally& tally) {
    const std::map<std::pair<std::string, std::string>, int> retrains = Retrains();
    int duplicates = 0, documented = 0, untrained = 0, published = 0, total = 0;
    for (const auto& [key, count] : retrains) {
      total += count;
      if (count < 2) continue;
      if (unsettled_.contains(key) && KindOf(key.first) == Kind::kSpace) {
        documented += count - 1;
        continue;
      }
      duplicates += count - 1;
      tally.broken.push_back("version " + key.second + " of " + key.first + " was retrained " + std::to_string(count) +
                             " times");
    }
    for (const Label& label : labels_) {
      for (const std::string& version : hub_.VersionsPublished(label.dataset)) {
        if (version == "v0") continue;
        ++published;
        if (retrains.contains({label.name, version})) continue;
        ++untrained;
        tally.broken.push_back("version " + version + " of " + label.name + " was published but never retrained");
      }
    }
    std::printf(
        "| workers | passes (groups started together) | killed | faults injected (answers lost) | prepare starts | "
        "stale cycles abandoned | versions published | retrains | duplicate retrains | published but never retrained "
        "| time |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    std::printf("| %s | %d (%d) | %d | %d (%d) | %d | %d | %d | %d | %d | %d | %.0f s |\n", workers.c_str(),
                tally.passes, tally.concurrent, tally.kills, tally.faults, tally.lost_answers, PrepareStarts(),
                tally.abandoned, published, total, duplicates, untrained, seconds);
    std::printf("\nExit statuses: ");
    for (int code = 0; code < 256; ++code)
      if (tally.exit_codes[code]) std::printf("%d×%d ", code, tally.exit_codes[code]);
    std::printf("(killed passes have none). Repeats dropped by their Idempotency-Key: %d.", DroppedRepeats());
    std::printf(
        " Space restarts sent again in the one case the manual calls ambiguous (left unconfirmed after the Space "
        "carried it out, the pass killed or the answer lost, and the job ended before the next pass asked), not "
        "counted as duplicates: %d.",
        documented);
    std::printf("\nReplay: bench_soak --passes %d --workers %s --seed %u\n", asked_passes, workers.c_str(), seed);
    for (const std::string& line : tally.broken) std::printf("INVARIANT BROKEN: %s\n", line.c_str());
    if (!tally.broken.empty()) PrintHistory(tally);
    std::fflush(stdout);
    return tally.broken.empty() ? 0 : 1;
  }

 private:
  // Records what happened, for the history printed when an invariant breaks.
  void Note(const std::string& event) {
    std::lock_guard lock(history_mutex_);
    history_.push_back(FormatTimestamp(std::chrono::system_clock::now()) + " " + event);
  }

  // The world's events and the passes' log lines that concern what broke: the labels and versions
  // named in the broken invariants.
  void PrintHistory(const Tally& tally) {
    std::vector<std::string> needles = {"abandoning", "prepare restart", "exit "};
    for (const std::string& broken : tally.broken) {
      for (const Label& label : labels_)
        if (broken.find(" of " + label.name) != std::string::npos) needles.push_back(label.name);
      const size_t version = broken.find("version ");
      if (version != std::string::npos) needles.push_back(broken.substr(8, broken.find(' ', 8) - 8));
    }
    std::printf("\nWhat happened to them:\n");
    std::lock_guard lock(history_mutex_);
    for (const std::string& event : history_) {
      size_t start = 0;
      while (start < event.size()) {
        size_t end = event.find('\n', start);
        if (end == std::string::npos) end = event.size();
        const std::string line = event.substr(start, end - start);
        const bool routine =
            line.find("ready=false") != std::string::npos || line.find(" counts ") != std::string::npos;
        if (!routine && std::any_of(needles.begin(), needles.end(),
                                    [&](const std::string& needle) { return line.find(needle) != std::string::npos; }))
          std::printf("%s\n", line.c_str());
        start = end + 1;
      }
    }
  }

  // `name` tells apart the command lines of command: workers, which an orchestrator keeps a record of each of.
  std::string Target(Kind kind, const std::string& space, const std::string& name) const {
    switch (kind) {
      case Kind::kSpace: return space;
      case Kind::kWebhook: return "webhook:" + hooks_.url();
      case Kind::kCommand: return "command:'" + SelfPath() + "' --report " + runs_.url() + " --as " + name;
      case Kind::kJob: return name == "prepare" ? testing::PrepareJobTarget() : testing::RetrainJobTarget(name);
    }
    return space;
  }

  Kind KindOf(const std::string& label) const {
    for (const Label& l : labels_)
      if (l.name == label) return l.kind;
    return Kind::kSpace;
  }

  std::vector<LabelState> States() {
    std::vector<std::string> names;
    for (const Label& label : labels_) names.push_back(label.name);
    try {
      return OpenStateStore(database_->database_url())->LoadLabels(names);
    } catch (const DatabaseError&) {
      return {};  // no pass has created the state tables yet
    }
  }

  // What a prepare worker publishes when it starts: for each label of its cycle, its dataset at a
  // random moment in time for the cycle, or (outside the calm end, one time in ten) never. The cycle's
  // labels are those its request names (`labels`, comma-separated), each once per cycle, however
  // late the request comes; or, for a Space, whose restart carries nothing and replaces the run
  // before, those recorded as preparing and not yet confirmed before the restart.
  std::vector<std::pair<std::string, Publication>> PrepareScript(const std::string& labels) {
    std::vector<std::pair<std::string, Publication>> script;
    const auto now = std::chrono::system_clock::now();
    std::lock_guard lock(script_mutex_);
    for (const LabelState& state : States()) {
      if (state.phase != Phase::kPreparing || !state.prepare_requested_at) continue;
      const bool in_cycle = labels.empty() ? !state.prepare_confirmed
                                           : ("," + labels + ",").find("," + state.label + ",") != std::string::npos;
      if (!in_cycle) continue;
      if (!labels.empty() && !cycles_started_.insert({state.label, *state.prepare_requested_at}).second) continue;
      const std::string dataset = "owner/" + state.label;
      if (!calm_ && script_random_() % 10 == 0) {
        script.emplace_back(state.label, Publication::Never(dataset));
        Note(state.label + ": a prepare start that publishes nothing");
        continue;
      }
      const auto within = std::chrono::milliseconds(static_cast<int64_t>(kStaleAfter * kPublishedWithin * 1000));
      const auto due = *state.prepare_requested_at + std::chrono::milliseconds(script_random_() % within.count());
      const auto delay =
          std::max(std::chrono::milliseconds(0), std::chrono::ceil<std::chrono::milliseconds>(due - now));
      script.emplace_back(state.label, Publication::AfterDelay(dataset, kSamples, delay));
      Note(state.label + ": a prepare start that publishes at " + FormatTimestamp(due) + ", for the cycle of " +
           FormatTimestamp(*state.prepare_requested_at));
    }
    return script;
  }

  // Who publishes a label's datasets when the prepare worker is no Space.
  static std::string Publisher(const std::string& label) { return "prepare:" + label; }

  // A prepare request reaching a webhook, or a command run's report: the prepare worker starts. A
  // command's run lasts until all it publishes is out (the pass takes its exit for the end of the
  // prepare), so its report is answered only then.
  void OnDelivery(const WebhookReceiver::Received& received, bool command_run) {
    const std::optional<Act> act = ActOf(received);
    if (!act || !act->version.empty()) return;
    for (const auto& [label, publication] : PrepareScript(act->label))
      hub_.StartPublications(Publisher(label), {publication});
    if (!command_run) return;
    hub_.WaitFor(
        [&] {
          return std::none_of(labels_.begin(), labels_.end(), [&](const Label& label) {
            return ("," + act->label + ",").find("," + label.name + ",") != std::string::npos &&
                   hub_.PublicationsPending(Publisher(label.name));
          });
        },
        30s);
  }

  // One fault, waiting for the next requests that meet it: the Hub's (on a label's metadata, a
  // restart or a runtime read) or, when a worker is one, the webhook receiver's. One in four
  // carries the request out and loses its answer.
  void InjectRandomFault(Tally& tally) {
    ++tally.faults;
    const bool to_webhooks = Uses(Kind::kWebhook) && random_() % 4 == 0;
    const int times = 1 + static_cast<int>(random_() % 3);
    const int gateway = random_() % 2 == 0 ? 502 : 504;
    const int choice = static_cast<int>(random_() % 8);
    const bool lost = choice >= 6;
    tally.lost_answers += lost;
    if (to_webhooks) {
      using WebhookFault = WebhookReceiver::Fault;
      if (lost) {
        hooks_.InjectFault(choice == 6 ? WebhookFault::CarryOutThenClose(times)
                                       : WebhookFault::CarryOutThenStatus(gateway, times));
      } else {
        hooks_.InjectFault(WebhookFault::Status(choice % 2 == 0 ? 503 : gateway, times));
      }
      return;
    }
    const char* paths[] = {"owner/department/resolve", "owner/urgency/resolve", "/restart", "/runtime", "/api/jobs/"};
    // A Job's run, listing, reading or log, when some worker is a Job.
    const std::string path = paths[random_() % (Uses(Kind::kJob) ? 5 : 4)];
    switch (choice) {
      case 0: hub_.InjectFault(path, Fault::Status(503, times)); break;
      case 1: hub_.InjectFault(path, Fault::RetryAfter(0)); break;
      case 2: hub_.InjectFault(path, Fault::Of(Fault::Kind::kCloseConnection)); break;
      case 3: hub_.InjectFault(path, Fault::Status(500)); break;
      case 4:
      case 5: hub_.InjectFault(path, Fault::Status(gateway, times)); break;
      case 6: hub_.InjectFault(path, Fault::CarryOutThenClose(times)); break;
      default: hub_.InjectFault(path, Fault::CarryOutThenStatus(gateway, times)); break;
    }
  }

  bool Uses(Kind kind) const {
    return prepare_kind_ == kind ||
           std::any_of(labels_.begin(), labels_.end(), [&](const Label& label) { return label.kind == kind; });
  }

  // Retrain Spaces whose job has ended pause themselves, as the real ones do: some at random
  // before a group of passes (`all`: every one), the others by EndJobsInTime.
  void LetRetrainJobsEnd(bool all) {
    for (const Label& label : labels_)
      if (label.kind == Kind::kSpace && (all || random_() % 2 == 0)) hub_.SetSpaceStage(label.space, "PAUSED");
    for (const FakeHubJobs::Job& job : hub_.jobs().WithLabel("orchestrator-role", "retrain"))
      if (job.stage == "RUNNING" && (all || random_() % 2 == 0)) hub_.jobs().Finish(job.id, "COMPLETED");
  }

  // Until told to stop: a retrain Space or Job seen running for kJobsEndWithin ends, its job done,
  // and a prepare Job ends once the datasets it was to publish are out.
  void EndJobsInTime() {
    std::map<std::string, SteadyClock::time_point> running_since;
    while (!stop_jobs_) {
      for (const FakeHubJobs::Job& job : hub_.jobs().Jobs()) {
        if (job.stage != "RUNNING") continue;
        if (job.labels.at("orchestrator-role") == "prepare") {
          const std::string labels = "," + job.environment.at("ORCHESTRATOR_LABEL") + ",";
          if (std::none_of(labels_.begin(), labels_.end(), [&](const Label& label) {
                return labels.find("," + label.name + ",") != std::string::npos &&
                       hub_.PublicationsPending(Publisher(label.name));
              }))
            hub_.jobs().Finish(job.id, "COMPLETED");
        } else if (!running_since.contains(job.id)) {
          running_since[job.id] = SteadyClock::now();
        } else if (SteadyClock::now() - running_since[job.id] >= kJobsEndWithin) {
          hub_.jobs().Finish(job.id, "COMPLETED");
        }
      }
      for (const Label& label : labels_) {
        if (label.kind != Kind::kSpace) continue;
        if (hub_.SpaceStage(label.space) == "PAUSED") {
          running_since.erase(label.space);
        } else if (!running_since.contains(label.space)) {
          running_since[label.space] = SteadyClock::now();
        } else if (SteadyClock::now() - running_since[label.space] >= kJobsEndWithin) {
          hub_.SetSpaceStage(label.space, "PAUSED");
        }
      }
      std::this_thread::sleep_for(kJobsWatched);
    }
  }

  // A retrain left unconfirmed after its worker carried it out: only a Space cannot tell a repeat
  // of it, which the orchestrator sends if the job has ended by the time the next pass asks.
  void NoteUnsettledRetrains() {
    const auto retrains = Retrains();
    for (const LabelState& state : States()) {
      if (state.phase != Phase::kRetraining || state.retrain_confirmed || !state.retrain_requested_at ||
          !state.dataset_version)
        continue;
      const std::pair<std::string, std::string> key{state.label, *state.dataset_version};
      if (retrains.contains(key)) unsettled_.insert(key);
    }
  }

  // How many times each (label, version) was retrained: a Space restart carried out (its answer
  // lost or not), or a request a webhook or command run acted on (a repeat of its key is dropped).
  std::map<std::pair<std::string, std::string>, int> Retrains() {
    std::map<std::pair<std::string, std::string>, int> retrains;
    const std::vector<FakeHub::RecordedCall> calls = hub_.Calls();
    for (const Label& label : labels_) {
      const std::string path = "/api/spaces/" + label.space + "/restart";
      if (label.kind == Kind::kJob) {
        for (const auto& [request, count] : testing::RetrainJobsStarted(hub_))
          if (request.first == label.name) retrains[request] += count;
        continue;
      }
      if (label.kind == Kind::kSpace) {
        for (const FakeHub::RecordedCall& call : calls)
          if (call.method == "POST" && call.path == path && call.carried_out)
            ++retrains[{label.name, call.trained_version}];
        continue;
      }
      const WebhookReceiver& receiver = label.kind == Kind::kWebhook ? hooks_ : runs_;
      for (const WebhookReceiver::Received& received : receiver.Requests()) {
        const std::optional<Act> act = ActOf(received);
        if (act && act->label == label.name && !act->version.empty()) ++retrains[{label.name, act->version}];
      }
    }
    return retrains;
  }

  int PrepareStarts() {
    if (prepare_kind_ == Kind::kJob)
      return static_cast<int>(hub_.jobs().WithLabel("orchestrator-role", "prepare").size());
    int starts = 0;
    if (prepare_kind_ == Kind::kSpace) {
      for (const FakeHub::RecordedCall& call : hub_.Calls())
        starts += call.method == "POST" && call.carried_out &&
                  call.path == std::string("/api/spaces/") + kPrepareSpace + "/restart";
      return starts;
    }
    for (const WebhookReceiver::Received& received : (prepare_kind_ == Kind::kWebhook ? hooks_ : runs_).Requests()) {
      const std::optional<Act> act = ActOf(received);
      starts += act && act->version.empty();
    }
    return starts;
  }

  int DroppedRepeats() const {
    int repeats = 0;
    for (const WebhookReceiver* receiver : {&hooks_, &runs_})
      for (const WebhookReceiver::Received& received : receiver->Requests()) repeats += received.repeat;
    return repeats;
  }

  static constexpr double kPollTimeout = 0.3;

  std::mt19937 random_;  // the main thread's
  std::mutex script_mutex_;
  std::mt19937 script_random_;  // the prepare worker's, under script_mutex_
  bool calm_ = false;           // under script_mutex_
  // The cycles (label, start) a request has started a prepare run for, under script_mutex_.
  std::set<std::pair<std::string, WallTime>> cycles_started_;
  Kind prepare_kind_ = Kind::kSpace;
  std::vector<Label> labels_;
  testing::TempDir dir_{"orch-soak"};
  std::unique_ptr<AppDatabase> database_;
  FakeHub hub_;
  WebhookReceiver hooks_;  // webhook: workers
  WebhookReceiver runs_;   // what command: workers report
  std::map<std::string, std::string> env_;
  std::set<std::pair<std::string, std::string>> unsettled_;
  std::atomic<bool> stop_jobs_{false};
  std::thread jobs_;  // runs EndJobsInTime
  std::mutex history_mutex_;
  std::vector<std::string> history_;  // under history_mutex_
};

// `bench_soak --report URL [--as NAME]`: a command: worker of the soak. Posts its request to URL as a webhook
// trigger would (the receiver acts on a key once); exits 0 once answered 2xx.
int ReportRun(const std::string& url) {
  auto from_env = [](const char* name) {
    const char* value = std::getenv(name);
    return std::string(value ? value : "");
  };
  StartRequest request;
  request.label = from_env("ORCHESTRATOR_LABEL");
  request.required_len = std::atoll(from_env("ORCHESTRATOR_REQUIRED_LEN").c_str());
  request.baseline_version = from_env("ORCHESTRATOR_BASELINE_VERSION");
  request.dataset_version = from_env("ORCHESTRATOR_DATASET_VERSION");
  request.idempotency_key = from_env("ORCHESTRATOR_IDEMPOTENCY_KEY");
  const size_t path = url.find("/hooks/");
  httplib::Client client(url.substr(0, path));
  client.set_read_timeout(60, 0);
  const httplib::Result result = client.Post(url.substr(path), {{"Idempotency-Key", request.idempotency_key}},
                                             WebhookBody(request), "application/json");
  if (!result || result->status >= 300) {
    std::fprintf(stderr, "%s\n", kNotReported);
    return 1;
  }
  std::printf("%s%s\n", kReported, request.idempotency_key.c_str());
  return 0;
}

int Usage() {
  std::fprintf(stderr, "usage: bench_soak [--passes N] [--seed N] [--workers space|command|webhook|hf-job|mixed]\n");
  return 2;
}

}  // namespace

int Main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "--report") return ReportRun(argv[2]);
  int passes = 1000;
  unsigned seed = 20261126;
  std::string workers = "space";
  try {
    for (int i = 1; i < argc; i += 2) {
      const std::string flag = argv[i];
      if (i + 1 >= argc) return Usage();
      if (flag == "--passes") {
        passes = std::stoi(argv[i + 1]);
      } else if (flag == "--seed") {
        seed = static_cast<unsigned>(std::stoul(argv[i + 1]));
      } else if (flag == "--workers") {
        workers = argv[i + 1];
        if (workers != "space" && workers != "command" && workers != "webhook" && workers != "hf-job" &&
            workers != "mixed")
          return Usage();
      } else {
        return Usage();
      }
    }
  } catch (const std::logic_error&) {  // a number that is none, or too large
    return Usage();
  }
  const std::string missing = testing::PostgresUnavailableReason();
  if (!missing.empty()) {
    std::fprintf(stderr, "bench_soak needs a PostgreSQL server: %s\n", missing.c_str());
    return testing::SkipPostgresRequested() ? 77 : 1;
  }
  std::printf("bench_soak --passes %d --workers %s --seed %u\n\n", passes, workers.c_str(), seed);
  std::fflush(stdout);
  World world(workers, seed);
  Tally tally;
  const auto start = SteadyClock::now();
  while (tally.passes < passes) world.RunGroup(/*calm=*/false, tally);
  // Calm passes until every cycle has ended (a cycle whose dataset never came has gone stale and
  // been prepared anew): what was published must now be retrained.
  world.BecomeCalm();
  const auto calm_until = SteadyClock::now() + kCalmEnd;
  for (int i = 0; i < 2 || (!world.Settled() && SteadyClock::now() < calm_until); ++i)
    world.RunGroup(/*calm=*/true, tally);
  // A command: run the last passes started may not have reported yet.
  while (!world.CommandRunsEnded() && SteadyClock::now() < calm_until) std::this_thread::sleep_for(20ms);
  if (!world.Settled()) tally.broken.push_back("the calm passes did not bring every label back to idle");
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  return world.Report(workers, passes, seed, seconds, tally);
}

}  // namespace orch::bench

int main(int argc, char** argv) { return orch::bench::Main(argc, argv); }
