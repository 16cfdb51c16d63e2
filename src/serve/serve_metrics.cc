#include "serve/serve_metrics.h"

#include <cmath>
#include <functional>

#include "report/metrics.h"
#include "report/status.h"

namespace orch {
namespace {

std::string UnixSecondsText(WallTime time) { return PrometheusNumber(UnixSeconds(time)); }

class Exposition {
 public:
  // Writes # HELP and # TYPE; the samples follow with Sample().
  void Family(std::string_view name, std::string_view type, std::string_view help) {
    name_ = name;
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  // `labels` is "" or already rendered: label="value",other="value".
  void Sample(std::string_view labels, std::string_view value) {
    out_ += name_;
    if (!labels.empty()) {
      out_ += '{';
      out_ += labels;
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string name_;
  std::string out_;
};

std::string LabelPair(std::string_view name, std::string_view value) {
  return std::string(name) + "=\"" + EscapeLabelValue(value) + "\"";
}

void PerLabel(Exposition& out, const std::vector<LabelStatus>& labels, std::string_view name, std::string_view help,
              const std::function<std::string(const LabelStatus&)>& value) {
  out.Family(name, "gauge", help);
  for (const LabelStatus& label : labels) out.Sample(LabelPair("label", label.config->name), value(label));
}

void Labels(Exposition& out, const Snapshot& snapshot) {
  const std::vector<LabelStatus>& labels = snapshot.labels;
  if (labels.empty()) return;
  PerLabel(out, labels, "orchestrator_label_misclassified_rows", "Reviewed misclassified rows counted for the label.",
           [](const LabelStatus& label) { return std::to_string(label.misclassified); });
  PerLabel(out, labels, "orchestrator_label_dataset_rows",
           "Rows the label's next dataset would hold (dataset_len; an upper bound when the pool was not counted).",
           [](const LabelStatus& label) { return std::to_string(label.decision.dataset_len); });
  PerLabel(out, labels, "orchestrator_label_threshold_rows", "Rows the label's dataset must reach to be prepared.",
           [](const LabelStatus& label) { return std::to_string(label.config->threshold); });
  out.Family("orchestrator_label_phase", "gauge",
             "1 for the label's phase in the prepare/retrain cycle (idle, preparing, retraining), 0 for the others.");
  for (const LabelStatus& label : labels)
    for (Phase phase : {Phase::kIdle, Phase::kPreparing, Phase::kRetraining})
      out.Sample(LabelPair("label", label.config->name) + "," + LabelPair("phase", PhaseName(phase)),
                 label.state.phase == phase ? "1" : "0");
  PerLabel(out, labels, "orchestrator_label_ready",
           "1 when the label has enough rows, enough new corrections, and nothing holds it: the next pass prepares it.",
           [](const LabelStatus& label) { return Ready(label) ? "1" : "0"; });
  PerLabel(out, labels, "orchestrator_label_new_corrections_rows",
           "Reviewed corrections new since the label's last retrained dataset (all of them before the first).",
           [](const LabelStatus& label) {
             return label.evidence.new_rows ? std::to_string(*label.evidence.new_rows) : std::string("NaN");
           });
  PerLabel(out, labels, "orchestrator_label_min_new_corrections_rows",
           "New corrections the label needs before it is prepared again (MIN_NEW_ROWS).",
           [](const LabelStatus& label) { return std::to_string(label.evidence.min_new_rows); });
  PerLabel(out, labels, "orchestrator_label_paused", "1 while the label is paused (orchestrator label pause).",
           [](const LabelStatus& label) { return label.state.paused_at ? "1" : "0"; });
  bool any_retrained = false;
  for (const LabelStatus& label : labels) any_retrained = any_retrained || label.state.last_retrained_at.has_value();
  if (any_retrained) {
    out.Family("orchestrator_label_last_retrain_timestamp_seconds", "gauge",
               "When the label's last dataset was retrained, in Unix time.");
    for (const LabelStatus& label : labels)
      if (label.state.last_retrained_at)
        out.Sample(LabelPair("label", label.config->name), UnixSecondsText(*label.state.last_retrained_at));
  }
}

void Passes(Exposition& out, const Snapshot& snapshot) {
  if (snapshot.runs.empty()) return;
  out.Family("orchestrator_pass_last_run_timestamp_seconds", "gauge",
             "When the newest pass recorded in orchestrator_runs started, in Unix time.");
  out.Sample("", UnixSecondsText(snapshot.runs.front().record.started_at));
  for (const RunDigest& run : snapshot.runs) {
    if (run.record.status != "ok" || !run.record.finished_at) continue;
    out.Family("orchestrator_pass_last_success_timestamp_seconds", "gauge",
               "When the newest pass that ended ok finished, in Unix time (among the passes the snapshot read).");
    out.Sample("", UnixSecondsText(*run.record.finished_at));
    return;
  }
}

}  // namespace

std::string ServeMetricsText(const SnapshotView& view, const ServerCounters& counters) {
  Exposition out;
  out.Family("orchestrator_build_info", "gauge", "The orchestrator's version, as a label; always 1.");
  out.Sample(LabelPair("version", ORCH_VERSION), "1");
  if (view.snapshot) {
    Labels(out, *view.snapshot);
    Passes(out, *view.snapshot);
  }
  out.Family("orchestrator_serve_passes_total", "counter", "Passes this server ran (API and schedule), by status.");
  for (const char* status : {"ok", "failed", "cancelled", "locked"}) {
    auto found = counters.passes.find(status);
    out.Sample(LabelPair("status", status), std::to_string(found == counters.passes.end() ? 0 : found->second));
  }
  out.Family("orchestrator_serve_pass_running", "gauge", "1 while this server runs a pass.");
  out.Sample("", counters.pass_running ? "1" : "0");
  if (view.snapshot) {
    out.Family("orchestrator_serve_snapshot_timestamp_seconds", "gauge",
               "When the status snapshot these figures come from was taken, in Unix time.");
    out.Sample("", UnixSecondsText(view.snapshot->taken_at));
    out.Family("orchestrator_serve_snapshot_duration_seconds", "gauge", "How long taking that snapshot took.");
    out.Sample("", PrometheusNumber(view.snapshot->took_seconds));
  }
  out.Family("orchestrator_serve_snapshot_failures_total", "counter",
             "Attempts to take a status snapshot that failed (the database could not be read).");
  out.Sample("", std::to_string(view.failures));
  return out.Take();
}

}  // namespace orch
