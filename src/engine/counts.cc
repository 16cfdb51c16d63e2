#include "engine/counts.h"

#include "engine/decision.h"

namespace orch {

std::vector<int64_t> CountMisclassified(const Config& config, Database& database) {
  std::vector<int64_t> counts(config.labels.size(), 0);
  std::vector<LabelColumns> scanned;
  std::vector<size_t> scanned_index;
  for (size_t i = 0; i < config.labels.size(); ++i) {
    const LabelConfig& label = config.labels[i];
    if (!label.misclassified_sql.empty()) {
      counts[i] = database.CountWithQuery(label.misclassified_sql);
    } else {
      scanned.push_back(label.columns);
      scanned_index.push_back(i);
    }
  }
  const std::vector<int64_t> scan = scanned.empty() ? std::vector<int64_t>{} : database.CountMisclassified(scanned);
  for (size_t k = 0; k < scan.size(); ++k) counts[scanned_index[k]] = scan[k];
  return counts;
}

std::vector<std::optional<int64_t>> CountPools(const Config& config, Database& database,
                                               const std::vector<int64_t>& misclassified) {
  std::vector<std::optional<int64_t>> pools(config.labels.size());
  std::vector<LabelColumns> joined;
  std::vector<size_t> joined_index;
  for (size_t i = 0; i < config.labels.size(); ++i) {
    const LabelConfig& label = config.labels[i];
    if (!NeedsPoolCount(misclassified[i], config.correct_ratio, label.threshold)) continue;
    if (!label.pool_sql.empty()) {
      pools[i] = database.CountWithQuery(label.pool_sql);
    } else {
      joined.push_back(label.columns);
      joined_index.push_back(i);
    }
  }
  const std::vector<int64_t> counts = joined.empty() ? std::vector<int64_t>{} : database.CountCorrectPool(joined);
  for (size_t k = 0; k < counts.size(); ++k) pools[joined_index[k]] = counts[k];
  return pools;
}

}  // namespace orch
