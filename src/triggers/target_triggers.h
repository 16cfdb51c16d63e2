// The trigger the engine sees: it hands each request to the trigger of its target's kind
// (hf-space:, hf-job:, command:, webhook:; see config/target.h), all kinds in one call, and keeps
// every result in its request's place.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "triggers/trigger.h"

namespace orch {

class TargetTriggers final : public Trigger {
 public:
  TargetTriggers(Trigger& spaces, Trigger& commands, Trigger& webhooks, Trigger& jobs)
      : spaces_(spaces), commands_(commands), webhooks_(webhooks), jobs_(jobs) {}

  std::vector<StartResult> Start(std::span<const StartRequest> requests) override;
  std::vector<WorkerState> Inspect(std::span<const WorkerRef> workers, TimeBudget budget) override;

 private:
  Trigger& ForKindOf(const std::string& target);

  Trigger& spaces_;
  Trigger& commands_;
  Trigger& webhooks_;
  Trigger& jobs_;
};

}  // namespace orch
