// What one pass did: per label, the counts, the decision and how it ended.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/decision.h"

namespace orch {

enum class Outcome {
  kPending,           // still being worked on (never in a finished report)
  kBelowThreshold,    // not enough data: nothing to do
  kDryRun,            // would have prepared, but this is a dry run
  kRetrainTriggered,  // a new dataset appeared and the retrain worker was started
  kTimeout,           // no new dataset within POLL_TIMEOUT (the cycle stays resumable)
  kFailed,            // something went wrong; see error
  kDeferred,          // enough data, but a prepare cycle is still in flight, or the retrain worker is still
                      // running the last retrain: prepared in a later pass
  kCancelled,         // the pass was stopped (SIGTERM/SIGINT) while waiting; the next pass resumes
  kUpToDate,          // enough data, but fewer new corrections since the dataset last retrained than MIN_NEW_ROWS
  kCoolingDown,       // enough new data, but the last retrain is more recent than RETRAIN_COOLDOWN
  kPaused,            // `orchestrator label pause`: counted, not prepared
};
const char* OutcomeName(Outcome outcome);

struct LabelReport {
  std::string label;
  int64_t misclassified = 0;
  int64_t sampled_correct = 0;
  int64_t dataset_len = 0;
  bool upper_bound = false;
  int64_t threshold = 0;
  bool prepare = false;
  Evidence evidence;  // new corrections against MIN_NEW_ROWS, the cooldown, and what holds the label
  Outcome outcome = Outcome::kPending;
  std::optional<std::string> baseline_version;
  std::optional<std::string> dataset_version;
  std::optional<int64_t> dataset_samples;
  std::optional<std::string> error;
  std::optional<double> waited_seconds;  // from the prepare restart to the outcome
  bool resumed = false;                  // this pass took over a cycle an earlier pass started
  // With --wait: how the retrain worker ended ("finished", "failed", "timeout", "cancelled",
  // "not waitable"), its detail, and the decision record it reported (JSON), if any.
  std::optional<std::string> retrain_result;
  std::optional<std::string> retrain_detail;
  std::optional<std::string> retrain_decision;
  // The runs this pass started or confirmed, for workers whose starts are runs of their own
  // ("namespace/job id" for a Hugging Face Job).
  std::optional<std::string> prepare_run;
  std::optional<std::string> retrain_run;
};

struct PassReport {
  bool dry_run = false;
  std::chrono::system_clock::time_point started_at;
  std::chrono::system_clock::time_point finished_at;
  bool prepare_triggered = false;
  std::optional<std::string> error;  // a failure of the whole pass (database unusable…)
  int cancelled_by = 0;              // the signal that stopped the pass, 0 when it ran to its end
  bool locked = false;               // another pass held the run lock: nothing was done
  std::vector<LabelReport> labels;

  bool ok() const;             // every label ended well and the pass itself did not fail
  int exit_code() const;       // 0 when ok(), 75 when locked, 128 + signal when cancelled, 1 otherwise
  const char* status() const;  // "ok", "failed", "cancelled" or "locked"
};

// Replaces every secret in the report's texts (the pass's and each label's error, a retrain's detail
// and decision) with "***", whoever wrote them: a worker, libcurl, the Hub, libpq.
void RedactReport(PassReport& report, const std::vector<std::string>& secrets);

}  // namespace orch
