// The passes recorded in orchestrator_runs, as `orchestrator history` and the status page show them.
//
// A row's texts and its summary are read back from the database, where anything may have been
// written: the functions here take any summary text (JSON of any shape, or not JSON), show what
// they recognise, and escape control bytes in what they print.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "db/state_store.h"

namespace orch {

// Seconds from start to finish; nothing while the pass runs (or when it was killed).
std::optional<double> RunSeconds(const RunRecord& run);

// "2.4 s", "3 min 5 s", "-" while it runs.
std::string RunDuration(const RunRecord& run);

// The run as JSON: its id, times, duration_seconds, status, dry_run, started_by, github_run_id and
// commit (null when unknown), and its summary (null while it runs or when none was recorded).
nlohmann::ordered_json RunJson(const RunRecord& run);

// `orchestrator history`'s line for a pass (no line break): id, start, duration, status, who
// started it, then label=outcome for each label of its summary (or a label action's reason).
std::string RunLine(const RunRecord& run);

// `orchestrator history --run ID`: the pass's record, then each label's outcome and counts from its
// summary; lines ending in '\n'.
std::string RunText(const RunRecord& run);

}  // namespace orch
