// One pass of the orchestrator: count, decide, prepare, wait for the new datasets, retrain.
//
// The pass talks only to interfaces (Database, Hub, Trigger, StateStore, Clock, Log), so the same
// code runs against PostgreSQL or SQLite, the real Hub or a fake, the real clock or a simulated
// one. Every step that leads to an external call is recorded in the StateStore before the call
// and confirmed after it, so a pass killed at any point can be resumed by the next one, and no
// dataset version is ever retrained twice.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "db/database.h"
#include "db/state_store.h"
#include "engine/pass_report.h"
#include "hub/hub.h"
#include "triggers/trigger.h"
#include "util/cancellation.h"
#include "util/clock.h"
#include "util/log.h"

namespace orch {

struct PassServices {
  Database& database;
  Hub& hub;
  Trigger& trigger;
  Clock& clock;
  Log& log;
  StateStore& state;
  RunLock* lock = nullptr;                     // renewed every poll round when set
  const Cancellation* cancellation = nullptr;  // checked between steps when set
};

class Pass {
 public:
  Pass(const Config& config, PassServices services);

  // Runs the pass to the end and says what happened. A database failure ends the pass with
  // report.error set; every other failure belongs to the labels it concerns.
  PassReport Run();

  // After triggering retrains, also wait (up to POLL_TIMEOUT) for each retrain worker to finish.
  void set_wait_for_retrains(bool wait) { wait_for_retrains_ = wait; }

  // Also prepare a label at its threshold whose data is no more than its dataset already retrained
  // (run --force): a new dataset and a new retrain of the same rows, asked for on purpose.
  void set_force(bool force) { force_ = force; }

 private:
  // One label's way through the pass: its settings, its saved state, and what this pass did with
  // it. The records live in labels_, in the order of config.labels, for the whole pass; the steps
  // below take one by reference, or a group as a LabelSet, whose order is the order of the
  // group's requests to the Hub and the workers and of its rows in a Save.
  struct LabelRun {
    explicit LabelRun(const LabelConfig& label);

    const LabelConfig& config;
    LabelState state;    // as loaded at the start, then as changed by the pass: what Save commits
    LabelReport report;  // what the pass did with the label: its entry in the PassReport
    // Whether the label's new dataset is being waited for in this pass, since when (the prepare
    // restart, an earlier pass's for a resumed cycle) and until when.
    bool waiting = false;
    Clock::TimePoint waiting_since{};
    Clock::TimePoint deadline{};
    bool retrain_seen_active = false;       // with --wait: its retrain worker was seen running
    std::optional<MetadataRead> last_read;  // its metadata as the last poll read it: why it still waits
  };
  using LabelSet = std::vector<LabelRun*>;

  // Counting and deciding.
  void CountAndDecide();
  void ReportDryRun();

  // Taking over what an earlier pass left unfinished.
  void ResumeUnfinishedCycles();
  void CloseStaleCycles(const LabelSet& stale);
  void ResumePreparing(LabelRun& label);
  void ConfirmPrepareRestart(const LabelSet& unconfirmed);
  void ResumeRetrains(const LabelSet& unconfirmed);

  // A new cycle.
  void DeferWhileRetraining(const LabelSet& labels);
  void ReadBaselines(const LabelSet& labels);
  void StartPrepare(const LabelSet& labels);
  void WaitForDatasets();
  void PollOnce();
  void StartRetrains(const LabelSet& ready);
  void WatchPrepareWorker();
  void ExpireDeadlines();
  void FailUnpublished();
  void WaitForRetrains();
  bool RetrainEnded(LabelRun& label, const WorkerState& worker);
  bool StopRequested();
  void RequireLock();                     // throws LockLostError when the run lock was lost
  void LockLost(const std::string& why);  // ends the pass that lost its run lock
  bool LockGone();                        // whether the run lock is known to be lost

  // Within `budget` when given (see Hub::ReadMetadata).
  std::vector<MetadataRead> ReadMetadataOf(const LabelSet& labels, TimeBudget budget = std::nullopt);
  static bool IsCycleDataset(const LabelRun& label, const MetadataRead& read);
  // Of each label's retrain run of `which` version (its current cycle's, or its last retrained), with
  // the run recorded for it.
  enum class RetrainOf { kCycle, kLastRetrained };
  std::vector<WorkerState> InspectRetrainWorkers(const LabelSet& labels, RetrainOf which,
                                                 TimeBudget budget = std::nullopt, bool with_log = false);
  bool CycleIsStale(const LabelState& state);
  void AbandonRetrain(LabelRun& label, const std::string& why);
  // What a round of calls may take while waiting until `deadline` (see pass.cc).
  TimeBudget BudgetUntil(Clock::TimePoint deadline);
  // BudgetUntil the last deadline of the labels still waiting for their datasets.
  TimeBudget WaitBudget();
  std::optional<bool> AnyDatasetPublished(const LabelSet& labels);
  static std::string WhyStillWaiting(const LabelRun& label);
  bool MayHaveStarted(const StartResult& result) const;
  bool Cancelled() const;  // a SIGTERM or SIGINT arrived
  StartRequest PrepareRequest(const LabelSet& labels) const;
  static StartRequest RetrainRequest(const LabelRun& label);
  // The prepare worker of `labels`' cycle, and a label's retrain worker of `version`, with the run
  // recorded for them (see WorkerRef).
  WorkerRef PrepareWorker(const LabelSet& labels, bool with_log = false) const;
  static WorkerRef RetrainWorker(const LabelRun& label, const std::optional<std::string>& version,
                                 const std::optional<std::string>& run_id, bool with_log = false);

  // Bookkeeping.
  void Save(LabelRun& label);
  // Commits the states of `labels` together, in one transaction.
  void Save(const LabelSet& labels);
  void Finish(LabelRun& label, Outcome outcome, std::optional<std::string> error = std::nullopt);
  LabelSet Waiting();
  LabelSet NewlyPreparing();
  double SecondsSincePrepare(const LabelRun& label) const;

  const Config& config_;
  PassServices services_;
  PassReport report_;  // its labels are filled from labels_ when the pass ends
  std::vector<LabelRun> labels_;
  bool prepare_seen_active_ = false;
  bool prepare_finish_noted_ = false;
  bool prepare_unknown_noted_ = false;  // warned once that the prepare worker cannot be asked
  bool prepare_finished_ = false;       // a local prepare worker exited 0: one last look at the metadata
  std::string prepare_finish_detail_;   // how it finished
  bool wait_for_retrains_ = false;
  bool force_ = false;
};

}  // namespace orch
