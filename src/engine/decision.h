// The rules that decide whether a label needs a new dataset, and whether a dataset is the new one.
// Pure functions: everything they need is in their arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "config/config.h"
#include "db/state_store.h"
#include "hub/hub.h"
#include "util/time.h"

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
// was current before the prepare worker was started. Large enough: num_samples plus the counted
// rows the worker says it dropped (rows_dropped) reach required_len, so a row the pass counted
// and the worker could not use (no text after cleaning, no label) does not hold the cycle back.
bool IsNewDataset(const DatasetMetadata& metadata, const std::optional<std::string>& baseline_version,
                  int64_t required_len);

// How many rows `metadata` lacks to reach required_len, its rows_dropped counted: 0 when none.
int64_t RowsShort(const DatasetMetadata& metadata, int64_t required_len);

// Why `read` is not the dataset a cycle with this baseline and required_len waits for, for the
// log and the label's error: "no version other than v1 was published", "the latest version, v2,
// has 148 samples and 0 rows dropped: 2 short of the 150 asked for", or why the metadata could not
// be read. "" when it is that dataset.
std::string WhyNotTheDataset(const MetadataRead& read, const std::optional<std::string>& baseline_version,
                             int64_t required_len);

// The label's last cycle ended with its dataset retrained, and the data has not grown since that
// dataset was asked for: preparing again would build and retrain the same data once more.
bool AlreadyRetrained(const LabelState& state, int64_t dataset_len);

// Why an idle label is not prepared although it may have enough data.
enum class Hold {
  kNone,         // nothing holds it: prepared when at its threshold
  kPaused,       // `orchestrator label pause`: counted, never prepared
  kUpToDate,     // fewer reviewed corrections new since its last retrained dataset than MIN_NEW_ROWS
  kCoolingDown,  // its last retrain is more recent than RETRAIN_COOLDOWN
};

// What the label's evidence is worth now, beyond its threshold: paying only for new corrections.
struct Evidence {
  // Reviewed corrections new since the dataset last retrained: all of them before the first
  // retrain, 0 when some were deleted since. Nothing when the last retrain was recorded before
  // these counts were kept (then the dataset's length decides, see AlreadyRetrained).
  std::optional<int64_t> new_rows;
  int64_t min_new_rows = 1;                // MIN_NEW_ROWS[_<LABEL>]
  std::optional<WallTime> cooldown_until;  // the last retrain plus RETRAIN_COOLDOWN, while that is ahead
  Hold hold = Hold::kNone;                 // for an idle label; kPaused whatever its counts
};

// Weighs an idle label's evidence at `now` (a label in a cycle is held by nothing: its cycle goes
// on). A label is held, in this order, when paused; when at its threshold with too few new
// corrections since its last retrained dataset; when at its threshold within its cooldown.
Evidence Weigh(const Decision& decision, const LabelState& state, int64_t misclassified, const LabelConfig& label,
               WallTime now);

// "12 new of 50": the new corrections against MIN_NEW_ROWS, as the log, the summary, `status` and
// the status page say it ("? new of 50" when the last retrain's count is unknown).
std::string NewRowsText(const Evidence& evidence);

}  // namespace orch
