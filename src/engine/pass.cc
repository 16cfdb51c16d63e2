#include "engine/pass.h"

#include <algorithm>
#include <cmath>

#include "engine/counts.h"
#include "engine/decision.h"
#include "util/error.h"

namespace orch {
namespace {

bool UnconfirmedRetrain(const LabelState& state) {
  return state.phase == Phase::kRetraining && !state.retrain_confirmed && state.dataset_version.has_value();
}

std::string Seconds(double seconds) { return std::to_string(static_cast<long long>(std::ceil(seconds))); }

}  // namespace

Pass::Pass(const Config& config, PassServices services) : config_(config), services_(services) {}

PassReport Pass::Run() {
  size_t count = config_.labels.size();
  report_ = PassReport{};
  report_.dry_run = config_.dry_run;
  report_.started_at = services_.clock.WallNow();
  report_.labels.resize(count);
  deadlines_.assign(count, Clock::TimePoint{});
  waiting_.assign(count, false);
  waiting_since_.assign(count, Clock::TimePoint{});
  for (size_t i = 0; i < count; ++i) {
    report_.labels[i].label = config_.labels[i].name;
    report_.labels[i].threshold = config_.labels[i].threshold;
  }
  try {
    std::vector<std::string> names;
    for (const LabelConfig& label : config_.labels) names.push_back(label.name);
    states_ = services_.state.LoadLabels(names);
    CountAndDecide();
    if (config_.dry_run) {
      ReportDryRun();
    } else {
      ResumeUnfinishedCycles();
      DeferWhileRetraining(NewlyPreparing());
      ReadBaselines(NewlyPreparing());
      StartPrepare(NewlyPreparing());
      WaitForDatasets();
      if (wait_for_retrains_) WaitForRetrains();
    }
  } catch (const DatabaseError& error) {
    report_.error = error.what();
    services_.log.Error("", "database", {{"error", error.what()}});
    for (size_t i = 0; i < count; ++i)
      if (report_.labels[i].outcome == Outcome::kPending)
        Finish(i, Outcome::kFailed, std::string("database: ") + error.what());
  }
  if (Cancelled())
    report_.cancelled_by = services_.cancellation->signal_number();
  report_.finished_at = services_.clock.WallNow();
  return report_;
}

// ---- counting -------------------------------------------------------------------------------

void Pass::CountAndDecide() {
  std::vector<int64_t> misclassified = CountMisclassified(config_, services_.database);
  std::vector<std::optional<int64_t>> pools = CountPools(config_, services_.database, misclassified);
  for (size_t i = 0; i < config_.labels.size(); ++i) {
    LabelReport& label = report_.labels[i];
    Decision decision = Decide(misclassified[i], pools[i], config_.correct_ratio, label.threshold);
    label.misclassified = misclassified[i];
    label.sampled_correct = decision.sampled_correct;
    label.dataset_len = decision.dataset_len;
    label.upper_bound = decision.upper_bound;
    label.prepare = decision.prepare;
    if (UpToDate(decision, states_[i])) {
      label.prepare = false;
      label.up_to_date = true;
    }
    services_.log.Info(label.label, "counts",
                       {{"misclassified", label.misclassified},
                        {"sampled_correct", label.sampled_correct},
                        {"dataset_len", label.dataset_len},
                        {"upper_bound", label.upper_bound},
                        {"threshold", label.threshold},
                        {"decision", label.prepare ? "prepare" : label.up_to_date ? "skip (no new data)" : "skip"},
                        {"phase", PhaseName(states_[i].phase)}});
  }
}

// ---- dry run --------------------------------------------------------------------------------

void Pass::ReportDryRun() {
  std::vector<size_t> fresh;
  for (size_t i = 0; i < report_.labels.size(); ++i)
    if (report_.labels[i].prepare && states_[i].phase == Phase::kIdle) fresh.push_back(i);
  DeferWhileRetraining(fresh);  // only asks the retrain workers: a dry run tells what a pass would do
  std::vector<size_t> pending;
  for (size_t i = 0; i < report_.labels.size(); ++i) {
    if (report_.labels[i].outcome != Outcome::kPending) continue;
    if (report_.labels[i].prepare || states_[i].phase != Phase::kIdle) {
      pending.push_back(i);
    } else {
      Finish(i, report_.labels[i].up_to_date ? Outcome::kUpToDate : Outcome::kBelowThreshold);
    }
  }
  std::vector<size_t> with_url;  // a dry run may lack a label's metadata URL
  for (size_t i : pending)
    if (!config_.labels[i].metadata_url.empty()) with_url.push_back(i);
  std::vector<MetadataRead> reads = ReadMetadataOf(with_url);
  for (size_t k = 0; k < reads.size(); ++k)
    if (reads[k].status == MetadataRead::Status::kOk) report_.labels[with_url[k]].baseline_version = reads[k].metadata->version_tag;
  bool fresh_cycle = std::any_of(pending.begin(), pending.end(), [this](size_t i) {
    return states_[i].phase == Phase::kIdle;
  });
  if (fresh_cycle)
    services_.log.Info("", "dry run: would restart the prepare worker",
                       {{"target", config_.prepare_target.empty() ? "(PREPARE_DATASET_REPO not set)" : config_.prepare_target}});
  for (size_t i : pending) {
    const LabelConfig& label = config_.labels[i];
    std::string action = states_[i].phase == Phase::kIdle
                             ? "dry run: would wait for a new dataset, then restart the retrain worker"
                             : std::string("dry run: would resume the unfinished cycle (phase ") +
                                   PhaseName(states_[i].phase) + ")";
    services_.log.Info(label.name, action,
                       {{"required_len", states_[i].required_len.value_or(report_.labels[i].dataset_len)},
                        {"current_version", report_.labels[i].baseline_version.value_or("none")},
                        {"retrain", label.retrain_target.empty() ? "(not set)" : label.retrain_target}});
    Finish(i, Outcome::kDryRun);
  }
}

// ---- resuming ---------------------------------------------------------------------------------

void Pass::ResumeUnfinishedCycles() {
  std::vector<size_t> unconfirmed_retrains, unconfirmed_prepares, stale;
  WallTime now = services_.clock.WallNow();
  for (size_t i = 0; i < states_.size(); ++i) {
    LabelState& state = states_[i];
    if (UnconfirmedRetrain(state)) {
      unconfirmed_retrains.push_back(i);
      continue;
    }
    if (state.phase == Phase::kRetraining) {  // confirmed: the cycle is over
      state.phase = Phase::kIdle;
      Save(i);
    }
    if (state.phase != Phase::kPreparing) continue;
    double age = std::chrono::duration<double>(now - state.prepare_requested_at.value_or(now)).count();
    if (age >= StaleAfter(config_)) {
      stale.push_back(i);
      continue;
    }
    ResumePreparing(i);
    if (!state.prepare_confirmed) unconfirmed_prepares.push_back(i);
  }
  if (!stale.empty()) CloseStaleCycles(stale);
  if (!unconfirmed_retrains.empty()) ResumeRetrains(unconfirmed_retrains);
  if (!unconfirmed_prepares.empty()) ConfirmPrepareRestart(unconfirmed_prepares);
  // Labels with no cycle to resume and not enough data are done.
  for (size_t i = 0; i < states_.size(); ++i)
    if (report_.labels[i].outcome == Outcome::kPending && !waiting_[i] && !report_.labels[i].prepare)
      Finish(i, report_.labels[i].up_to_date ? Outcome::kUpToDate : Outcome::kBelowThreshold);
}

// A cycle too old to wait for any longer gets one last look: a dataset the worker published
// after the waits ended is retrained now, never skipped; otherwise the cycle is abandoned and
// the label decides afresh.
void Pass::CloseStaleCycles(const std::vector<size_t>& stale) {
  std::vector<MetadataRead> reads = ReadMetadataOf(stale);
  std::vector<size_t> ready, abandoned;
  for (size_t k = 0; k < stale.size(); ++k) {
    size_t i = stale[k];
    LabelState& state = states_[i];
    const MetadataRead& read = reads[k];
    if (IsCycleDataset(i, read)) {
      report_.labels[i].prepare = true;
      report_.labels[i].resumed = true;
      report_.labels[i].baseline_version = state.baseline_version;
      report_.labels[i].dataset_version = read.metadata->version_tag;
      report_.labels[i].dataset_samples = read.metadata->num_samples;
      ready.push_back(i);
      continue;
    }
    services_.log.Warning(report_.labels[i].label, "abandoning a stale prepare cycle",
                          {{"stale_after", StaleAfter(config_)},
                           {"baseline_version", state.baseline_version.value_or("none")},
                           {"metadata", read.status == MetadataRead::Status::kOk ? read.metadata->version_tag
                                                                                 : read.detail}});
    state.phase = Phase::kIdle;
    abandoned.push_back(i);
  }
  Save(abandoned);
  if (!ready.empty()) StartRetrains(ready);
}

void Pass::ResumePreparing(size_t index) {
  const LabelState& state = states_[index];
  LabelReport& label = report_.labels[index];
  label.prepare = true;
  label.resumed = true;
  label.baseline_version = state.baseline_version;
  double age = std::chrono::duration<double>(services_.clock.WallNow() - *state.prepare_requested_at).count();
  double remaining = std::max(0.0, StaleAfter(config_) - age);
  waiting_[index] = true;
  waiting_since_[index] = services_.clock.Now() - SecondsToDuration(std::max(0.0, age));
  deadlines_[index] = services_.clock.Now() + SecondsToDuration(std::min(config_.poll_timeout, remaining));
  services_.log.Info(label.label, "resuming the wait for a dataset an earlier pass asked for",
                     {{"required_len", state.required_len.value_or(0)},
                      {"baseline_version", state.baseline_version.value_or("none")},
                      {"age_seconds", static_cast<long long>(age)}});
}

// Whether one of the labels' new datasets is out already: then the recorded restart happened,
// whatever stage the worker shows now (it may have published and paused itself).
bool Pass::AnyDatasetPublished(const std::vector<size_t>& labels) {
  std::vector<MetadataRead> reads = ReadMetadataOf(labels);
  for (size_t k = 0; k < labels.size(); ++k)
    if (IsCycleDataset(labels[k], reads[k])) return true;
  return false;
}

void Pass::ConfirmPrepareRestart(const std::vector<size_t>& unconfirmed) {
  std::string target = config_.prepare_target;
  if (AnyDatasetPublished(unconfirmed)) {
    services_.log.Info("", "confirmed the prepare restart an earlier pass recorded: its dataset is published",
                       {{"target", target}});
    for (size_t i : unconfirmed) states_[i].prepare_confirmed = true;
    Save(unconfirmed);
    return;
  }
  WorkerState worker = services_.trigger.Inspect(std::span<const std::string>(&target, 1)).front();
  if (worker.health == WorkerState::Health::kUnknown) {
    // Could not ask: sending it again might kill a run in progress. Wait, and ask next pass.
    services_.log.Warning("", "could not tell whether the recorded prepare restart happened; waiting without resending",
                          {{"target", target}, {"detail", worker.detail}});
    return;
  }
  bool restarted = worker.health == WorkerState::Health::kActive;
  if (!restarted) {
    services_.log.Warning("", "the prepare restart an earlier pass recorded did not happen; sending it again",
                          {{"target", target}, {"detail", worker.detail}});
    StartRequest request = PrepareRequest(unconfirmed);
    StartResult result = services_.trigger.Start(std::span<const StartRequest>(&request, 1)).front();
    restarted = result.ok;
    if (!result.ok && !MayHaveStarted(result)) {
      // Certainly not sent: no cycle is under way, and the next pass decides afresh.
      for (size_t i : unconfirmed) states_[i].phase = Phase::kIdle;
      Save(unconfirmed);
    }
    if (!result.ok)
      for (size_t i : unconfirmed) Finish(i, Outcome::kFailed, "restarting the prepare worker " + target + " failed: " + result.detail);
  }
  if (!restarted) return;
  for (size_t i : unconfirmed) states_[i].prepare_confirmed = true;
  Save(unconfirmed);
}

void Pass::ResumeRetrains(const std::vector<size_t>& unconfirmed) {
  std::vector<size_t> asked, resend, confirmed;
  for (size_t i : unconfirmed) {
    report_.labels[i].resumed = true;
    report_.labels[i].prepare = true;
    report_.labels[i].dataset_version = states_[i].dataset_version;
    if (states_[i].retrain_requested_at) {
      asked.push_back(i);
    } else {
      services_.log.Info(report_.labels[i].label, "sending the retrain restart an earlier pass could not send",
                         {{"dataset_version", *states_[i].dataset_version}});
      resend.push_back(i);
    }
  }
  std::vector<WorkerState> workers = InspectRetrainWorkers(asked);
  for (size_t k = 0; k < asked.size(); ++k) {
    size_t i = asked[k];
    LabelState& state = states_[i];
    if (workers[k].health == WorkerState::Health::kUnknown && state.last_retrained_version != state.dataset_version) {
      // Could not ask: a second restart might retrain the version twice. Ask again next pass.
      Finish(i, Outcome::kFailed, "could not tell whether the retrain restart for " + *state.dataset_version +
                                      " happened (" + workers[k].detail + "); the next pass asks again");
      continue;
    }
    if (state.last_retrained_version == state.dataset_version || workers[k].health == WorkerState::Health::kActive) {
      services_.log.Info(report_.labels[i].label, "confirmed the retrain restart an earlier pass sent",
                         {{"dataset_version", *state.dataset_version}, {"detail", workers[k].detail}});
      state.retrain_confirmed = true;
      state.last_retrained_version = state.dataset_version;
      state.last_retrained_at = state.retrain_requested_at;
      state.phase = Phase::kIdle;
      confirmed.push_back(i);
    } else {
      resend.push_back(i);
    }
  }
  Save(confirmed);
  for (size_t i : confirmed) Finish(i, Outcome::kRetrainTriggered);
  if (!resend.empty()) StartRetrains(resend);
}

// ---- a new cycle ------------------------------------------------------------------------------

std::vector<size_t> Pass::NewlyPreparing() const {
  std::vector<size_t> labels;
  bool in_flight = std::any_of(waiting_.begin(), waiting_.end(), [](bool waiting) { return waiting; });
  for (size_t i = 0; i < report_.labels.size(); ++i) {
    if (report_.labels[i].outcome != Outcome::kPending || waiting_[i] || !report_.labels[i].prepare) continue;
    if (in_flight) continue;  // see StartPrepare
    labels.push_back(i);
  }
  return labels;
}

// A label whose retrain worker is still running the retrain this orchestrator started waits for
// it: restarting the worker for the next version would kill that run, and if this pass died
// around that restart, the run's stage would later pass for the new version's restart.
void Pass::DeferWhileRetraining(const std::vector<size_t>& labels) {
  const WallTime now = services_.clock.WallNow();
  std::vector<size_t> recent;
  for (size_t i : labels) {
    const std::optional<WallTime>& last = states_[i].last_retrained_at;
    if (config_.labels[i].retrain_target.empty()) continue;  // a dry run may lack it
    if (last && std::chrono::duration<double>(now - *last).count() < StaleAfter(config_)) recent.push_back(i);
  }
  std::vector<WorkerState> workers = InspectRetrainWorkers(recent);
  for (size_t k = 0; k < recent.size(); ++k) {
    if (workers[k].health != WorkerState::Health::kActive) continue;
    const LabelState& state = states_[recent[k]];
    Finish(recent[k], Outcome::kDeferred,
           "the retrain worker " + config_.labels[recent[k]].retrain_target + " is still running the retrain of " +
               state.last_retrained_version.value_or("the last dataset") + " (" + workers[k].detail +
               "); the next dataset is prepared once it is done");
  }
}

void Pass::ReadBaselines(const std::vector<size_t>& labels) {
  std::vector<MetadataRead> reads = ReadMetadataOf(labels);
  for (size_t k = 0; k < labels.size(); ++k) {
    size_t i = labels[k];
    const MetadataRead& read = reads[k];
    switch (read.status) {
      case MetadataRead::Status::kOk:
        report_.labels[i].baseline_version = read.metadata->version_tag;
        services_.log.Info(report_.labels[i].label, "baseline", {{"version", read.metadata->version_tag},
                                                                  {"num_samples", read.metadata->num_samples}});
        break;
      case MetadataRead::Status::kNotFound:
      case MetadataRead::Status::kInvalid:
        // No usable current dataset: any valid version that appears will be a new one.
        services_.log.Info(report_.labels[i].label, "baseline", {{"version", "none"}, {"detail", read.detail}});
        break;
      case MetadataRead::Status::kRefused:
      case MetadataRead::Status::kUnavailable:
        Finish(i, Outcome::kFailed,
               "cannot read the current dataset version, so a new one could not be recognised: " + read.detail);
        break;
    }
  }
}

void Pass::StartPrepare(const std::vector<size_t>& labels) {
  // Labels that still need a dataset while a cycle is in flight wait for the next pass:
  // restarting the prepare Space now would kill the run the earlier pass started.
  for (size_t i = 0; i < report_.labels.size(); ++i)
    if (report_.labels[i].outcome == Outcome::kPending && !waiting_[i] && report_.labels[i].prepare &&
        std::find(labels.begin(), labels.end(), i) == labels.end())
      Finish(i, Outcome::kDeferred, "a prepare cycle started by an earlier pass is still in flight");
  if (labels.empty()) return;

  WallTime now = services_.clock.WallNow();
  for (size_t i : labels) {
    LabelState& state = states_[i];
    state.phase = Phase::kPreparing;
    state.baseline_version = report_.labels[i].baseline_version;
    state.required_len = report_.labels[i].dataset_len;
    state.prepare_requested_at = now;
    state.prepare_confirmed = false;
    state.dataset_version.reset();
    state.retrain_requested_at.reset();
    state.retrain_confirmed = false;
  }
  Save(labels);  // recorded before the restart, so a pass killed during it resumes instead of repeating it
  if (!StillHoldLock(labels)) return;
  const StartRequest request = PrepareRequest(labels);
  StartResult result = services_.trigger.Start(std::span<const StartRequest>(&request, 1)).front();
  if (!result.ok && MayHaveStarted(result)) {
    // The restart may have reached the worker. Left unconfirmed, the next pass looks for its
    // dataset and asks the worker instead of restarting it again.
    const bool stopped = Cancelled();
    for (size_t i : labels)
      Finish(i, stopped ? Outcome::kCancelled : Outcome::kFailed,
             stopped ? "the pass was stopped during the prepare restart"
                     : "restarting the prepare worker " + request.target + " failed: " + result.detail +
                           "; it may have reached the worker, so the next pass looks for its dataset before sending "
                           "it again");
    return;
  }
  if (!result.ok) {
    services_.log.Error("", "prepare restart failed", {{"target", request.target}, {"error", result.detail}});
    for (size_t i : labels) states_[i].phase = Phase::kIdle;
    Save(labels);
    for (size_t i : labels)
      Finish(i, Outcome::kFailed, "restarting the prepare worker " + request.target + " failed: " + result.detail);
    return;
  }
  report_.prepare_triggered = true;
  services_.log.Info("", "prepare restart requested",
                     {{"target", request.target}, {"labels", request.label}, {"detail", result.detail}});
  Clock::TimePoint started = services_.clock.Now();
  for (size_t i : labels) states_[i].prepare_confirmed = true;
  Save(labels);
  for (size_t i : labels) {
    waiting_[i] = true;
    waiting_since_[i] = started;
    deadlines_[i] = started + SecondsToDuration(config_.poll_timeout);
  }
}

void Pass::WaitForDatasets() {
  while (!Waiting().empty()) {
    Clock::TimePoint round_started = services_.clock.Now();
    const bool last_look = prepare_finished_;
    PollOnce();
    if (last_look) FailUnpublished();
    if (!Waiting().empty()) WatchPrepareWorker();
    ExpireDeadlines();
    if (Waiting().empty() || StopRequested()) return;
    Clock::TimePoint next = round_started + SecondsToDuration(config_.poll_interval);
    for (size_t i : Waiting()) next = std::min(next, deadlines_[i]);
    services_.clock.SleepUntil(next);
    if (StopRequested()) return;
  }
}

// Checked right before each restart: a pass whose lease ran out while it waited must not act on
// what may have become another pass's cycle. Its labels stay recorded for that other pass.
bool Pass::StillHoldLock(const std::vector<size_t>& labels) {
  if (services_.lock == nullptr || services_.lock->Renew()) return true;
  report_.error = "the run lock was lost (its lease expired, or its connection dropped); this pass stops";
  for (size_t i : labels) Finish(i, Outcome::kFailed, *report_.error);
  for (size_t i : Waiting()) Finish(i, Outcome::kFailed, *report_.error);
  return false;
}

bool Pass::StopRequested() {
  std::string reason;
  if (Cancelled()) {
    reason = "the pass was stopped by signal " + std::to_string(services_.cancellation->signal_number()) +
             "; the next pass resumes the wait";
  } else if (services_.lock != nullptr && !services_.lock->Renew()) {
    reason = "the run lock was lost (its lease expired and another pass took it); this pass stops";
    report_.error = reason;
  } else {
    return false;
  }
  for (size_t i : Waiting()) Finish(i, Outcome::kCancelled, reason);
  return true;
}

void Pass::PollOnce() {
  std::vector<size_t> waiting = Waiting();
  std::vector<MetadataRead> reads = ReadMetadataOf(waiting);
  std::vector<size_t> ready;
  for (size_t k = 0; k < waiting.size(); ++k) {
    size_t i = waiting[k];
    LabelReport& label = report_.labels[i];
    int64_t required = states_[i].required_len.value_or(label.dataset_len);
    const MetadataRead& read = reads[k];
    if (read.status == MetadataRead::Status::kOk) {
      const DatasetMetadata& metadata = *read.metadata;
      bool is_new = IsNewDataset(metadata, states_[i].baseline_version, required);
      services_.log.Info(label.label, "poll",
                         {{"current_len", metadata.num_samples},
                          {"required_len", required},
                          {"version", metadata.version_tag},
                          {"ready", is_new}});
      if (is_new) {
        label.dataset_version = metadata.version_tag;
        label.dataset_samples = metadata.num_samples;
        ready.push_back(i);
      }
    } else if (read.status == MetadataRead::Status::kRefused || read.status == MetadataRead::Status::kInvalid) {
      Finish(i, Outcome::kFailed, read.detail);
    } else {
      services_.log.Info(label.label, "poll",
                         {{"required_len", required}, {"status", MetadataStatusName(read.status)},
                          {"detail", read.detail}});
    }
  }
  if (!ready.empty()) StartRetrains(ready);
}

void Pass::StartRetrains(const std::vector<size_t>& ready) {
  std::vector<size_t> starting;
  std::vector<StartRequest> requests;
  WallTime now = services_.clock.WallNow();
  for (size_t i : ready) {
    LabelState& state = states_[i];
    const LabelReport& label = report_.labels[i];
    std::string version = label.dataset_version.value_or(state.dataset_version.value_or(""));
    if (state.last_retrained_version == version) {
      Finish(i, Outcome::kFailed, "dataset " + version + " was already retrained; it is not retrained twice");
      continue;
    }
    state.phase = Phase::kRetraining;
    state.dataset_version = version;
    state.retrain_requested_at = now;
    state.retrain_confirmed = false;
    starting.push_back(i);
    requests.push_back(RetrainRequest(i));
  }
  Save(starting);  // recorded before the restarts: a pass killed now confirms or repeats each, once
  if (starting.empty() || !StillHoldLock(starting)) return;
  std::vector<StartResult> results = services_.trigger.Start(requests);
  std::vector<size_t> confirmed, unsent;
  for (size_t k = 0; k < starting.size(); ++k) {
    size_t i = starting[k];
    LabelState& state = states_[i];
    if (!results[k].ok) {
      const bool maybe_started = MayHaveStarted(results[k]);
      if (!maybe_started) {
        // Certainly not sent: the next pass sends it without asking the worker, whose stage may
        // come from an earlier version's run and would wrongly confirm this one.
        state.retrain_requested_at.reset();
        unsent.push_back(i);
      }
      Finish(i, Outcome::kFailed,
             "restarting the retrain worker " + requests[k].target + " failed: " + results[k].detail +
                 (maybe_started ? "; it may have reached the worker, so the next pass asks the worker before sending it again"
                                : "; the next pass sends it again"));
      continue;
    }
    state.retrain_confirmed = true;
    state.last_retrained_version = state.dataset_version;
    state.last_retrained_at = services_.clock.WallNow();
    state.phase = Phase::kIdle;
    confirmed.push_back(i);
    services_.log.Info(report_.labels[i].label, "retrain restart requested",
                       {{"target", requests[k].target},
                        {"dataset_version", *state.dataset_version},
                        {"detail", results[k].detail}});
  }
  std::vector<size_t> settled = confirmed;
  settled.insert(settled.end(), unsent.begin(), unsent.end());
  Save(settled);
  for (size_t i : confirmed) Finish(i, Outcome::kRetrainTriggered);
}

// Whether a failed restart may still have reached the worker: then only asking it can tell.
bool Pass::MayHaveStarted(const StartResult& result) const { return result.maybe_started || Cancelled(); }

bool Pass::Cancelled() const { return services_.cancellation != nullptr && services_.cancellation->cancelled(); }

void Pass::WatchPrepareWorker() {
  std::string target = config_.prepare_target;
  WorkerState state = services_.trigger.Inspect(std::span<const std::string>(&target, 1)).front();
  if (state.health == WorkerState::Health::kFailed) {
    const std::vector<size_t> waiting = Waiting();
    for (size_t i : waiting) states_[i].phase = Phase::kIdle;  // the cycle is over: a later pass may prepare anew
    Save(waiting);
    for (size_t i : waiting) Finish(i, Outcome::kFailed, "the prepare worker " + target + " failed: " + state.detail);
  } else if (state.health == WorkerState::Health::kActive) {
    prepare_seen_active_ = true;
  } else if (state.health == WorkerState::Health::kFinished && state.evidence == WorkerState::Evidence::kProcess) {
    // A local worker's exit is certain: one more look at the metadata, then the wait is over.
    prepare_finished_ = true;
  } else if (state.health == WorkerState::Health::kFinished && prepare_seen_active_ && !prepare_finish_noted_) {
    // Only after it was seen running: right after a restart the runtime may still show the old stage.
    prepare_finish_noted_ = true;
    services_.log.Warning("", "the prepare worker stopped before every dataset appeared; still waiting",
                          {{"target", target}, {"detail", state.detail}});
  }
}

void Pass::FailUnpublished() {
  for (size_t i : Waiting())
    Finish(i, Outcome::kFailed,
           "the prepare worker " + config_.prepare_target + " finished without publishing a dataset with at least " +
               std::to_string(states_[i].required_len.value_or(0)) + " samples and a version other than " +
               states_[i].baseline_version.value_or("none") + "; see its log in " + config_.worker_log_dir);
}

// ---- waiting for the retrains (--wait) -------------------------------------------------------

void Pass::WaitForRetrains() {
  std::vector<size_t> running;
  for (size_t i = 0; i < report_.labels.size(); ++i)
    if (report_.labels[i].outcome == Outcome::kRetrainTriggered) running.push_back(i);
  std::vector<bool> seen_active(report_.labels.size(), false);
  const Clock::TimePoint deadline = services_.clock.Now() + SecondsToDuration(config_.poll_timeout);
  while (!running.empty()) {
    std::vector<WorkerState> workers = InspectRetrainWorkers(running);
    std::vector<size_t> still;
    for (size_t k = 0; k < running.size(); ++k)
      if (!RetrainEnded(running[k], workers[k], seen_active[running[k]])) still.push_back(running[k]);
    running = std::move(still);
    if (running.empty()) return;
    const bool stopped = Cancelled();
    if (stopped || services_.clock.Now() >= deadline) {
      for (size_t i : running) {
        report_.labels[i].retrain_result = stopped ? "cancelled" : "timeout";
        services_.log.Warning(report_.labels[i].label, stopped ? "stopped waiting for the retrain worker"
                                                               : "the retrain worker did not finish within POLL_TIMEOUT",
                              {{"target", config_.labels[i].retrain_target}});
      }
      return;
    }
    services_.clock.SleepUntil(std::min(deadline, services_.clock.Now() + SecondsToDuration(config_.poll_interval)));
  }
}

// Whether the label's retrain worker is done, recording how it ended.
bool Pass::RetrainEnded(size_t index, const WorkerState& worker, std::vector<bool>::reference seen_active) {
  LabelReport& label = report_.labels[index];
  const std::string& target = config_.labels[index].retrain_target;
  switch (worker.health) {
    case WorkerState::Health::kActive:
      seen_active = true;
      return false;
    case WorkerState::Health::kUnknown:
      return false;
    case WorkerState::Health::kFailed:
      label.retrain_result = "failed";
      label.retrain_detail = worker.detail;
      Finish(index, Outcome::kFailed, "the retrain worker " + target + " failed: " + worker.detail);
      return true;
    case WorkerState::Health::kFinished:
      // A stage may still be the one from before the restart: finished counts once it ran.
      if (!seen_active && worker.evidence == WorkerState::Evidence::kStage) return false;
      label.retrain_result = worker.evidence == WorkerState::Evidence::kNone ? "not waitable" : "finished";
      label.retrain_detail = worker.detail;
      if (!worker.decision.empty()) label.retrain_decision = worker.decision;
      services_.log.Info(label.label, "retrain worker finished",
                         {{"target", target}, {"detail", worker.detail}, {"decision", worker.decision}});
      return true;
  }
  return false;
}

void Pass::ExpireDeadlines() {
  Clock::TimePoint now = services_.clock.Now();
  for (size_t i : Waiting()) {
    if (now < deadlines_[i]) continue;
    const LabelState& state = states_[i];
    // The state stays `preparing`: a later pass resumes the wait until the cycle is stale.
    Finish(i, Outcome::kTimeout,
           "no dataset with at least " + std::to_string(state.required_len.value_or(0)) +
               " samples and a version other than " + state.baseline_version.value_or("none") +
               " appeared within POLL_TIMEOUT=" + Seconds(config_.poll_timeout) + " s");
  }
}

// ---- requests to the workers ----------------------------------------------------------------

// Whole seconds since the epoch: what survives a round trip through the state tables.
long long WholeSeconds(WallTime time) {
  return std::chrono::duration_cast<std::chrono::seconds>(time.time_since_epoch()).count();
}

// One request for the labels' prepare cycle; a repeat of it (a pass resuming the cycle) carries
// the same idempotency key.
StartRequest Pass::PrepareRequest(const std::vector<size_t>& labels) const {
  StartRequest request;
  request.target = config_.prepare_target;
  std::string cycle;
  for (size_t i : labels) {
    const LabelState& state = states_[i];
    request.label += (request.label.empty() ? "" : ",") + report_.labels[i].label;
    request.required_len = std::max(request.required_len, state.required_len.value_or(0));
    cycle += state.baseline_version.value_or("") + "@" + std::to_string(state.required_len.value_or(0)) + "@" +
             std::to_string(WholeSeconds(state.prepare_requested_at.value_or(WallTime{}))) + ";";
  }
  if (labels.size() == 1) request.baseline_version = states_[labels.front()].baseline_version.value_or("");
  request.idempotency_key = IdempotencyKey(request.label, cycle);
  return request;
}

StartRequest Pass::RetrainRequest(size_t index) const {
  const LabelState& state = states_[index];
  const LabelReport& label = report_.labels[index];
  StartRequest request;
  request.target = config_.labels[index].retrain_target;
  request.label = label.label;
  request.required_len = state.required_len.value_or(label.dataset_len);
  request.baseline_version = state.baseline_version.value_or("");
  request.dataset_version = state.dataset_version.value_or("");
  request.idempotency_key = IdempotencyKey(request.label, request.dataset_version);
  return request;
}

// ---- the labels' datasets and workers -------------------------------------------------------

std::vector<MetadataRead> Pass::ReadMetadataOf(const std::vector<size_t>& labels) {
  std::vector<std::string> urls;
  for (size_t i : labels) urls.push_back(config_.labels[i].metadata_url);
  return services_.hub.ReadMetadata(urls);
}

// Whether `read` shows the new dataset the label's recorded cycle asked for.
bool Pass::IsCycleDataset(size_t index, const MetadataRead& read) const {
  const LabelState& state = states_[index];
  return read.status == MetadataRead::Status::kOk &&
         IsNewDataset(*read.metadata, state.baseline_version, state.required_len.value_or(0));
}

// Asks each label's retrain worker how it is doing (no call for no label).
std::vector<WorkerState> Pass::InspectRetrainWorkers(const std::vector<size_t>& labels) {
  if (labels.empty()) return {};
  std::vector<std::string> targets;
  for (size_t i : labels) targets.push_back(config_.labels[i].retrain_target);
  return services_.trigger.Inspect(targets);
}

// ---- bookkeeping ----------------------------------------------------------------------------

void Pass::Save(size_t index) { Save(std::vector<size_t>{index}); }

void Pass::Save(const std::vector<size_t>& indices) {
  if (indices.empty()) return;
  std::vector<LabelState> states;
  WallTime now = services_.clock.WallNow();
  for (size_t i : indices) {
    states_[i].updated_at = now;
    states.push_back(states_[i]);
  }
  services_.state.SaveLabels(states);
}

void Pass::Finish(size_t index, Outcome outcome, std::optional<std::string> error) {
  LabelReport& label = report_.labels[index];
  label.outcome = outcome;
  label.error = std::move(error);
  if (waiting_[index]) label.waited_seconds = SecondsSincePrepare(index);
  waiting_[index] = false;
  Fields fields = {{"outcome", OutcomeName(outcome)}};
  if (label.error) fields.push_back({"error", *label.error});
  Level level = outcome == Outcome::kFailed ? Level::kError
                : outcome == Outcome::kTimeout || outcome == Outcome::kCancelled ? Level::kWarning
                                                                                 : Level::kInfo;
  services_.log.Event(level, label.label, "finished", fields);
  services_.log.LabelDone(label.label);
}

std::vector<size_t> Pass::Waiting() const {
  std::vector<size_t> waiting;
  for (size_t i = 0; i < waiting_.size(); ++i)
    if (waiting_[i]) waiting.push_back(i);
  return waiting;
}

double Pass::SecondsSincePrepare(size_t index) const {
  return std::chrono::duration<double>(services_.clock.Now() - waiting_since_[index]).count();
}

}  // namespace orch
