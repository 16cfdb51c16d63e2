// One pass with the real parts: the database opened and migrated, the run lock taken, the Hub
// client, metadata sources and workers built from the configuration, the pass run, the run
// recorded in orchestrator_runs, and alerts and metrics sent. `orchestrator run` and
// `orchestrator serve` both start passes through it, so they behave the same.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "config/config.h"
#include "engine/pass_report.h"
#include "util/cancellation.h"
#include "util/clock.h"
#include "util/log.h"

namespace orch {

struct PassRequest {
  std::optional<double> wait_lock;  // seconds to wait for another pass's run lock; none: give up at once
  bool wait_for_retrains = false;   // --wait
  bool force = false;               // --force: prepare labels at their threshold even when up to date
  std::string started_by;           // "schedule", "api", …; "" derives it from GITHUB_EVENT_NAME, or "cli"
  // The process environment: GitHub's run id, event and commit, and the webhook token variable.
  std::map<std::string, std::string> environment;
};

// "host:pid": this process, as the run lock names its holder.
std::string HostAndPid();

// Runs one pass as `config` says and returns its report; never throws for a database, Hub or
// worker failure (the report says what failed). A dry run takes no lock and records nothing.
PassReport RunPass(const Config& config, const PassRequest& request, Clock& clock, Log& log,
                   Cancellation& cancellation);

}  // namespace orch
