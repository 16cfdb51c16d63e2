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

int64_t RowsShort(const DatasetMetadata& metadata, int64_t required_len) {
  // One subtraction at a time, each between non-negative numbers (ParseMetadata): adding the two
  // counts of a file could overflow.
  if (metadata.rows_dropped >= required_len) return 0;
  return std::max<int64_t>(0, required_len - metadata.rows_dropped - metadata.num_samples);
}

bool IsNewDataset(const DatasetMetadata& metadata, const std::optional<std::string>& baseline_version,
                  int64_t required_len) {
  return RowsShort(metadata, required_len) == 0 && metadata.version_tag != baseline_version;
}

std::string WhyNotTheDataset(const MetadataRead& read, const std::optional<std::string>& baseline_version,
                             int64_t required_len) {
  if (read.status != MetadataRead::Status::kOk)
    return std::string("its dataset_metadata.json could not be read (") + MetadataStatusName(read.status) + ": " +
           read.detail + ")";
  const DatasetMetadata& metadata = *read.metadata;
  if (metadata.version_tag == baseline_version) return "no version other than " + *baseline_version + " was published";
  const int64_t short_by = RowsShort(metadata, required_len);
  if (short_by == 0) return "";
  return "the latest version, " + metadata.version_tag + ", has " + std::to_string(metadata.num_samples) +
         " samples and " + std::to_string(metadata.rows_dropped) + " rows dropped: " + std::to_string(short_by) +
         " short of the " + std::to_string(required_len) + " asked for";
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
