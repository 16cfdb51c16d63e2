// What the next pass will do with a label, and why, as the status page and the label's own page
// tell it. The same rules as the pass (engine/decision.h, engine/pass.h), read from a snapshot:
// what only the workers know (whether a retrain worker still runs) is said as a condition.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "report/status.h"
#include "util/time.h"

namespace orch {

enum class NextStep { kBelowThreshold, kReadyToPrepare, kUpToDate, kCoolingDown, kPaused, kWaiting, kDeferred };

// "below threshold", "ready to prepare", "up to date", "cooling down", "paused", "waiting", "deferred".
const char* NextStepName(NextStep step);

struct Outlook {
  NextStep step = NextStep::kBelowThreshold;
  std::string why;  // one sentence, plain text
};

// The labels whose prepare cycle the next pass resumes (preparing, and not yet stale at `now`):
// while one is in flight, no other label's prepare starts.
std::vector<std::string> CyclesInFlight(const std::vector<LabelStatus>& labels, const Config& config, WallTime now);

// The next pass's step for `label`; `in_flight` is what CyclesInFlight returned for all labels.
Outlook OutlookOf(const LabelStatus& label, const std::vector<std::string>& in_flight, const Config& config,
                  WallTime now);

}  // namespace orch
