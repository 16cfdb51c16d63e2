#include "engine/pass_report.h"

#include "util/error.h"

namespace orch {

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPending: return "pending";
    case Outcome::kBelowThreshold: return "below_threshold";
    case Outcome::kDryRun: return "dry_run";
    case Outcome::kRetrainTriggered: return "retrain_triggered";
    case Outcome::kTimeout: return "timeout";
    case Outcome::kFailed: return "failed";
  }
  return "unknown";
}

bool PassReport::ok() const {
  if (error) return false;
  for (const LabelReport& label : labels)
    if (label.outcome != Outcome::kBelowThreshold && label.outcome != Outcome::kDryRun &&
        label.outcome != Outcome::kRetrainTriggered)
      return false;
  return true;
}

int PassReport::exit_code() const { return ok() ? kExitOk : kExitFailed; }

}  // namespace orch
