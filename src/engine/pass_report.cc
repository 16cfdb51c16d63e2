#include "engine/pass_report.h"

#include "util/error.h"
#include "util/redact.h"

namespace orch {

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPending: return "pending";
    case Outcome::kBelowThreshold: return "below_threshold";
    case Outcome::kDryRun: return "dry_run";
    case Outcome::kRetrainTriggered: return "retrain_triggered";
    case Outcome::kTimeout: return "timeout";
    case Outcome::kFailed: return "failed";
    case Outcome::kDeferred: return "deferred";
    case Outcome::kCancelled: return "cancelled";
    case Outcome::kUpToDate: return "up_to_date";
    case Outcome::kCoolingDown: return "cooling_down";
    case Outcome::kPaused: return "paused";
  }
  return "unknown";
}

bool PassReport::ok() const {
  if (error) return false;
  if (cancelled_by != 0) return false;
  for (const LabelReport& label : labels) switch (label.outcome) {
      case Outcome::kBelowThreshold:
      case Outcome::kUpToDate:
      case Outcome::kCoolingDown:
      case Outcome::kPaused:
      case Outcome::kDryRun:
      case Outcome::kRetrainTriggered:
      case Outcome::kDeferred: break;
      case Outcome::kPending:
      case Outcome::kTimeout:
      case Outcome::kFailed:
      case Outcome::kCancelled: return false;
    }
  return true;
}

const char* PassReport::status() const {
  if (locked) return "locked";
  if (cancelled_by != 0) return "cancelled";
  return ok() ? "ok" : "failed";
}

int PassReport::exit_code() const {
  if (locked) return kExitLocked;
  if (cancelled_by != 0) return 128 + cancelled_by;
  return ok() ? kExitOk : kExitFailed;
}

void RedactReport(PassReport& report, const std::vector<std::string>& secrets) {
  const auto redact = [&secrets](std::optional<std::string>& text) {
    if (text) text = Redact(std::move(*text), secrets);
  };
  redact(report.error);
  for (LabelReport& label : report.labels) {
    redact(label.error);
    redact(label.retrain_detail);
    redact(label.retrain_decision);
  }
}

}  // namespace orch
