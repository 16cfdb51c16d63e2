// Metrics of the last pass for a Prometheus Pushgateway (PUSHGATEWAY_URL).
//
// A pass is a short-lived job, so Prometheus cannot scrape it: each pass pushes its gauges to a
// Pushgateway, which keeps them until the next push from the same instance replaces them all.
// Pushing is a side channel: a failure is logged as a warning and never fails the pass.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "db/state_store.h"

namespace orch {

class HttpClient;
class Log;
struct PassReport;

struct LabelMetrics {
  std::string label;
  int64_t misclassified = 0;
  int64_t dataset_len = 0;
  int64_t threshold = 0;
  Phase phase = Phase::kIdle;
  std::string last_outcome;                          // OutcomeName() of the label's outcome in this pass
  std::optional<double> seconds_since_last_retrain;  // nothing when never retrained
};

struct PassMetrics {
  double duration_seconds = 0;
  std::string status;  // PassReport::status(): "ok", "failed", "cancelled" or "locked"
  bool dry_run = false;
  std::vector<LabelMetrics> labels;
  WallTime finished_at{};
};

// The gauges in the Prometheus text exposition format (version 0.0.4), one # HELP and # TYPE per
// family. Families without a sample (no label retrained yet, no label at all) are left out.
//   orchestrator_misclassified{label}                 orchestrator_pass_duration_seconds
//   orchestrator_dataset_len{label}                   orchestrator_pass_status{status} 1
//   orchestrator_threshold{label}                     orchestrator_pass_dry_run (0 or 1)
//   orchestrator_phase{label} (0 idle, 1 preparing,   orchestrator_pass_last_finished_timestamp_seconds
//     2 retraining)
//   orchestrator_last_outcome{label,outcome} 1 (one series per label)
//   orchestrator_seconds_since_last_retrain{label}
std::string MetricsText(const PassMetrics& metrics);

// A sample value as Prometheus reads it: the shortest text that reads back as the same double,
// NaN, +Inf or -Inf.
std::string PrometheusNumber(double value);
std::string PrometheusNumber(int64_t value);

// Seconds since the Unix epoch, to the millisecond (1764138677.123).
double UnixSeconds(WallTime time);

// Builds the metrics of a finished pass from its report (status: report.status()) and the labels'
// saved states, matched by name; a label without a state counts as idle and never retrained.
PassMetrics MetricsFor(const PassReport& report, std::span<const LabelState> states);

// orchestrator_pass_last_success_timestamp_seconds: when the pass (ok, not a dry run) finished.
std::string LastSuccessText(const PassMetrics& metrics);

// PUTs the metrics to {pushgateway_url}/metrics/job/orchestrator/instance/{instance}, replacing
// whatever that instance pushed before; after a pass that ended ok (not a dry run), also PUTs
// LastSuccessText to the group .../push/last_success, which a failed pass leaves alone: alert on
// `time() - orchestrator_pass_last_success_timestamp_seconds`. Logs a warning when the Pushgateway
// cannot be reached or refuses the push; never throws.
void PushMetrics(HttpClient& http, const std::string& pushgateway_url, const std::string& instance,
                 const PassMetrics& metrics, Log& log);

// The grouping-key part of the push URL: "/metrics/job/orchestrator/instance/<instance>", the
// instance as it is when made only of URL-safe characters, otherwise in the Pushgateway's
// "instance@base64/<base64url>" form (the only form that carries a "/" or an empty value).
std::string PushgatewayGroupPath(std::string_view instance);

// Escapes a label value for the text format: backslash, double quote and line feed.
std::string EscapeLabelValue(std::string_view value);

}  // namespace orch
