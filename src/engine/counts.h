// Each label's counts as a pass takes them, for the pass, `status` and the prepare worker alike, so
// that they never disagree about what a label has.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "config/config.h"
#include "db/database.h"

namespace orch {

// Each label's misclassified rows: its configured query, or one scan for all the labels without one.
std::vector<int64_t> CountMisclassified(const Config& config, Database& database);

// Each label's pool of correct rows, counted only where the largest dataset the label could reach
// meets its threshold (NeedsPoolCount), and nothing elsewhere: its configured query, or one
// anti-join for all the others. `misclassified` is what CountMisclassified returned.
std::vector<std::optional<int64_t>> CountPools(const Config& config, Database& database,
                                               const std::vector<int64_t>& misclassified);

}  // namespace orch
