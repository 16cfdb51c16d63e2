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

Evidence Weigh(const Decision& decision, const LabelState& state, int64_t misclassified, const LabelConfig& label,
               WallTime now) {
  Evidence evidence;
  evidence.min_new_rows = label.min_new_rows;
  if (!state.last_retrained_version)
    evidence.new_rows = misclassified;
  else if (state.last_retrained_misclassified)
    evidence.new_rows = std::max<int64_t>(0, misclassified - *state.last_retrained_misclassified);
  if (state.last_retrained_at && label.retrain_cooldown > 0) {
    const WallTime until = *state.last_retrained_at + std::chrono::duration_cast<WallTime::duration>(
                                                          std::chrono::duration<double>(label.retrain_cooldown));
    if (now < until) evidence.cooldown_until = until;
  }
  if (state.phase != Phase::kIdle) return evidence;
  if (state.paused_at) {
    evidence.hold = Hold::kPaused;
  } else if (decision.prepare && state.last_retrained_version &&
             (evidence.new_rows ? *evidence.new_rows < evidence.min_new_rows
                                : AlreadyRetrained(state, decision.dataset_len))) {
    evidence.hold = Hold::kUpToDate;
  } else if (decision.prepare && evidence.cooldown_until) {
    evidence.hold = Hold::kCoolingDown;
  }
  return evidence;
}

std::string NewRowsText(const Evidence& evidence) {
  return (evidence.new_rows ? std::to_string(*evidence.new_rows) : std::string("?")) + " new of " +
         std::to_string(evidence.min_new_rows);
}

}  // namespace orch
