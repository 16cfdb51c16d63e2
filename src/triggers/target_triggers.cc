#include "triggers/target_triggers.h"

#include <map>

#include "config/target.h"

namespace orch {
namespace {

// Calls `call(trigger, items)` once per trigger with that trigger's items, and puts each result
// back at its item's index.
template <typename Item, typename Result, typename Route, typename Call>
std::vector<Result> Dispatch(std::span<const Item> items, Route route, Call call) {
  std::map<Trigger*, std::vector<size_t>> places;
  for (size_t i = 0; i < items.size(); ++i) places[&route(items[i])].push_back(i);
  std::vector<Result> results(items.size());
  for (auto& [trigger, indices] : places) {
    std::vector<Item> batch;
    for (size_t i : indices) batch.push_back(items[i]);
    std::vector<Result> answers = call(*trigger, std::span<const Item>(batch));
    for (size_t k = 0; k < indices.size() && k < answers.size(); ++k) results[indices[k]] = std::move(answers[k]);
  }
  return results;
}

}  // namespace

Trigger& TargetTriggers::ForKindOf(const std::string& target) {
  switch (ParseTarget(target).kind) {
    case Target::Kind::kCommand: return commands_;
    case Target::Kind::kWebhook: return webhooks_;
    case Target::Kind::kHfJob: return jobs_;
    case Target::Kind::kHfSpace: break;
  }
  return spaces_;
}

std::vector<StartResult> TargetTriggers::Start(std::span<const StartRequest> requests) {
  return Dispatch<StartRequest, StartResult>(
      requests, [this](const StartRequest& request) -> Trigger& { return ForKindOf(request.target); },
      [](Trigger& trigger, std::span<const StartRequest> batch) { return trigger.Start(batch); });
}

std::vector<WorkerState> TargetTriggers::Inspect(std::span<const WorkerRef> workers, TimeBudget budget) {
  return Dispatch<WorkerRef, WorkerState>(
      workers, [this](const WorkerRef& worker) -> Trigger& { return ForKindOf(worker.target); },
      [budget](Trigger& trigger, std::span<const WorkerRef> batch) { return trigger.Inspect(batch, budget); });
}

}  // namespace orch
