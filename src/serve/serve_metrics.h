// GET /metrics: where each label stands, when passes last ran, and what this server's passes did,
// in the Prometheus text exposition format (version 0.0.4), for a Prometheus that scrapes the
// server. The labels' figures come from the status snapshot (as old as the page says), the
// counters from this process since it started.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "serve/snapshot_keeper.h"

namespace orch {

// The text format's content type.
inline constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

struct ServerCounters {
  std::map<std::string, int64_t> passes;  // by PassReport::status(): "ok", "failed", "cancelled", "locked"
  bool pass_running = false;
};

// Families, with their labels in braces (a family without a sample is left out):
//   orchestrator_build_info{version} 1
//   orchestrator_label_misclassified_rows{label}       orchestrator_pass_last_run_timestamp_seconds
//   orchestrator_label_dataset_rows{label}             orchestrator_pass_last_success_timestamp_seconds
//   orchestrator_label_threshold_rows{label}           orchestrator_serve_passes_total{status} (counter)
//   orchestrator_label_phase{label,phase} 1 or 0       orchestrator_serve_pass_running
//   orchestrator_label_ready{label} 1 or 0             orchestrator_serve_snapshot_timestamp_seconds
//   orchestrator_label_last_retrain_timestamp_seconds{label}
//   orchestrator_serve_snapshot_duration_seconds       orchestrator_serve_snapshot_failures_total (counter)
std::string ServeMetricsText(const SnapshotView& view, const ServerCounters& counters);

}  // namespace orch
