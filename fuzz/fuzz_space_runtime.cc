// Fuzz target for a Space's runtime answer (GET /api/spaces/OWNER/NAME/runtime, and the restart's
// answer, which has the same form): SpaceStageOf must take any body and give either "" or a stage
// name (1 to kMaxStageBytes of A-Z, 0-9 and '_'), which the pass puts in messages and whose health
// HealthOfStage decides. The reader never throws, so any exception is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "hub/hf_hub.h"
#include "triggers/hf_space_trigger.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using orch::fuzz::Check;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const std::string stage = orch::SpaceStageOf(body);
  Check(stage.size() <= orch::kMaxStageBytes, "a stage is at most kMaxStageBytes");
  for (char c : stage)
    Check((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_', "a stage is made of A-Z, 0-9 and '_'");
  const orch::WorkerState::Health health = orch::HealthOfStage(stage);
  Check(stage.empty() == (health == orch::WorkerState::Health::kUnknown), "only a missing stage is unknown");
  return 0;
}
