#include "engine/pass.h"

#include <algorithm>
#include <cmath>

#include "config/target.h"
#include "engine/counts.h"
#include "engine/decision.h"
#include "util/error.h"

namespace orch {
namespace {

bool UnconfirmedRetrain(const LabelState& state) {
  return state.phase == Phase::kRetraining && !state.retrain_confirmed && state.dataset_version.has_value();
}

std::string Seconds(double seconds) { return std::to_string(static_cast<long long>(std::ceil(seconds))); }

std::string DecisionText(const LabelReport& report, bool forced) {
  if (forced)
    return report.evidence.hold == Hold::kUpToDate ? "prepare (forced: too few new corrections)"
                                                   : "prepare (forced: within the retrain cooldown)";
  if (report.prepare) return "prepare";
  switch (report.evidence.hold) {
    case Hold::kPaused: return "skip (paused)";
    case Hold::kUpToDate: return "skip (too few new corrections)";
    case Hold::kCoolingDown:
      return "skip (retrain cooldown until " + FormatTimestamp(*report.evidence.cooldown_until) + ")";
    case Hold::kNone: break;
  }
  return "skip";
}

// How a label that is not prepared ends: what holds it, or below its threshold.
Outcome RestingOutcome(const LabelReport& report) {
  switch (report.evidence.hold) {
    case Hold::kPaused: return Outcome::kPaused;
    case Hold::kUpToDate: return Outcome::kUpToDate;
    case Hold::kCoolingDown: return Outcome::kCoolingDown;
    case Hold::kNone: break;
  }
  return Outcome::kBelowThreshold;
}

}  // namespace

Pass::LabelRun::LabelRun(const LabelConfig& label) : config(label) {
  report.label = label.name;
  report.threshold = label.threshold;
}

Pass::Pass(const Config& config, PassServices services) : config_(config), services_(services) {}

PassReport Pass::Run() {
  report_ = PassReport{};
  report_.dry_run = config_.dry_run;
  report_.started_at = services_.clock.WallNow();
  labels_.clear();
  labels_.reserve(config_.labels.size());  // the records stay where they are: LabelSets point to them
  for (const LabelConfig& label : config_.labels) labels_.emplace_back(label);
  try {
    std::vector<std::string> names;
    for (const LabelConfig& label : config_.labels) names.push_back(label.name);
    std::vector<LabelState> states = services_.state.LoadLabels(names);
    for (size_t i = 0; i < labels_.size(); ++i) labels_[i].state = std::move(states[i]);
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
  } catch (const LockLostError& error) {
    LockLost(error.what());
  } catch (const DatabaseError& error) {
    if (!Cancelled() && LockGone()) {
      // On PostgreSQL the state is written through the connection that holds the lock: a write
      // that failed because it dropped lost the lock with it.
      LockLost(std::string("the run lock was lost with the connection that held it (") + error.what() +
               "); this pass stops");
    } else {
      report_.error = error.what();
      services_.log.Error("", "database", {{"error", error.what()}});
      // A statement cut short by the signal is the stop the operator asked for, not a failure.
      const Outcome outcome = Cancelled() ? Outcome::kCancelled : Outcome::kFailed;
      for (LabelRun& label : labels_)
        if (label.report.outcome == Outcome::kPending) Finish(label, outcome, std::string("database: ") + error.what());
    }
  }
  if (Cancelled()) report_.cancelled_by = services_.cancellation->signal_number();
  report_.finished_at = services_.clock.WallNow();
  for (const LabelRun& label : labels_) report_.labels.push_back(label.report);
  return report_;
}

// ---- counting -------------------------------------------------------------------------------

void Pass::CountAndDecide() {
  const WallTime now = services_.clock.WallNow();
  std::vector<int64_t> misclassified = CountMisclassified(config_, services_.database);
  std::vector<std::optional<int64_t>> pools = CountPools(config_, services_.database, misclassified);
  for (size_t i = 0; i < labels_.size(); ++i) {
    LabelRun& label = labels_[i];
    LabelReport& report = label.report;
    Decision decision = Decide(misclassified[i], pools[i], config_.correct_ratio, report.threshold);
    report.misclassified = misclassified[i];
    report.sampled_correct = decision.sampled_correct;
    report.dataset_len = decision.dataset_len;
    report.upper_bound = decision.upper_bound;
    report.prepare = decision.prepare;
    report.evidence = Weigh(decision, label.state, misclassified[i], label.config, now);
    const Hold hold = report.evidence.hold;
    const bool forced = force_ && decision.prepare && (hold == Hold::kUpToDate || hold == Hold::kCoolingDown);
    if (hold != Hold::kNone && !forced) report.prepare = false;
    services_.log.Info(report.label, "counts",
                       {{"misclassified", report.misclassified},
                        {"sampled_correct", report.sampled_correct},
                        {"dataset_len", report.dataset_len},
                        {"upper_bound", report.upper_bound},
                        {"threshold", report.threshold},
                        {"new", NewRowsText(report.evidence)},
                        {"decision", DecisionText(report, forced)},
                        {"phase", PhaseName(label.state.phase)}});
  }
}

// ---- dry run --------------------------------------------------------------------------------

void Pass::ReportDryRun() {
  LabelSet fresh;
  for (LabelRun& label : labels_)
    if (label.report.prepare && label.state.phase == Phase::kIdle) fresh.push_back(&label);
  DeferWhileRetraining(fresh);  // only asks the retrain workers: a dry run tells what a pass would do
  LabelSet pending;
  for (LabelRun& label : labels_) {
    if (label.report.outcome != Outcome::kPending) continue;
    if (label.report.prepare || label.state.phase != Phase::kIdle) {
      pending.push_back(&label);
    } else {
      Finish(label, RestingOutcome(label.report));
    }
  }
  LabelSet with_url;  // a dry run may lack a label's metadata URL
  for (LabelRun* label : pending)
    if (!label->config.metadata_url.empty()) with_url.push_back(label);
  std::vector<MetadataRead> reads = ReadMetadataOf(with_url);
  for (size_t k = 0; k < reads.size(); ++k)
    if (reads[k].status == MetadataRead::Status::kOk)
      with_url[k]->report.baseline_version = reads[k].metadata->version_tag;
  bool fresh_cycle = std::any_of(pending.begin(), pending.end(),
                                 [](const LabelRun* label) { return label->state.phase == Phase::kIdle; });
  if (fresh_cycle)
    services_.log.Info(
        "", "dry run: would restart the prepare worker",
        {{"target", config_.prepare_target.empty() ? "(PREPARE_DATASET_REPO not set)" : config_.prepare_target}});
  for (LabelRun* label : pending) {
    const LabelState& state = label->state;
    std::string action =
        state.phase == Phase::kIdle
            ? "dry run: would wait for a new dataset, then restart the retrain worker"
            : std::string("dry run: would resume the unfinished cycle (phase ") + PhaseName(state.phase) + ")";
    services_.log.Info(
        label->config.name, action,
        // An idle label would start a new cycle for what it has now; a resumed one waits for what
        // its cycle asked for.
        {{"required_len", state.phase == Phase::kIdle ? label->report.dataset_len
                                                      : state.required_len.value_or(label->report.dataset_len)},
         {"current_version", label->report.baseline_version.value_or("none")},
         {"retrain", label->config.retrain_target.empty() ? "(not set)" : label->config.retrain_target}});
    Finish(*label, Outcome::kDryRun);
  }
}

// ---- resuming ---------------------------------------------------------------------------------

void Pass::ResumeUnfinishedCycles() {
  LabelSet unconfirmed_retrains, unconfirmed_prepares, stale;
  WallTime now = services_.clock.WallNow();
  for (LabelRun& label : labels_) {
    LabelState& state = label.state;
    if (UnconfirmedRetrain(state)) {
      unconfirmed_retrains.push_back(&label);
      continue;
    }
    if (state.phase == Phase::kRetraining) {  // confirmed: the cycle is over
      state.phase = Phase::kIdle;
      Save(label);
    }
    if (state.phase != Phase::kPreparing) continue;
    double age = std::chrono::duration<double>(now - state.prepare_requested_at.value_or(now)).count();
    if (age >= StaleAfter(config_)) {
      stale.push_back(&label);
      continue;
    }
    ResumePreparing(label);
    if (!state.prepare_confirmed) unconfirmed_prepares.push_back(&label);
  }
  if (!stale.empty()) CloseStaleCycles(stale);
  if (!unconfirmed_retrains.empty()) ResumeRetrains(unconfirmed_retrains);
  if (!unconfirmed_prepares.empty()) ConfirmPrepareRestart(unconfirmed_prepares);
  // Labels with no cycle to resume and not enough data are done.
  for (LabelRun& label : labels_)
    if (label.report.outcome == Outcome::kPending && !label.waiting && !label.report.prepare)
      Finish(label, RestingOutcome(label.report));
}

// A cycle too old to wait for any longer gets one last look: a dataset the worker published
// after the waits ended is retrained now, never skipped; otherwise the cycle is abandoned and
// the label decides afresh. A look that gets no answer leaves the cycle to the next pass.
void Pass::CloseStaleCycles(const LabelSet& stale) {
  std::vector<MetadataRead> reads = ReadMetadataOf(stale);
  LabelSet ready, abandoned;
  for (size_t k = 0; k < stale.size(); ++k) {
    LabelRun& label = *stale[k];
    LabelState& state = label.state;
    const MetadataRead& read = reads[k];
    if (IsCycleDataset(label, read)) {
      label.report.prepare = true;
      label.report.resumed = true;
      label.report.baseline_version = state.baseline_version;
      label.report.dataset_version = read.metadata->version_tag;
      label.report.dataset_samples = read.metadata->num_samples;
      ready.push_back(&label);
      continue;
    }
    if (read.status == MetadataRead::Status::kUnavailable) {
      // A look that got no answer is no last look: the dataset may be out. Abandoned now, the cycle
      // would take it for the next cycle's baseline and never retrain it.
      Finish(label, Outcome::kFailed,
             "the cycle is stale, but its last look at the metadata got no answer (" + read.detail +
                 "); the next pass looks again before abandoning it");
      continue;
    }
    services_.log.Warning(
        label.config.name, "abandoning a stale prepare cycle",
        {{"stale_after", StaleAfter(config_)},
         {"baseline_version", state.baseline_version.value_or("none")},
         {"required_len", state.required_len.value_or(0)},
         {"metadata", read.status == MetadataRead::Status::kOk ? read.metadata->version_tag : read.detail},
         {"reason", WhyNotTheDataset(read, state.baseline_version, state.required_len.value_or(0))}});
    state.phase = Phase::kIdle;
    abandoned.push_back(&label);
  }
  Save(abandoned);
  if (!ready.empty()) StartRetrains(ready);
}

void Pass::ResumePreparing(LabelRun& label) {
  const LabelState& state = label.state;
  label.report.prepare = true;
  label.report.resumed = true;
  label.report.baseline_version = state.baseline_version;
  label.report.prepare_run = state.prepare_run_id;
  double age = std::chrono::duration<double>(services_.clock.WallNow() - *state.prepare_requested_at).count();
  double remaining = std::max(0.0, StaleAfter(config_) - age);
  label.waiting = true;
  label.waiting_since = services_.clock.Now() - SecondsToDuration(std::max(0.0, age));
  label.deadline = services_.clock.Now() + SecondsToDuration(std::min(config_.poll_timeout, remaining));
  services_.log.Info(label.config.name, "resuming the wait for a dataset an earlier pass asked for",
                     {{"required_len", state.required_len.value_or(0)},
                      {"baseline_version", state.baseline_version.value_or("none")},
                      {"age_seconds", static_cast<long long>(age)}});
}

// Whether one of the labels' new datasets is out already: then the recorded restart happened,
// whatever stage the worker shows now (it may have published and paused itself). Nothing when
// none is out but some label's metadata got no answer: it may be.
std::optional<bool> Pass::AnyDatasetPublished(const LabelSet& labels) {
  std::vector<MetadataRead> reads = ReadMetadataOf(labels);
  bool unanswered = false;
  for (size_t k = 0; k < labels.size(); ++k) {
    if (IsCycleDataset(*labels[k], reads[k])) return true;
    unanswered = unanswered || reads[k].status == MetadataRead::Status::kUnavailable;
  }
  if (unanswered) return std::nullopt;
  return false;
}

void Pass::ConfirmPrepareRestart(const LabelSet& unconfirmed) {
  std::string target = config_.prepare_target;
  const std::optional<bool> published = AnyDatasetPublished(unconfirmed);
  if (published.value_or(false)) {
    services_.log.Info("", "confirmed the prepare restart an earlier pass recorded: its dataset is published",
                       {{"target", target}});
    for (LabelRun* label : unconfirmed) label->state.prepare_confirmed = true;
    Save(unconfirmed);
    return;
  }
  const WorkerRef ref = PrepareWorker(unconfirmed);
  const WorkerState worker = services_.trigger.Inspect(std::span<const WorkerRef>(&ref, 1), std::nullopt).front();
  if (worker.request == WorkerState::Request::kReceived) {
    // A worker that keeps its runs by their request's key shows this one: the restart happened.
    services_.log.Info("", "confirmed the prepare restart an earlier pass recorded: its run is found by its key",
                       {{"target", target}, {"detail", worker.detail}});
    for (LabelRun* label : unconfirmed) {
      label->state.prepare_confirmed = true;
      if (!worker.run_id.empty()) label->state.prepare_run_id = worker.run_id;
      label->report.prepare_run = label->state.prepare_run_id;
    }
    Save(unconfirmed);
    return;
  }
  // Such a worker also tells for certain that no run was started: then nothing can have been
  // published for this cycle, whatever the metadata says.
  const bool refuted = worker.request == WorkerState::Request::kNotReceived;
  const bool unreadable = !refuted && !published.has_value() && worker.health != WorkerState::Health::kActive;
  if (!refuted && (worker.health == WorkerState::Health::kUnknown || unreadable)) {
    // Could not ask, or the worker may have published and ended: sending it again might kill a run
    // in progress, or prepare the cycle twice. Wait, and ask next pass.
    services_.log.Warning(
        "", "could not tell whether the recorded prepare restart happened; waiting without resending",
        {{"target", target},
         {"detail", unreadable ? "the metadata got no answer, and the worker shows " + worker.detail : worker.detail}});
    return;
  }
  bool restarted = !refuted && worker.health == WorkerState::Health::kActive;
  std::string run_id;
  if (!restarted) {
    RequireLock();
    services_.log.Warning("", "the prepare restart an earlier pass recorded did not happen; sending it again",
                          {{"target", target}, {"detail", worker.detail}});
    StartRequest request = PrepareRequest(unconfirmed);
    StartResult result = services_.trigger.Start(std::span<const StartRequest>(&request, 1)).front();
    restarted = result.ok;
    run_id = result.run_id;
    if (!result.ok && !MayHaveStarted(result)) {
      // Certainly not sent: no cycle is under way, and the next pass decides afresh.
      for (LabelRun* label : unconfirmed) label->state.phase = Phase::kIdle;
      Save(unconfirmed);
    }
    if (!result.ok)
      for (LabelRun* label : unconfirmed)
        Finish(*label, Outcome::kFailed, "restarting the prepare worker " + target + " failed: " + result.detail);
  }
  if (!restarted) return;
  for (LabelRun* label : unconfirmed) {
    label->state.prepare_confirmed = true;
    if (!run_id.empty()) label->state.prepare_run_id = run_id;
    label->report.prepare_run = label->state.prepare_run_id;
  }
  Save(unconfirmed);
}

void Pass::ResumeRetrains(const LabelSet& unconfirmed) {
  LabelSet asked, resend, confirmed;
  for (LabelRun* label : unconfirmed) {
    label->report.resumed = true;
    label->report.prepare = true;
    label->report.dataset_version = label->state.dataset_version;
    if (label->state.retrain_requested_at) {
      asked.push_back(label);
    } else {
      services_.log.Info(label->config.name, "sending the retrain restart an earlier pass could not send",
                         {{"dataset_version", *label->state.dataset_version}});
      resend.push_back(label);
    }
  }
  std::vector<WorkerState> workers = InspectRetrainWorkers(asked, RetrainOf::kCycle);
  for (size_t k = 0; k < asked.size(); ++k) {
    LabelRun& label = *asked[k];
    LabelState& state = label.state;
    const bool received = workers[k].request == WorkerState::Request::kReceived;
    if (workers[k].request == WorkerState::Request::kNotReceived &&
        state.last_retrained_version != state.dataset_version) {
      // The worker tells for certain that no run was started for this version: sending it is no repeat.
      services_.log.Info(label.config.name, "the retrain restart an earlier pass sent did not reach the worker",
                         {{"dataset_version", *state.dataset_version}, {"detail", workers[k].detail}});
      resend.push_back(&label);
      continue;
    }
    if (!received && workers[k].health == WorkerState::Health::kUnknown &&
        state.last_retrained_version != state.dataset_version) {
      // Could not ask: a second restart might retrain the version twice. Ask again next pass.
      const std::string why = "could not tell whether the retrain restart for " + *state.dataset_version +
                              " happened (" + workers[k].detail + ")";
      Finish(label, Outcome::kFailed, why + "; the next pass asks again");
      if (CycleIsStale(state)) AbandonRetrain(label, why);
      continue;
    }
    if (received || state.last_retrained_version == state.dataset_version ||
        workers[k].health == WorkerState::Health::kActive) {
      services_.log.Info(label.config.name, "confirmed the retrain restart an earlier pass sent",
                         {{"dataset_version", *state.dataset_version}, {"detail", workers[k].detail}});
      if (received && !workers[k].run_id.empty()) state.retrain_run_id = workers[k].run_id;
      label.report.retrain_run = state.retrain_run_id;
      state.retrain_confirmed = true;
      state.last_retrained_version = state.dataset_version;
      state.last_retrained_at = state.retrain_requested_at;
      state.last_retrained_misclassified = state.requested_misclassified;
      state.phase = Phase::kIdle;
      confirmed.push_back(&label);
    } else {
      resend.push_back(&label);
    }
  }
  Save(confirmed);
  for (LabelRun* label : confirmed) Finish(*label, Outcome::kRetrainTriggered);
  if (resend.empty()) return;
  StartRetrains(resend);
  for (LabelRun* label : resend)
    if (label->report.outcome == Outcome::kFailed && UnconfirmedRetrain(label->state) && CycleIsStale(label->state))
      AbandonRetrain(*label, label->report.error.value_or("the retrain restart failed"));
}

// Whether the label's cycle began (its prepare restart) STALE_AFTER ago or more.
bool Pass::CycleIsStale(const LabelState& state) {
  if (!state.prepare_requested_at) return false;
  return std::chrono::duration<double>(services_.clock.WallNow() - *state.prepare_requested_at).count() >=
         StaleAfter(config_);
}

// A retrain that could neither be started nor confirmed by STALE_AFTER ends its cycle, so that the
// label is not held for ever (a deleted Space, a token that lost its rights): the label is idle
// again, and its next cycle prepares a dataset with everything since its last retrain.
void Pass::AbandonRetrain(LabelRun& label, const std::string& why) {
  LabelState& state = label.state;
  services_.log.Warning(
      label.config.name, "abandoning a stale retrain: the cycle began STALE_AFTER ago or more",
      {{"dataset_version", state.dataset_version.value_or("")}, {"stale_after", StaleAfter(config_)}, {"reason", why}});
  state.phase = Phase::kIdle;
  Save(label);
  label.report.error = why + "; the cycle began more than STALE_AFTER=" + Seconds(StaleAfter(config_)) +
                       " s ago, so it ends here without retraining " + state.dataset_version.value_or("") +
                       ": the label is idle and its next cycle prepares a new dataset";
}

// ---- a new cycle ------------------------------------------------------------------------------

Pass::LabelSet Pass::NewlyPreparing() {
  LabelSet labels;
  bool in_flight = std::any_of(labels_.begin(), labels_.end(), [](const LabelRun& label) { return label.waiting; });
  for (LabelRun& label : labels_) {
    if (label.report.outcome != Outcome::kPending || label.waiting || !label.report.prepare) continue;
    if (in_flight) continue;  // see StartPrepare
    labels.push_back(&label);
  }
  return labels;
}

// A label whose retrain worker is still running the retrain this orchestrator started waits for
// it: restarting the worker for the next version would kill that run, and if this pass died
// around that restart, the run's stage would later pass for the new version's restart.
void Pass::DeferWhileRetraining(const LabelSet& labels) {
  const WallTime now = services_.clock.WallNow();
  LabelSet recent;
  for (LabelRun* label : labels) {
    const std::optional<WallTime>& last = label->state.last_retrained_at;
    if (label->config.retrain_target.empty()) continue;  // a dry run may lack it
    if (last && std::chrono::duration<double>(now - *last).count() < StaleAfter(config_)) recent.push_back(label);
  }
  std::vector<WorkerState> workers = InspectRetrainWorkers(recent, RetrainOf::kLastRetrained);
  for (size_t k = 0; k < recent.size(); ++k) {
    if (workers[k].health != WorkerState::Health::kActive) continue;
    LabelRun& label = *recent[k];
    Finish(label, Outcome::kDeferred,
           "the retrain worker " + label.config.retrain_target + " is still running the retrain of " +
               label.state.last_retrained_version.value_or("the last dataset") + " (" + workers[k].detail +
               "); the next dataset is prepared once it is done");
  }
}

void Pass::ReadBaselines(const LabelSet& labels) {
  std::vector<MetadataRead> reads = ReadMetadataOf(labels);
  for (size_t k = 0; k < labels.size(); ++k) {
    LabelRun& label = *labels[k];
    const MetadataRead& read = reads[k];
    switch (read.status) {
      case MetadataRead::Status::kOk:
        label.report.baseline_version = read.metadata->version_tag;
        services_.log.Info(label.config.name, "baseline",
                           {{"version", read.metadata->version_tag}, {"num_samples", read.metadata->num_samples}});
        break;
      case MetadataRead::Status::kNotFound:
      case MetadataRead::Status::kInvalid:
        // No usable current dataset: any valid version that appears will be a new one.
        services_.log.Info(label.config.name, "baseline", {{"version", "none"}, {"detail", read.detail}});
        break;
      case MetadataRead::Status::kRefused:
      case MetadataRead::Status::kUnavailable:
        Finish(label, Outcome::kFailed,
               "cannot read the current dataset version, so a new one could not be recognised: " + read.detail);
        break;
    }
  }
}

void Pass::StartPrepare(const LabelSet& labels) {
  // Labels that still need a dataset while a cycle is in flight wait for the next pass:
  // restarting the prepare Space now would kill the run the earlier pass started.
  for (LabelRun& label : labels_)
    if (label.report.outcome == Outcome::kPending && !label.waiting && label.report.prepare &&
        std::find(labels.begin(), labels.end(), &label) == labels.end())
      Finish(label, Outcome::kDeferred, "a prepare cycle started by an earlier pass is still in flight");
  if (labels.empty()) return;

  WallTime now = services_.clock.WallNow();
  for (LabelRun* label : labels) {
    LabelState& state = label->state;
    state.phase = Phase::kPreparing;
    state.baseline_version = label->report.baseline_version;
    state.required_len = label->report.dataset_len;
    state.requested_misclassified = label->report.misclassified;
    state.prepare_requested_at = now;
    state.prepare_confirmed = false;
    state.prepare_run_id.reset();
    state.dataset_version.reset();
    state.retrain_requested_at.reset();
    state.retrain_confirmed = false;
  }
  Save(labels);  // recorded before the restart, so a pass killed during it resumes instead of repeating it
  RequireLock();
  const StartRequest request = PrepareRequest(labels);
  StartResult result = services_.trigger.Start(std::span<const StartRequest>(&request, 1)).front();
  if (!result.ok && MayHaveStarted(result)) {
    // The restart may have reached the worker. Left unconfirmed, the next pass looks for its
    // dataset and asks the worker instead of restarting it again.
    const bool stopped = Cancelled();
    for (LabelRun* label : labels)
      Finish(*label, stopped ? Outcome::kCancelled : Outcome::kFailed,
             stopped ? "the pass was stopped during the prepare restart"
                     : "restarting the prepare worker " + request.target + " failed: " + result.detail +
                           "; it may have reached the worker, so the next pass looks for its dataset before sending "
                           "it again");
    return;
  }
  if (!result.ok) {
    services_.log.Error("", "prepare restart failed", {{"target", request.target}, {"error", result.detail}});
    for (LabelRun* label : labels) label->state.phase = Phase::kIdle;
    Save(labels);
    for (LabelRun* label : labels)
      Finish(*label, Outcome::kFailed, "restarting the prepare worker " + request.target + " failed: " + result.detail);
    return;
  }
  report_.prepare_triggered = true;
  services_.log.Info("", "prepare restart requested",
                     {{"target", request.target}, {"labels", request.label}, {"detail", result.detail}});
  Clock::TimePoint started = services_.clock.Now();
  for (LabelRun* label : labels) {
    label->state.prepare_confirmed = true;
    if (!result.run_id.empty()) label->state.prepare_run_id = result.run_id;
    label->report.prepare_run = label->state.prepare_run_id;
  }
  Save(labels);
  for (LabelRun* label : labels) {
    label->waiting = true;
    label->waiting_since = started;
    label->deadline = started + SecondsToDuration(config_.poll_timeout);
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
    for (const LabelRun* label : Waiting()) next = std::min(next, label->deadline);
    services_.clock.SleepUntil(next);
    if (StopRequested()) return;
  }
}

// Checked right before each restart: a pass whose lease ran out while it waited must not act on
// what may have become another pass's cycle. It stops there (see Run), its labels recorded for
// that other pass.
void Pass::RequireLock() {
  if (services_.lock == nullptr || services_.lock->Renew()) return;
  throw LockLostError("the run lock was lost (its lease expired, or its connection dropped); this pass stops");
}

// Another pass holds the lock now: nothing more is written or sent, and what was recorded stays
// for that pass, or the next, to carry on.
void Pass::LockLost(const std::string& why) {
  report_.error = why;
  services_.log.Error("", "run lock lost", {{"error", why}});
  for (LabelRun& label : labels_)
    if (label.report.outcome == Outcome::kPending) Finish(label, Outcome::kCancelled, why);
}

// Whether the run lock is known to be lost; a lock that cannot be asked right now is not.
bool Pass::LockGone() {
  if (services_.lock == nullptr) return false;
  try {
    return !services_.lock->Renew();
  } catch (const DatabaseError&) {
    return false;
  }
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
  for (LabelRun* label : Waiting()) Finish(*label, Outcome::kCancelled, reason);
  return true;
}

void Pass::PollOnce() {
  LabelSet waiting = Waiting();
  std::vector<MetadataRead> reads = ReadMetadataOf(waiting, WaitBudget());
  LabelSet ready;
  for (size_t k = 0; k < waiting.size(); ++k) {
    LabelRun& label = *waiting[k];
    int64_t required = label.state.required_len.value_or(label.report.dataset_len);
    const MetadataRead& read = reads[k];
    label.last_read = read;
    if (read.status == MetadataRead::Status::kOk) {
      const DatasetMetadata& metadata = *read.metadata;
      bool is_new = IsNewDataset(metadata, label.state.baseline_version, required);
      Fields fields = {{"current_len", metadata.num_samples},
                       {"required_len", required},
                       {"version", metadata.version_tag},
                       {"ready", is_new}};
      if (metadata.rows_dropped > 0) fields.insert(fields.begin() + 1, {"rows_dropped", metadata.rows_dropped});
      services_.log.Info(label.config.name, "poll", fields);
      if (is_new) {
        label.report.dataset_version = metadata.version_tag;
        label.report.dataset_samples = metadata.num_samples;
        ready.push_back(&label);
      }
    } else if (read.status == MetadataRead::Status::kRefused || read.status == MetadataRead::Status::kInvalid) {
      Finish(label, Outcome::kFailed, read.detail);
    } else {
      services_.log.Info(
          label.config.name, "poll",
          {{"required_len", required}, {"status", MetadataStatusName(read.status)}, {"detail", read.detail}});
    }
  }
  if (!ready.empty()) StartRetrains(ready);
}

void Pass::StartRetrains(const LabelSet& ready) {
  LabelSet starting, retrained_before;
  std::vector<StartRequest> requests;
  WallTime now = services_.clock.WallNow();
  for (LabelRun* label : ready) {
    LabelState& state = label->state;
    std::string version = label->report.dataset_version.value_or(state.dataset_version.value_or(""));
    if (state.last_retrained_version == version) {
      // Not a dataset to retrain, and waiting on would fail this way every pass until the cycle is
      // stale: the cycle ends here, once.
      state.phase = Phase::kIdle;
      retrained_before.push_back(label);
      continue;
    }
    state.phase = Phase::kRetraining;
    state.dataset_version = version;
    state.retrain_requested_at = now;
    state.retrain_confirmed = false;
    state.retrain_run_id.reset();
    starting.push_back(label);
    requests.push_back(RetrainRequest(*label));
  }
  LabelSet recorded = starting;
  recorded.insert(recorded.end(), retrained_before.begin(), retrained_before.end());
  Save(recorded);  // recorded before the restarts: a pass killed now confirms or repeats each, once
  for (LabelRun* label : retrained_before) {
    const std::string& version = *label->state.last_retrained_version;
    const std::string when =
        label->state.last_retrained_at ? " on " + FormatTimestamp(*label->state.last_retrained_at) : "";
    services_.log.Warning(
        label->config.name, "ending the cycle: its dataset was already retrained",
        {{"dataset_version", version}, {"baseline_version", label->state.baseline_version.value_or("none")}});
    Finish(*label, Outcome::kFailed,
           "the dataset this cycle found, " + version + ", was already retrained" + when +
               "; it is not retrained twice, so the cycle ends and the label is idle again: the next pass starts a "
               "new cycle if the label has new corrections");
  }
  if (starting.empty()) return;
  RequireLock();
  std::vector<StartResult> results = services_.trigger.Start(requests);
  LabelSet confirmed, unsent;
  for (size_t k = 0; k < starting.size(); ++k) {
    LabelRun& label = *starting[k];
    LabelState& state = label.state;
    if (!results[k].ok) {
      const bool maybe_started = MayHaveStarted(results[k]);
      if (!maybe_started) {
        // Certainly not sent: the next pass sends it without asking the worker, whose stage may
        // come from an earlier version's run and would wrongly confirm this one.
        state.retrain_requested_at.reset();
        unsent.push_back(&label);
      }
      Finish(label, Outcome::kFailed,
             "restarting the retrain worker " + requests[k].target + " failed: " + results[k].detail +
                 (maybe_started
                      ? "; it may have reached the worker, so the next pass asks the worker before sending it again"
                      : "; the next pass sends it again"));
      continue;
    }
    state.retrain_confirmed = true;
    if (!results[k].run_id.empty()) state.retrain_run_id = results[k].run_id;
    label.report.retrain_run = state.retrain_run_id;
    state.last_retrained_version = state.dataset_version;
    state.last_retrained_at = services_.clock.WallNow();
    state.last_retrained_misclassified = state.requested_misclassified;
    state.phase = Phase::kIdle;
    confirmed.push_back(&label);
    services_.log.Info(
        label.config.name, "retrain restart requested",
        {{"target", requests[k].target}, {"dataset_version", *state.dataset_version}, {"detail", results[k].detail}});
  }
  LabelSet settled = confirmed;
  settled.insert(settled.end(), unsent.begin(), unsent.end());
  Save(settled);
  for (LabelRun* label : confirmed) Finish(*label, Outcome::kRetrainTriggered);
}

// Whether a failed restart may still have reached the worker: then only asking it can tell.
bool Pass::MayHaveStarted(const StartResult& result) const { return result.maybe_started || Cancelled(); }

bool Pass::Cancelled() const { return services_.cancellation != nullptr && services_.cancellation->cancelled(); }

void Pass::WatchPrepareWorker() {
  const std::string& target = config_.prepare_target;
  const WorkerRef ref = PrepareWorker(Waiting(), /*with_log=*/true);
  WorkerState state = services_.trigger.Inspect(std::span<const WorkerRef>(&ref, 1), WaitBudget()).front();
  if (state.health == WorkerState::Health::kFailed) {
    const LabelSet waiting = Waiting();
    for (LabelRun* label : waiting)
      label->state.phase = Phase::kIdle;  // the cycle is over: a later pass may prepare anew
    Save(waiting);
    for (LabelRun* label : waiting)
      Finish(*label, Outcome::kFailed, "the prepare worker " + target + " failed: " + state.detail);
  } else if (state.health == WorkerState::Health::kActive) {
    prepare_seen_active_ = true;
  } else if (state.health == WorkerState::Health::kFinished && state.evidence == WorkerState::Evidence::kProcess) {
    // A local worker's exit, or a Job's end, is certain: one more look at the metadata, then the wait is over.
    prepare_finished_ = true;
    prepare_finish_detail_ = state.detail;
  } else if (state.health == WorkerState::Health::kUnknown && !prepare_unknown_noted_) {
    // Not a reason to stop waiting (the dataset may still come), but the operator should know.
    prepare_unknown_noted_ = true;
    services_.log.Warning("", "cannot tell how the prepare worker is doing; still waiting",
                          {{"target", target}, {"detail", state.detail}});
  } else if (state.health == WorkerState::Health::kFinished && prepare_seen_active_ && !prepare_finish_noted_) {
    // Only after it was seen running: right after a restart the runtime may still show the old stage.
    prepare_finish_noted_ = true;
    services_.log.Warning("", "the prepare worker stopped before every dataset appeared; still waiting",
                          {{"target", target}, {"detail", state.detail}});
  }
}

void Pass::FailUnpublished() {
  for (LabelRun* label : Waiting())
    Finish(*label, Outcome::kFailed,
           "the prepare worker " + config_.prepare_target + " finished without publishing a dataset with at least " +
               std::to_string(label->state.required_len.value_or(0)) +
               " samples (rows_dropped included) and a version other than " +
               label->state.baseline_version.value_or("none") + WhyStillWaiting(*label) +
               (ParseTarget(config_.prepare_target).kind == Target::Kind::kCommand
                    ? "; see its log in " + config_.worker_log_dir
                    : "; it ended as " + prepare_finish_detail_));
}

// ---- waiting for the retrains (--wait) -------------------------------------------------------

void Pass::WaitForRetrains() {
  LabelSet running;
  for (LabelRun& label : labels_)
    if (label.report.outcome == Outcome::kRetrainTriggered) running.push_back(&label);
  const Clock::TimePoint deadline = services_.clock.Now() + SecondsToDuration(config_.poll_timeout);
  while (!running.empty()) {
    std::vector<WorkerState> workers =
        InspectRetrainWorkers(running, RetrainOf::kCycle, BudgetUntil(deadline), /*with_log=*/true);
    LabelSet still;
    for (size_t k = 0; k < running.size(); ++k)
      if (!RetrainEnded(*running[k], workers[k])) still.push_back(running[k]);
    running = std::move(still);
    if (running.empty()) return;
    const bool stopped = Cancelled();
    if (stopped || services_.clock.Now() >= deadline) {
      for (LabelRun* label : running) {
        label->report.retrain_result = stopped ? "cancelled" : "timeout";
        services_.log.Warning(label->config.name,
                              stopped ? "stopped waiting for the retrain worker"
                                      : "the retrain worker did not finish within POLL_TIMEOUT",
                              {{"target", label->config.retrain_target}});
      }
      return;
    }
    services_.clock.SleepUntil(std::min(deadline, services_.clock.Now() + SecondsToDuration(config_.poll_interval)));
  }
}

// Whether the label's retrain worker is done, recording how it ended.
bool Pass::RetrainEnded(LabelRun& label, const WorkerState& worker) {
  LabelReport& report = label.report;
  const std::string& target = label.config.retrain_target;
  switch (worker.health) {
    case WorkerState::Health::kActive: label.retrain_seen_active = true; return false;
    case WorkerState::Health::kUnknown: return false;
    case WorkerState::Health::kFailed:
      report.retrain_result = "failed";
      report.retrain_detail = worker.detail;
      Finish(label, Outcome::kFailed, "the retrain worker " + target + " failed: " + worker.detail);
      return true;
    case WorkerState::Health::kFinished:
      // A stage may still be the one from before the restart: finished counts once it ran.
      if (!label.retrain_seen_active && worker.evidence == WorkerState::Evidence::kStage) return false;
      report.retrain_result = worker.evidence == WorkerState::Evidence::kNone ? "not waitable" : "finished";
      report.retrain_detail = worker.detail;
      if (!worker.decision.empty()) report.retrain_decision = worker.decision;
      services_.log.Info(label.config.name, "retrain worker finished",
                         {{"target", target}, {"detail", worker.detail}, {"decision", worker.decision}});
      return true;
  }
  return false;
}

void Pass::ExpireDeadlines() {
  Clock::TimePoint now = services_.clock.Now();
  for (LabelRun* label : Waiting()) {
    if (now < label->deadline) continue;
    const LabelState& state = label->state;
    // The state stays `preparing`: a later pass resumes the wait until the cycle is stale.
    Finish(*label, Outcome::kTimeout,
           "no dataset with at least " + std::to_string(state.required_len.value_or(0)) +
               " samples (rows_dropped included) and a version other than " + state.baseline_version.value_or("none") +
               " appeared within POLL_TIMEOUT=" + Seconds(config_.poll_timeout) + " s" + WhyStillWaiting(*label));
  }
}

// ---- requests to the workers ----------------------------------------------------------------

// Milliseconds since the epoch: what survives a round trip through the state tables, which keep
// times to the millisecond; two cycles a second apart never share a key.
long long EpochMilliseconds(WallTime time) {
  return std::chrono::floor<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

// One request for the labels' prepare cycle; a repeat of it (a pass resuming the cycle) carries
// the same idempotency key.
StartRequest Pass::PrepareRequest(const LabelSet& labels) const {
  StartRequest request;
  request.target = config_.prepare_target;
  std::string cycle;
  for (const LabelRun* label : labels) {
    const LabelState& state = label->state;
    request.label += (request.label.empty() ? "" : ",") + label->config.name;
    request.required_len = std::max(request.required_len, state.required_len.value_or(0));
    cycle += state.baseline_version.value_or("") + "@" + std::to_string(state.required_len.value_or(0)) + "@" +
             std::to_string(EpochMilliseconds(state.prepare_requested_at.value_or(WallTime{}))) + ";";
  }
  if (labels.size() == 1) request.baseline_version = labels.front()->state.baseline_version.value_or("");
  request.idempotency_key = IdempotencyKey(request.label, cycle);
  return request;
}

WorkerRef Pass::PrepareWorker(const LabelSet& labels, bool with_log) const {
  const StartRequest request = PrepareRequest(labels);
  WorkerRef worker{request.target, request.label, /*prepare=*/true, "", request.idempotency_key, with_log};
  for (const LabelRun* label : labels)
    if (label->state.prepare_run_id) worker.run_id = *label->state.prepare_run_id;
  return worker;
}

WorkerRef Pass::RetrainWorker(const LabelRun& label, const std::optional<std::string>& version,
                              const std::optional<std::string>& run_id, bool with_log) {
  return {label.config.retrain_target,
          label.config.name,
          /*prepare=*/false,
          run_id.value_or(""),
          version ? IdempotencyKey(label.config.name, *version) : "",
          with_log};
}

StartRequest Pass::RetrainRequest(const LabelRun& label) {
  const LabelState& state = label.state;
  StartRequest request;
  request.target = label.config.retrain_target;
  request.label = label.config.name;
  request.required_len = state.required_len.value_or(label.report.dataset_len);
  request.baseline_version = state.baseline_version.value_or("");
  request.dataset_version = state.dataset_version.value_or("");
  request.idempotency_key = IdempotencyKey(request.label, request.dataset_version);
  return request;
}

// ---- the labels' datasets and workers -------------------------------------------------------

std::vector<MetadataRead> Pass::ReadMetadataOf(const LabelSet& labels, TimeBudget budget) {
  std::vector<std::string> urls;
  for (const LabelRun* label : labels) urls.push_back(label->config.metadata_url);
  return services_.hub.ReadMetadata(urls, budget);
}

// Whether `read` shows the new dataset the label's recorded cycle asked for.
bool Pass::IsCycleDataset(const LabelRun& label, const MetadataRead& read) {
  const LabelState& state = label.state;
  return read.status == MetadataRead::Status::kOk &&
         IsNewDataset(*read.metadata, state.baseline_version, state.required_len.value_or(0));
}

// "; the latest version, v2, has 148 samples ...": why the label's last poll did not end its wait,
// or "" when it was not polled.
std::string Pass::WhyStillWaiting(const LabelRun& label) {
  if (!label.last_read) return "";
  const std::string why =
      WhyNotTheDataset(*label.last_read, label.state.baseline_version, label.state.required_len.value_or(0));
  return why.empty() ? "" : "; " + why;
}

// Asks each label's retrain worker how it is doing (no call for no label).
std::vector<WorkerState> Pass::InspectRetrainWorkers(const LabelSet& labels, RetrainOf which, TimeBudget budget,
                                                     bool with_log) {
  if (labels.empty()) return {};
  std::vector<WorkerRef> workers;
  for (const LabelRun* label : labels) {
    const LabelState& state = label->state;
    workers.push_back(
        which == RetrainOf::kCycle
            ? RetrainWorker(*label, state.dataset_version, state.retrain_run_id, with_log)
            // The run of the last retrain is recorded while no retrain was started since.
            : RetrainWorker(*label, state.last_retrained_version,
                            state.dataset_version == state.last_retrained_version ? state.retrain_run_id : std::nullopt,
                            with_log));
  }
  return services_.trigger.Inspect(workers, budget);
}

// A slow Hub must not hold a wait past its deadline: a round of calls may take the time left until
// `deadline`, or one HTTP_TIMEOUT when less is left (the last look, at the deadline, gets one attempt).
TimeBudget Pass::BudgetUntil(Clock::TimePoint deadline) {
  const Clock::TimePoint latest =
      std::max(deadline, services_.clock.Now() + SecondsToDuration(config_.http.request_timeout));
  return std::chrono::ceil<std::chrono::milliseconds>(latest - services_.clock.Now());
}

TimeBudget Pass::WaitBudget() {
  Clock::TimePoint last = services_.clock.Now();
  for (const LabelRun* label : Waiting()) last = std::max(last, label->deadline);
  return BudgetUntil(last);
}

// ---- bookkeeping ----------------------------------------------------------------------------

void Pass::Save(LabelRun& label) { Save(LabelSet{&label}); }

void Pass::Save(const LabelSet& labels) {
  if (labels.empty()) return;
  std::vector<LabelState> states;
  WallTime now = services_.clock.WallNow();
  for (LabelRun* label : labels) {
    label->state.updated_at = now;
    states.push_back(label->state);
  }
  services_.state.SaveLabels(states);
}

void Pass::Finish(LabelRun& label, Outcome outcome, std::optional<std::string> error) {
  LabelReport& report = label.report;
  report.outcome = outcome;
  report.error = std::move(error);
  if (label.waiting) report.waited_seconds = SecondsSincePrepare(label);
  label.waiting = false;
  Fields fields = {{"outcome", OutcomeName(outcome)}};
  if (report.error) fields.push_back({"error", *report.error});
  Level level = outcome == Outcome::kFailed                                      ? Level::kError
                : outcome == Outcome::kTimeout || outcome == Outcome::kCancelled ? Level::kWarning
                                                                                 : Level::kInfo;
  services_.log.Event(level, report.label, "finished", fields);
  services_.log.LabelDone(report.label);
}

Pass::LabelSet Pass::Waiting() {
  LabelSet waiting;
  for (LabelRun& label : labels_)
    if (label.waiting) waiting.push_back(&label);
  return waiting;
}

double Pass::SecondsSincePrepare(const LabelRun& label) const {
  return std::chrono::duration<double>(services_.clock.Now() - label.waiting_since).count();
}

}  // namespace orch
