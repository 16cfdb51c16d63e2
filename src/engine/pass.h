// One pass of the orchestrator: count, decide, prepare, wait for the new datasets, retrain.
//
// The pass talks only to interfaces (Database, Hub, Trigger, Clock, Log), so the same code runs
// against PostgreSQL or SQLite, the real Hub or a fake, the real clock or a simulated one.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "db/database.h"
#include "engine/clock.h"
#include "engine/pass_report.h"
#include "hub/hub.h"
#include "report/log.h"
#include "triggers/trigger.h"

namespace orch {

struct PassServices {
  Database& database;
  Hub& hub;
  Trigger& trigger;
  Clock& clock;
  Log& log;
};

class Pass {
 public:
  Pass(const Config& config, PassServices services);

  // Runs the pass to the end and says what happened. A database failure ends the pass with
  // report.error set; every other failure belongs to the labels it concerns.
  PassReport Run();

 private:
  void CountAndDecide();
  std::vector<int64_t> CountMisclassified();
  std::vector<std::optional<int64_t>> CountPools(const std::vector<int64_t>& misclassified);
  void ReportDryRun();
  void ReadBaselines();
  bool StartPrepare();
  void WaitForDatasets();
  void PollOnce();
  void StartRetrains(const std::vector<size_t>& ready);
  void WatchPrepareWorker();
  void ExpireDeadlines();
  void Finish(size_t index, Outcome outcome, std::optional<std::string> error = std::nullopt);
  std::vector<size_t> Pending() const;
  double SecondsSincePrepare() const;

  const Config& config_;
  PassServices services_;
  PassReport report_;
  Clock::TimePoint prepare_started_{};
  Clock::TimePoint deadline_{};
  bool prepare_seen_active_ = false;
  bool prepare_finish_noted_ = false;
};

}  // namespace orch
