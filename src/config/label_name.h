// Label names: what a label may be called, and how its name is spelled in environment variables.
//
// A label name becomes part of SQL column names, environment variable names and log fields, so
// only a small, safe alphabet is accepted: [a-z][a-z0-9_]{0,62}.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace orch {

inline constexpr size_t kMaxLabelNameLength = 63;

bool IsValidLabelName(std::string_view name);

// "" when `name` is valid; otherwise a sentence quoting the (escaped) name and stating the rule.
std::string LabelNameProblem(std::string_view name);

// Throws ConfigError with LabelNameProblem() when `name` is not valid.
void ValidateLabelName(std::string_view name);

// The spellings of a label inside environment variable names, canonical first: "DEPARTMENT",
// then "DEPT" for the label "department" (the original used RETRAIN_DEPT_REPO and
// HF_HUB_METADATA_DEPT next to THRESHOLD_DEPARTMENT).
std::vector<std::string> LabelEnvSpellings(std::string_view label);

// `text` in double quotes with control characters, quotes, backslashes and non-ASCII bytes
// escaped (\n, \", \\, \xNN), cut after 100 bytes: safe to put in any message or terminal.
std::string QuoteForMessage(std::string_view text);

}  // namespace orch
