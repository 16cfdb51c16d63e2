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
#include "util/cancellation.h"
#include "util/clock.h"
#include "engine/pass_report.h"
#include "hub/hub.h"
#include "util/log.h"
#include "triggers/trigger.h"

namespace orch {

struct PassServices {
  Database& database;
  Hub& hub;
  Trigger& trigger;
  Clock& clock;
  Log& log;
  StateStore& state;
  RunLock* lock = nullptr;                    // renewed every poll round when set
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

 private:
  // Counting and deciding.
  void CountAndDecide();
  void ReportDryRun();

  // Taking over what an earlier pass left unfinished.
  void ResumeUnfinishedCycles();
  void CloseStaleCycles(const std::vector<size_t>& stale);
  void ResumePreparing(size_t index);
  void ConfirmPrepareRestart(const std::vector<size_t>& unconfirmed);
  void ResumeRetrains(const std::vector<size_t>& unconfirmed);

  // A new cycle.
  void DeferWhileRetraining(const std::vector<size_t>& labels);
  void ReadBaselines(const std::vector<size_t>& labels);
  void StartPrepare(const std::vector<size_t>& labels);
  void WaitForDatasets();
  void PollOnce();
  void StartRetrains(const std::vector<size_t>& ready);
  void WatchPrepareWorker();
  void ExpireDeadlines();
  void FailUnpublished();
  void WaitForRetrains();
  bool RetrainEnded(size_t index, const WorkerState& worker, std::vector<bool>::reference seen_active);
  bool StopRequested();
  bool StillHoldLock(const std::vector<size_t>& labels);

  std::vector<MetadataRead> ReadMetadataOf(const std::vector<size_t>& labels);
  bool IsCycleDataset(size_t index, const MetadataRead& read) const;
  std::vector<WorkerState> InspectRetrainWorkers(const std::vector<size_t>& labels);
  bool AnyDatasetPublished(const std::vector<size_t>& labels);
  bool MayHaveStarted(const StartResult& result) const;
  bool Cancelled() const;  // a SIGTERM or SIGINT arrived
  StartRequest PrepareRequest(const std::vector<size_t>& labels) const;
  StartRequest RetrainRequest(size_t index) const;

  // Bookkeeping.
  void Save(size_t index);
  // Commits the states of `indices` together, in one transaction.
  void Save(const std::vector<size_t>& indices);
  void Finish(size_t index, Outcome outcome, std::optional<std::string> error = std::nullopt);
  std::vector<size_t> Waiting() const;
  std::vector<size_t> NewlyPreparing() const;
  double SecondsSincePrepare(size_t index) const;

  const Config& config_;
  PassServices services_;
  PassReport report_;
  std::vector<LabelState> states_;
  std::vector<Clock::TimePoint> deadlines_;
  std::vector<bool> waiting_;  // the label's dataset is being waited for in this pass
  std::vector<Clock::TimePoint> waiting_since_;
  bool prepare_seen_active_ = false;
  bool prepare_finish_noted_ = false;
  bool prepare_finished_ = false;  // a local prepare worker exited 0: one last look at the metadata
  bool wait_for_retrains_ = false;
};

}  // namespace orch
