// The pass summary: one JSON document on stdout (and --summary PATH), and a Markdown table for
// $GITHUB_STEP_SUMMARY.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "engine/pass_report.h"

namespace orch {

nlohmann::ordered_json SummaryJson(const PassReport& report);
std::string SummaryMarkdown(const PassReport& report);

// The pass's step outputs for GitHub Actions ($GITHUB_OUTPUT), one name=value line each:
// status, exit_code, and for each outcome that some label reached, its labels comma separated
// (retrain_triggered=department,urgency). Later steps read them as steps.<id>.outputs.<name>.
std::string GithubOutputs(const PassReport& report);

}  // namespace orch
