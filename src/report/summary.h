// The pass summary: one JSON document on stdout (and --summary PATH), and a Markdown table for
// $GITHUB_STEP_SUMMARY.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "engine/pass_report.h"

namespace orch {

nlohmann::ordered_json SummaryJson(const PassReport& report);
std::string SummaryMarkdown(const PassReport& report);

}  // namespace orch
