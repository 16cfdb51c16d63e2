// Alerts: short messages to a chat channel when a pass needs a person's attention (a dataset that
// never came, a restart or worker that failed, another orchestrator holding the lock, a failed pass).
//
// They go to a Slack-compatible incoming webhook (ALERT_WEBHOOK_URL) as {"text": "..."}. Alerting is
// a side channel: a webhook that is down or refuses the message is logged as a warning and never
// fails or interrupts the pass.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace orch {

class HttpClient;
class Log;
struct PassReport;

struct Alert {
  enum class Kind {
    kTimeout,         // no new dataset within POLL_TIMEOUT
    kTriggerFailed,   // a restart request to the prepare or a retrain Space failed
    kWorkerError,     // the prepare worker failed, or what it published could not be read
    kLockContention,  // another orchestrator holds the run lock
    kPassFailed,      // the pass as a whole failed (database unusable…)
  };
  Kind kind = Kind::kPassFailed;
  std::string label;  // "" for an alert about the whole pass
  std::string text;   // one sentence; the alerter adds the orchestrator's name
};

// "timeout", "trigger_failed", "worker_error", "lock_contention", "pass_failed": for logs.
const char* AlertKindName(Alert::Kind kind);

class Alerter {
 public:
  virtual ~Alerter() = default;
  // Delivers the alert, or logs why it could not. Never throws.
  virtual void Send(const Alert& alert) = 0;
};

// The alerter when ALERT_WEBHOOK_URL is not set.
class NullAlerter : public Alerter {
 public:
  void Send(const Alert& alert) override { (void)alert; }
};

// POSTs each alert to a Slack-compatible incoming webhook.
class WebhookAlerter : public Alerter {
 public:
  // `http` and `log` must outlive the alerter. `url` is treated as a secret (a Slack webhook URL is
  // its own credential) and never logged; `secrets` are removed from every text sent.
  WebhookAlerter(HttpClient& http, std::string url, Log& log, std::vector<std::string> secrets,
                 std::string orchestrator_name);

  void Send(const Alert& alert) override;

  // The message as posted, e.g. ":warning: orchestrator (nightly): urgency timed out after 1800 s
  // waiting for a dataset with at least 120 samples". Secrets redacted, control characters
  // escaped, and Slack's control characters (&, <, >) escaped so that a text from outside cannot
  // mention @channel or forge a link.
  std::string MessageText(const Alert& alert) const;

 private:
  HttpClient& http_;
  std::string url_;
  Log& log_;
  std::vector<std::string> secrets_;
  std::string orchestrator_name_;
};

// The alerts a finished pass calls for, in label order, the pass's own failure last:
//  - one kTimeout per label that timed out;
//  - one per failed label, classified by the start of its error text (as written by the pass):
//    "restarting …" (a prepare or retrain Space restart that was refused or unanswered) gives
//    kTriggerFailed; any other error (the worker reported a failure, or its dataset could not be
//    read) gives kWorkerError. A label failure that only repeats the pass's error (it ends with
//    report.error) is left to the kPassFailed alert rather than repeated for every label;
//  - one kPassFailed when report.error is set (a database failure, a run lock lost mid-pass).
// Labels cancelled by a signal raise nothing: someone asked for the stop, and the next pass resumes.
// Lock contention (report.locked) raises nothing here either: the caller, which knows who holds
// the lock, sends that alert itself.
std::vector<Alert> AlertsFor(const PassReport& report);

// Escapes &, < and > as Slack's message formatting requires.
std::string EscapeSlackText(std::string_view text);

}  // namespace orch
