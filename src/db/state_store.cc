#include "db/state_store.h"

namespace orch {

const char* PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kIdle: return "idle";
    case Phase::kPreparing: return "preparing";
    case Phase::kRetraining: return "retraining";
  }
  return "idle";  // not reached: every Phase is named above
}

std::optional<Phase> PhaseFromName(std::string_view name) {
  for (Phase phase : {Phase::kIdle, Phase::kPreparing, Phase::kRetraining})
    if (name == PhaseName(phase)) return phase;
  return std::nullopt;
}

}  // namespace orch
