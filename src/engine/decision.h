// The rules that decide whether a label needs a new dataset, and whether a dataset is the new one.
// Pure functions: everything they need is in their arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "db/state_store.h"
#include "hub/hub.h"

namespace orch {

// The most correct rows the prepare worker could add: floor(misclassified × ratio).
int64_t WantedCorrectRows(int64_t misclassified, double correct_ratio);

// Whether the pool of correct rows must be counted: only when the largest dataset the label
// could reach (every wanted correct row available) meets the threshold.
bool NeedsPoolCount(int64_t misclassified, double correct_ratio, int64_t threshold);

struct Decision {
  int64_t sampled_correct = 0;  // min(wanted, available), or wanted when the pool was not counted
  int64_t dataset_len = 0;      // misclassified + sampled_correct
  bool upper_bound = false;     // true when the pool was not counted: dataset_len is the largest possible
  bool prepare = false;         // dataset_len >= threshold
};

// `available` is the pool count, or nothing when it was not counted (see NeedsPoolCount).
Decision Decide(int64_t misclassified, std::optional<int64_t> available, double correct_ratio, int64_t threshold);

// A published dataset is the one asked for when it is large enough and is not the version that
// was current before the prepare worker was started.
bool IsNewDataset(const DatasetMetadata& metadata, const std::optional<std::string>& baseline_version,
                  int64_t required_len);

// The label's last cycle ended with its dataset retrained, and the data has not grown since that
// dataset was asked for: preparing again would build and retrain the same data once more.
bool AlreadyRetrained(const LabelState& state, int64_t dataset_len);

// The label has enough data, but no more than its dataset already retrained: nothing new to learn.
inline bool UpToDate(const Decision& decision, const LabelState& state) {
  return decision.prepare && AlreadyRetrained(state, decision.dataset_len);
}

}  // namespace orch
