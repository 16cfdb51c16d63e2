#include "engine/decision.h"

#include <algorithm>
#include <cmath>

namespace orch {

int64_t WantedCorrectRows(int64_t misclassified, double correct_ratio) {
  return static_cast<int64_t>(std::floor(static_cast<double>(misclassified) * correct_ratio));
}

bool NeedsPoolCount(int64_t misclassified, double correct_ratio, int64_t threshold) {
  return misclassified + WantedCorrectRows(misclassified, correct_ratio) >= threshold;
}

Decision Decide(int64_t misclassified, std::optional<int64_t> available, double correct_ratio, int64_t threshold) {
  Decision decision;
  int64_t wanted = WantedCorrectRows(misclassified, correct_ratio);
  decision.upper_bound = !available.has_value();
  decision.sampled_correct = available ? std::min(wanted, *available) : wanted;
  decision.dataset_len = misclassified + decision.sampled_correct;
  decision.prepare = decision.dataset_len >= threshold;
  return decision;
}

bool IsNewDataset(const DatasetMetadata& metadata, const std::optional<std::string>& baseline_version,
                  int64_t required_len) {
  return metadata.num_samples >= required_len && metadata.version_tag != baseline_version;
}

bool AlreadyRetrained(const LabelState& state, int64_t dataset_len) {
  return state.phase == Phase::kIdle && state.last_retrained_version && state.required_len &&
         state.dataset_version == state.last_retrained_version && dataset_len <= *state.required_len;
}

}  // namespace orch
