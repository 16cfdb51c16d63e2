// Workers that are Hugging Face Spaces: started by a Space restart, watched through its runtime.
//
// A restart whose answer was lost (the connection broke after the request went out, a gateway
// answered 502 or 504) is followed at once by a runtime read: a stage showing a start under way
// (BUILDING, APP_STARTING, ...) confirms it. Otherwise the start stays "maybe started", for the
// engine to ask again later rather than send it twice.
#pragma once

#include "hub/hf_hub.h"
#include "triggers/trigger.h"

namespace orch {

class HfSpaceTrigger : public Trigger {
 public:
  explicit HfSpaceTrigger(HfHub& hub) : hub_(hub) {}
  std::vector<StartResult> Start(std::span<const StartRequest> requests) override;
  std::vector<WorkerState> Inspect(std::span<const WorkerRef> workers, TimeBudget budget) override;

 private:
  HfHub& hub_;
};

// "hf-space:owner/name" or "owner/name" -> "owner/name".
std::string SpaceIdOf(const std::string& target);

// What a runtime stage says about the worker.
WorkerState::Health HealthOfStage(const std::string& stage);

}  // namespace orch
