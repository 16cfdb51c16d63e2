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

std::vector<StartResult> HfSpaceTrigger::Start(std::span<const StartRequest> requests) {
  std::vector<std::string> ids;
  for (const StartRequest& request : requests) ids.push_back(SpaceIdOf(request.target));
  std::vector<SpaceAnswer> answers = hub_.RestartSpaces(ids);
  std::vector<StartResult> results(answers.size());
  for (size_t i = 0; i < answers.size(); ++i) {
    results[i].ok = answers[i].status == 200;
    results[i].detail =
        results[i].ok ? "stage " + (answers[i].stage.empty() ? "unknown" : answers[i].stage) : answers[i].error;
    results[i].maybe_started = !results[i].ok && answers[i].may_have_arrived;
  }
  return results;
}

std::vector<WorkerState> HfSpaceTrigger::Inspect(std::span<const std::string> targets, TimeBudget budget) {
  std::vector<std::string> ids;
  for (const std::string& target : targets) ids.push_back(SpaceIdOf(target));
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
