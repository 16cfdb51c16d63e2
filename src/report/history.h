// The passes recorded in orchestrator_runs, as `orchestrator history` and the status page show them.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "db/state_store.h"

namespace orch {

// Seconds from start to finish; nothing while the pass runs (or when it was killed).
std::optional<double> RunSeconds(const RunRecord& run);

// The run as JSON: its id, times, duration_seconds, status, dry_run, started_by, github_run_id and
// commit (null when unknown), and its summary (null while it runs or when none was recorded).
nlohmann::ordered_json RunJson(const RunRecord& run);

}  // namespace orch
