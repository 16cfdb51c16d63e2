#include "triggers/hf_space_trigger.h"

#include "config/target.h"

namespace orch {

std::string SpaceIdOf(const std::string& target) { return ParseTarget(target).space_id; }

WorkerState::Health HealthOfStage(const std::string& stage) {
  if (stage == "BUILD_ERROR" || stage == "RUNTIME_ERROR" || stage == "CONFIG_ERROR" || stage == "NO_APP_FILE" ||
      stage == "DELETING")
    return WorkerState::Health::kFailed;
  if (stage == "PAUSED" || stage == "STOPPED" || stage == "SLEEPING") return WorkerState::Health::kFinished;
  if (stage.empty()) return WorkerState::Health::kUnknown;
  return WorkerState::Health::kActive;  // BUILDING, APP_STARTING, RUNNING, RUNNING_BUILDING, …
}

namespace {

// The stages a Space shows while a start is under way: what a restart turns it to. RUNNING is
// not one of them, since it may be the run from before the restart.
bool ShowsAStart(const std::string& stage) {
  return stage == "BUILDING" || stage == "APP_STARTING" || stage == "RUNNING_BUILDING" ||
         stage == "RUNNING_APP_STARTING";
}

}  // namespace

std::vector<StartResult> HfSpaceTrigger::Start(std::span<const StartRequest> requests) {
  std::vector<std::string> ids;
  for (const StartRequest& request : requests) ids.push_back(SpaceIdOf(request.target));
  std::vector<SpaceAnswer> answers = hub_.RestartSpaces(ids);
  std::vector<StartResult> results(answers.size());
  std::vector<size_t> lost;  // restarts that may have arrived, their answer lost
  for (size_t i = 0; i < answers.size(); ++i) {
    results[i].ok = answers[i].status == 200;
    results[i].detail =
        results[i].ok ? "stage " + (answers[i].stage.empty() ? "unknown" : answers[i].stage) : answers[i].error;
    results[i].maybe_started = !results[i].ok && answers[i].may_have_arrived;
    if (results[i].maybe_started) lost.push_back(i);
  }
  if (lost.empty()) return results;
  // Asked at once, a Space the restart reached shows the start, whereas a later pass may find it
  // paused again by a job that ran and ended, which a restart that never arrived looks like too.
  std::vector<std::string> lost_ids;
  for (size_t i : lost) lost_ids.push_back(ids[i]);
  std::vector<SpaceAnswer> runtimes = hub_.SpaceRuntimes(lost_ids);
  for (size_t k = 0; k < lost.size(); ++k) {
    if (runtimes[k].status != 200 || !ShowsAStart(runtimes[k].stage)) continue;
    StartResult& result = results[lost[k]];
    result = {true, "stage " + runtimes[k].stage + " (the restart's answer was lost: " + result.detail +
                        "; the runtime read right after shows it under way)"};
  }
  return results;
}

std::vector<WorkerState> HfSpaceTrigger::Inspect(std::span<const WorkerRef> workers, TimeBudget budget) {
  std::vector<std::string> ids;
  for (const WorkerRef& worker : workers) ids.push_back(SpaceIdOf(worker.target));
  std::vector<SpaceAnswer> answers = hub_.SpaceRuntimes(ids, budget);
  std::vector<WorkerState> states(answers.size());
  for (size_t i = 0; i < answers.size(); ++i) {
    if (answers[i].status == 404) {
      states[i] = {WorkerState::Health::kFailed, answers[i].error};
    } else if (answers[i].status != 200) {
      states[i] = {WorkerState::Health::kUnknown, answers[i].error};
    } else if (answers[i].stage.empty()) {
      states[i] = {WorkerState::Health::kUnknown, "Space " + ids[i] + " answered its runtime without a stage"};
    } else {
      states[i] = {HealthOfStage(answers[i].stage), "stage " + answers[i].stage};
    }
  }
  return states;
}

}  // namespace orch
