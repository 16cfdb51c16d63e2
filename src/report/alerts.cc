#include "report/alerts.h"

#include <cmath>
#include <exception>
#include <nlohmann/json.hpp>
#include <utility>

#include "engine/pass_report.h"
#include "hub/http_client.h"
#include "util/log.h"
#include "util/redact.h"

namespace orch {
namespace {

// How the pass words a failed restart (see Pass::StartPrepare and Pass::StartRetrains).
constexpr std::string_view kRestartFailurePrefix = "restarting ";

const char* IconFor(Alert::Kind kind) {
  switch (kind) {
    case Alert::Kind::kTimeout: return ":warning:";
    case Alert::Kind::kTriggerFailed: return ":x:";
    case Alert::Kind::kWorkerError: return ":x:";
    case Alert::Kind::kLockContention: return ":lock:";
    case Alert::Kind::kPassFailed: return ":rotating_light:";
  }
  return ":grey_question:";
}

Alert TimeoutAlert(const LabelReport& label) {
  std::string text = label.label + " timed out";
  if (label.waited_seconds) text += " after " + std::to_string(std::llround(*label.waited_seconds)) + " s";
  text += " waiting for a dataset with at least " + std::to_string(label.dataset_len) + " samples";
  return {Alert::Kind::kTimeout, label.label, std::move(text)};
}

Alert FailureAlert(const LabelReport& label) {
  const std::string error = label.error.value_or("no detail recorded");
  Alert::Kind kind = error.starts_with(kRestartFailurePrefix) ? Alert::Kind::kTriggerFailed : Alert::Kind::kWorkerError;
  return {kind, label.label, label.label + " failed: " + error};
}

// A label that failed only because the whole pass did (its error ends with the pass's error).
bool RepeatsPassError(const LabelReport& label, const PassReport& report) {
  return report.error && label.error && !report.error->empty() && label.error->ends_with(*report.error);
}

}  // namespace

const char* AlertKindName(Alert::Kind kind) {
  switch (kind) {
    case Alert::Kind::kTimeout: return "timeout";
    case Alert::Kind::kTriggerFailed: return "trigger_failed";
    case Alert::Kind::kWorkerError: return "worker_error";
    case Alert::Kind::kLockContention: return "lock_contention";
    case Alert::Kind::kPassFailed: return "pass_failed";
  }
  return "unknown";
}

std::string EscapeSlackText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

WebhookAlerter::WebhookAlerter(HttpClient& http, std::string url, Log& log, std::vector<std::string> secrets,
                               std::string orchestrator_name)
    : http_(http),
      url_(std::move(url)),
      log_(log),
      secrets_(std::move(secrets)),
      orchestrator_name_(std::move(orchestrator_name)) {
  secrets_.push_back(url_);  // so that an error text quoting the URL cannot leak it into the log
}

std::string WebhookAlerter::MessageText(const Alert& alert) const {
  std::string text = std::string(IconFor(alert.kind)) + " orchestrator (" + orchestrator_name_ + "): " + alert.text;
  // Redaction first: a secret may contain the characters the later steps escape.
  return EscapeSlackText(Printable(Redact(std::move(text), secrets_)));
}

void WebhookAlerter::Send(const Alert& alert) {
  // Logged as events of the pass: alerts are sent after the labels' own log lines are complete.
  Fields fields = {{"kind", AlertKindName(alert.kind)}};
  if (!alert.label.empty()) fields.push_back({"label", alert.label});
  try {
    HttpRequest request;
    request.method = "POST";
    request.url = url_;
    request.content_type = "application/json";
    // Invalid UTF-8 (from a server's error text) becomes U+FFFD rather than an exception.
    request.body =
        nlohmann::json{{"text", MessageText(alert)}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    HttpResponse response = http_.Perform(request);
    if (response.status >= 200 && response.status < 300) {
      log_.Info("", "alert sent", fields);
      return;
    }
    std::string reason = response.status != 0 ? "HTTP " + std::to_string(response.status) : response.error;
    fields.push_back({"error", Redact(reason, secrets_)});
    fields.push_back({"attempts", response.attempts});
  } catch (const std::exception& error) {
    fields.push_back({"error", Redact(error.what(), secrets_)});
  }
  log_.Warning("", "alert not delivered", fields);
}

std::vector<Alert> AlertsFor(const PassReport& report) {
  std::vector<Alert> alerts;
  for (const LabelReport& label : report.labels) {
    if (label.outcome == Outcome::kTimeout) {
      alerts.push_back(TimeoutAlert(label));
    } else if (label.outcome == Outcome::kFailed && !RepeatsPassError(label, report)) {
      alerts.push_back(FailureAlert(label));
    }
  }
  if (report.error) alerts.push_back({Alert::Kind::kPassFailed, "", "the pass failed: " + *report.error});
  return alerts;
}

}  // namespace orch
