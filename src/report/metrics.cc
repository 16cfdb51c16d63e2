#include "report/metrics.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <utility>

#include "engine/pass_report.h"
#include "hub/http_client.h"
#include "util/base64.h"
#include "util/log.h"

namespace orch {
namespace {

constexpr std::string_view kJob = "orchestrator";
constexpr std::string_view kContentType = "text/plain; version=0.0.4";
constexpr size_t kMaxErrorBodyChars = 200;

struct LabelPair {
  std::string_view name;
  std::string_view value;
};

// One line of a family: its rendered label set ("" or "{a=\"b\"}") and value.
struct Sample {
  std::string labels;
  std::string value;
};

std::string Labels(std::initializer_list<LabelPair> pairs) {
  std::string out = "{";
  for (const LabelPair& pair : pairs) {
    if (out.size() > 1) out += ',';
    out += std::string(pair.name) + "=\"" + EscapeLabelValue(pair.value) + '"';
  }
  return out + "}";
}

int PhaseValue(Phase phase) {
  switch (phase) {
    case Phase::kIdle: return 0;
    case Phase::kPreparing: return 1;
    case Phase::kRetraining: return 2;
  }
  return 0;
}

double Seconds(WallTime::duration duration) { return std::chrono::duration<double>(duration).count(); }

void AppendFamily(std::string& out, std::string_view name, std::string_view help, const std::vector<Sample>& samples) {
  if (samples.empty()) return;
  out += "# HELP " + std::string(name) + ' ' + std::string(help) + '\n';
  out += "# TYPE " + std::string(name) + " gauge\n";
  for (const Sample& sample : samples) out += std::string(name) + sample.labels + ' ' + sample.value + '\n';
}

// One sample per label, `value` picking (or not, for an absent value) what it reports.
template <typename Value>
std::vector<Sample> PerLabel(const PassMetrics& metrics, Value value) {
  std::vector<Sample> samples;
  for (const LabelMetrics& label : metrics.labels) {
    std::optional<std::string> text = value(label);
    if (text) samples.push_back({Labels({{"label", label.label}}), std::move(*text)});
  }
  return samples;
}

void AppendLabelFamilies(std::string& out, const PassMetrics& metrics) {
  AppendFamily(
      out, "orchestrator_misclassified", "Reviewed misclassified rows counted for the label in the last pass.",
      PerLabel(metrics, [](const LabelMetrics& l) { return std::optional(PrometheusNumber(l.misclassified)); }));
  AppendFamily(out, "orchestrator_dataset_len",
               "Rows the label's next dataset would hold (misclassified plus sampled correct).",
               PerLabel(metrics, [](const LabelMetrics& l) { return std::optional(PrometheusNumber(l.dataset_len)); }));
  AppendFamily(out, "orchestrator_threshold", "Dataset rows needed before a new dataset is prepared for the label.",
               PerLabel(metrics, [](const LabelMetrics& l) { return std::optional(PrometheusNumber(l.threshold)); }));
  AppendFamily(
      out, "orchestrator_phase", "Where the label is in the prepare/retrain cycle: 0 idle, 1 preparing, 2 retraining.",
      PerLabel(metrics, [](const LabelMetrics& l) { return std::optional(std::to_string(PhaseValue(l.phase))); }));
  std::vector<Sample> outcomes;
  for (const LabelMetrics& label : metrics.labels)
    outcomes.push_back({Labels({{"label", label.label}, {"outcome", label.last_outcome}}), "1"});
  AppendFamily(out, "orchestrator_last_outcome", "How the label's last pass ended: 1 for its outcome.", outcomes);
  AppendFamily(out, "orchestrator_seconds_since_last_retrain",
               "Seconds from the label's last retrain to the end of the last pass (absent when never retrained).",
               PerLabel(metrics, [](const LabelMetrics& l) -> std::optional<std::string> {
                 if (!l.seconds_since_last_retrain) return std::nullopt;
                 return PrometheusNumber(*l.seconds_since_last_retrain);
               }));
}

void AppendPassFamilies(std::string& out, const PassMetrics& metrics) {
  AppendFamily(out, "orchestrator_pass_duration_seconds", "How long the last pass took.",
               {{"", PrometheusNumber(metrics.duration_seconds)}});
  AppendFamily(out, "orchestrator_pass_status",
               "How the last pass ended (ok, failed, cancelled or locked): 1 for its status.",
               {{Labels({{"status", metrics.status}}), "1"}});
  AppendFamily(out, "orchestrator_pass_dry_run", "1 when the last pass was a dry run, 0 otherwise.",
               {{"", metrics.dry_run ? "1" : "0"}});
  AppendFamily(out, "orchestrator_pass_last_finished_timestamp_seconds",
               "When the last pass finished, in seconds since the Unix epoch.",
               {{"", PrometheusNumber(UnixSeconds(metrics.finished_at))}});
}

bool UrlSafe(std::string_view value) {
  // "." and ".." would be removed from the path as it is cleaned; base64 keeps them.
  if (value.empty() || value == "." || value == "..") return false;
  return std::all_of(value.begin(), value.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~'; });
}

std::string WithoutTrailingSlashes(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string FailureReason(const HttpResponse& response) {
  if (response.status == 0) return response.error;
  // The Pushgateway says in its body why it refused a push (inconsistent metrics…).
  std::string body = response.body.substr(0, kMaxErrorBodyChars);
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  return "HTTP " + std::to_string(response.status) + (body.empty() ? "" : ": " + body);
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string PrometheusNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, result.ptr);
}

std::string PrometheusNumber(int64_t value) { return std::to_string(value); }

double UnixSeconds(WallTime time) {
  // Whole milliseconds, so the text reads 1764138677.123 rather than a nanosecond-rounding tail.
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  return static_cast<double>(millis) / 1000.0;
}

std::string PushgatewayGroupPath(std::string_view instance) {
  std::string path = "/metrics/job/" + std::string(kJob);
  if (UrlSafe(instance)) return path + "/instance/" + std::string(instance);
  // An empty value needs a single "=" in this form.
  return path + "/instance@base64/" + (instance.empty() ? std::string("=") : Base64Url(instance));
}

std::string MetricsText(const PassMetrics& metrics) {
  std::string out;
  AppendLabelFamilies(out, metrics);
  AppendPassFamilies(out, metrics);
  return out;
}

PassMetrics MetricsFor(const PassReport& report, std::span<const LabelState> states) {
  PassMetrics metrics;
  metrics.duration_seconds = std::max(0.0, Seconds(report.finished_at - report.started_at));
  metrics.status = report.status();
  metrics.dry_run = report.dry_run;
  metrics.finished_at = report.finished_at;
  for (const LabelReport& label : report.labels) {
    LabelMetrics& entry = metrics.labels.emplace_back();
    entry.label = label.label;
    entry.misclassified = label.misclassified;
    entry.dataset_len = label.dataset_len;
    entry.threshold = label.threshold;
    entry.last_outcome = OutcomeName(label.outcome);
    auto state =
        std::find_if(states.begin(), states.end(), [&](const LabelState& s) { return s.label == label.label; });
    if (state == states.end()) continue;
    entry.phase = state->phase;
    // A wall clock stepped back could make the difference negative, which would mean nothing.
    if (state->last_retrained_at)
      entry.seconds_since_last_retrain = std::max(0.0, Seconds(report.finished_at - *state->last_retrained_at));
  }
  return metrics;
}

std::string LastSuccessText(const PassMetrics& metrics) {
  std::string out;
  AppendFamily(out, "orchestrator_pass_last_success_timestamp_seconds",
               "When the last pass that ended ok (not a dry run) finished, in seconds since the Unix epoch.",
               {{"", PrometheusNumber(UnixSeconds(metrics.finished_at))}});
  return out;
}

namespace {

// PUTs `body` to the group at `path`; true when the Pushgateway took it, otherwise the reason is
// added to `fields`.
bool Put(HttpClient& http, const std::string& url, std::string body, Fields& fields) {
  try {
    HttpRequest request;
    request.method = "PUT";
    request.url = url;
    request.body = std::move(body);
    request.content_type = std::string(kContentType);
    HttpResponse response = http.Perform(request);
    if (response.status >= 200 && response.status < 300) return true;
    fields.push_back({"error", FailureReason(response)});
    fields.push_back({"attempts", response.attempts});
  } catch (const std::exception& error) {
    fields.push_back({"error", error.what()});
  }
  return false;
}

}  // namespace

void PushMetrics(HttpClient& http, const std::string& pushgateway_url, const std::string& instance,
                 const PassMetrics& metrics, Log& log) {
  Fields fields = {{"instance", instance}};
  const std::string group = WithoutTrailingSlashes(pushgateway_url) + PushgatewayGroupPath(instance);
  // The last success has a group of its own, pushed only by a pass that succeeded, so a failing
  // pass replaces the pass's gauges and leaves the last success as it was.
  const bool succeeded = metrics.status == "ok" && !metrics.dry_run;
  if (Put(http, group, MetricsText(metrics), fields) &&
      (!succeeded || Put(http, group + "/push/last_success", LastSuccessText(metrics), fields))) {
    log.Info("", "metrics pushed", fields);
    return;
  }
  log.Warning("", "metrics not pushed", fields);
}

}  // namespace orch
