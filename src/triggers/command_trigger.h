// Workers that are local commands (`command:<argv>`): started as a Space restart starts one,
// without waiting, and watched while the pass runs.
//
// Each start gets a log file of its own in the log directory, holding the worker's stdout and
// stderr; a worker that exits non-zero fails the waiting labels at once, with its last log lines
// in the message. A small record per target (pid, start time, log) lets a later pass tell whether
// a worker an earlier pass started still runs. The worker's environment is the one it is given
// (Config::worker_environment: the system's variables, the pass's settings, WORKER_ENV) and its
// request: ORCHESTRATOR_LABEL, ORCHESTRATOR_REQUIRED_LEN, ORCHESTRATOR_BASELINE_VERSION,
// ORCHESTRATOR_DATASET_VERSION and ORCHESTRATOR_IDEMPOTENCY_KEY. Logs and records are readable by
// their owner only: a worker's output may hold what it was given.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "triggers/trigger.h"
#include "util/child_process.h"
#include "util/clock.h"

namespace orch {

class CommandTrigger final : public Trigger {
 public:
  // Logs and records go to `log_dir`, created when missing; `environment` ("NAME=value") is what
  // every worker gets besides its request.
  CommandTrigger(std::string log_dir, std::vector<std::string> environment, Clock& clock);

  std::vector<StartResult> Start(std::span<const StartRequest> requests) override;
  // kActive while the worker runs; kFinished after exit 0 (with the last JSON line of its log as
  // the decision, when there is one); kFailed after any other exit, with its last log lines.
  std::vector<WorkerState> Inspect(std::span<const WorkerRef> workers, TimeBudget budget) override;

 private:
  struct Run {
    ChildProcess process;
    std::string log_path;
  };
  StartResult StartOne(const StartRequest& request);
  WorkerState InspectOwn(Run& run);
  WorkerState InspectRecorded(const std::string& target);
  std::string RecordPath(const std::string& target) const;
  std::string NewLogPath(const StartRequest& request);

  std::string log_dir_;
  std::vector<std::string> environment_;
  Clock& clock_;
  std::map<std::string, std::unique_ptr<Run>> runs_;  // the latest start of each target by this pass
};

// The last line of `text` that parses as a JSON object ("" when none).
std::string LastJsonLine(const std::string& text);

}  // namespace orch
