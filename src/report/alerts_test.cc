#include "report/alerts.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/pass_report.h"
#include "hub/http_client.h"
#include "report/stream_log.h"
#include "support/webhook_receiver.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using orch::testing::WebhookReceiver;

constexpr char kSecret[] = "hf_s3cr3t_token";

LabelReport Label(std::string name, Outcome outcome, std::optional<std::string> error = std::nullopt) {
  LabelReport label;
  label.label = std::move(name);
  label.outcome = outcome;
  label.error = std::move(error);
  return label;
}

// ---- AlertsFor ----------------------------------------------------------------------------------

TEST(AlertsForTest, AWellEndedPassRaisesNothing) {
  PassReport report;
  report.labels = {Label("urgency", Outcome::kRetrainTriggered), Label("department", Outcome::kBelowThreshold),
                   Label("topic", Outcome::kDryRun)};
  EXPECT_TRUE(AlertsFor(report).empty());
}

TEST(AlertsForTest, OneAlertPerTimeoutAndPerFailedLabelClassifiedByItsError) {
  PassReport report;
  LabelReport timed_out = Label("urgency", Outcome::kTimeout, "no dataset … within POLL_TIMEOUT=1800 s");
  timed_out.dataset_len = 120;
  timed_out.waited_seconds = 1800.4;
  report.labels = {
      Label("department", Outcome::kBelowThreshold),
      timed_out,
      Label("topic", Outcome::kFailed, "restarting the retrain worker owner/topic-retrain failed: HTTP 500"),
      Label("tone", Outcome::kFailed, "the prepare worker owner/prepare failed: stage RUNTIME_ERROR"),
      Label("lang", Outcome::kFailed, "restarting the prepare worker owner/prepare failed: HTTP 403"),
      Label("intent", Outcome::kRetrainTriggered),
  };
  std::vector<Alert> alerts = AlertsFor(report);
  ASSERT_EQ(alerts.size(), 4u);

  EXPECT_EQ(alerts[0].kind, Alert::Kind::kTimeout);
  EXPECT_EQ(alerts[0].label, "urgency");
  EXPECT_EQ(alerts[0].text, "urgency timed out after 1800 s waiting for a dataset with at least 120 samples");

  EXPECT_EQ(alerts[1].kind, Alert::Kind::kTriggerFailed);
  EXPECT_EQ(alerts[1].label, "topic");
  EXPECT_EQ(alerts[1].text, "topic failed: restarting the retrain worker owner/topic-retrain failed: HTTP 500");

  EXPECT_EQ(alerts[2].kind, Alert::Kind::kWorkerError);
  EXPECT_EQ(alerts[2].label, "tone");
  EXPECT_NE(alerts[2].text.find("RUNTIME_ERROR"), std::string::npos);

  EXPECT_EQ(alerts[3].kind, Alert::Kind::kTriggerFailed);
  EXPECT_EQ(alerts[3].label, "lang");
}

TEST(AlertsForTest, ATimeoutWithoutAWaitTimeSaysWhatWasAwaited) {
  PassReport report;
  LabelReport label = Label("urgency", Outcome::kTimeout);
  label.dataset_len = 7;
  report.labels = {label};
  std::vector<Alert> alerts = AlertsFor(report);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].text, "urgency timed out waiting for a dataset with at least 7 samples");
}

TEST(AlertsForTest, AFailedPassIsOneAlertRatherThanOnePerLabel) {
  PassReport report;
  report.error = "connection to server lost";
  report.labels = {Label("urgency", Outcome::kFailed, "database: connection to server lost"),
                   Label("department", Outcome::kFailed, "database: connection to server lost")};
  std::vector<Alert> alerts = AlertsFor(report);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].kind, Alert::Kind::kPassFailed);
  EXPECT_EQ(alerts[0].label, "");
  EXPECT_EQ(alerts[0].text, "the pass failed: connection to server lost");
}

TEST(AlertsForTest, AStopBySignalRaisesNothingButALostLockDoes) {
  PassReport report;
  report.cancelled_by = 15;
  report.labels = {Label("urgency", Outcome::kCancelled, "the pass was stopped by signal 15; the next pass resumes")};
  EXPECT_TRUE(AlertsFor(report).empty());

  const std::string lost = "the run lock was lost (its lease expired and another pass took it); this pass stops";
  report.cancelled_by = 0;
  report.error = lost;
  report.labels = {Label("urgency", Outcome::kCancelled, lost), Label("tone", Outcome::kFailed, lost)};
  std::vector<Alert> alerts = AlertsFor(report);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].kind, Alert::Kind::kPassFailed);
  EXPECT_EQ(alerts[0].text, "the pass failed: " + lost);
}

TEST(AlertsForTest, KindsHaveStableNames) {
  EXPECT_STREQ(AlertKindName(Alert::Kind::kTimeout), "timeout");
  EXPECT_STREQ(AlertKindName(Alert::Kind::kTriggerFailed), "trigger_failed");
  EXPECT_STREQ(AlertKindName(Alert::Kind::kWorkerError), "worker_error");
  EXPECT_STREQ(AlertKindName(Alert::Kind::kLockContention), "lock_contention");
  EXPECT_STREQ(AlertKindName(Alert::Kind::kPassFailed), "pass_failed");
}

// ---- WebhookAlerter against a real HTTP server --------------------------------------------------

HttpSettings FastRetries() {
  HttpSettings settings;
  settings.connect_timeout = 2;
  settings.request_timeout = 5;
  settings.max_retries = 2;
  settings.retry_base = 0.01;
  settings.retry_max = 0.05;
  return settings;
}

class AlertsWebhookTest : public ::testing::Test {
 protected:
  WebhookAlerter Alerter(const std::string& url) { return WebhookAlerter(http, url, log, {kSecret}, "nightly"); }

  std::vector<nlohmann::json> LogLines() const {
    std::vector<nlohmann::json> lines;
    std::istringstream in(log_text.str());
    for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
  }
  // The one log line with this event, or null.
  nlohmann::json LogEvent(const std::string& event) const {
    nlohmann::json found;
    for (const nlohmann::json& line : LogLines())
      if (line.value("event", "") == event) found = line;
    return found;
  }
  std::string PostedText(size_t index) const {
    return nlohmann::json::parse(receiver.Requests().at(index).body).at("text").get<std::string>();
  }

  std::ostringstream log_text;
  SystemClock clock;
  StreamLog log{log_text, LogFormat::kJson, clock, {}};
  HttpClient http{FastRetries(), "", ""};
  WebhookReceiver receiver;
};

TEST_F(AlertsWebhookTest, PostsSlackJsonNamingTheLabelWithoutTheSecret) {
  WebhookAlerter alerter = Alerter(receiver.url());
  alerter.Send({Alert::Kind::kTriggerFailed, "topic",
                std::string("topic failed: restarting the retrain worker failed: bad token ") + kSecret});
  ASSERT_TRUE(receiver.WaitFor([&] { return receiver.Count() == 1; }, 5s));

  WebhookReceiver::Received request = receiver.Requests()[0];
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.path, "/hooks/test");
  EXPECT_EQ(request.content_type, "application/json");
  nlohmann::json body = nlohmann::json::parse(request.body);
  ASSERT_TRUE(body.is_object());
  EXPECT_EQ(body.size(), 1u) << request.body;
  std::string text = body.at("text").get<std::string>();
  EXPECT_EQ(text, ":x: orchestrator (nightly): topic failed: restarting the retrain worker failed: bad token ***");
  EXPECT_EQ(request.body.find(kSecret), std::string::npos);
  EXPECT_EQ(LogEvent("alert sent").value("kind", ""), "trigger_failed");
}

TEST_F(AlertsWebhookTest, EveryAlertOfAPassIsPosted) {
  PassReport report;
  LabelReport timed_out = Label("urgency", Outcome::kTimeout);
  timed_out.dataset_len = 120;
  timed_out.waited_seconds = 1800;
  report.labels = {timed_out, Label("tone", Outcome::kFailed, "the prepare worker owner/prepare failed: boom")};
  report.error = "disk full";
  WebhookAlerter alerter = Alerter(receiver.url());
  for (const Alert& alert : AlertsFor(report)) alerter.Send(alert);
  ASSERT_TRUE(receiver.WaitFor([&] { return receiver.Count() == 3; }, 5s));
  EXPECT_EQ(PostedText(0),
            ":warning: orchestrator (nightly): urgency timed out after 1800 s waiting for a dataset with at least 120 "
            "samples");
  EXPECT_EQ(PostedText(1), ":x: orchestrator (nightly): tone failed: the prepare worker owner/prepare failed: boom");
  EXPECT_EQ(PostedText(2), ":rotating_light: orchestrator (nightly): the pass failed: disk full");
}

TEST_F(AlertsWebhookTest, TextFromOutsideCannotBreakLinesOrMentionTheChannel) {
  WebhookAlerter alerter = Alerter(receiver.url());
  alerter.Send({Alert::Kind::kWorkerError, "tone", "tone failed: line one\nline two <!channel> & <http://x|y>"});
  ASSERT_TRUE(receiver.WaitFor([&] { return receiver.Count() == 1; }, 5s));
  std::string text = PostedText(0);
  EXPECT_EQ(text.find('\n'), std::string::npos) << text;
  EXPECT_EQ(text.find('<'), std::string::npos) << text;
  EXPECT_NE(text.find("line one\\x0aline two &lt;!channel&gt; &amp; &lt;http://x|y&gt;"), std::string::npos) << text;
}

TEST_F(AlertsWebhookTest, ASecretContainingEscapedCharactersIsStillRemoved) {
  WebhookAlerter alerter(http, receiver.url(), log, {"p&ss<word>"}, "nightly");
  alerter.Send({Alert::Kind::kPassFailed, "", "the pass failed: password p&ss<word> refused"});
  ASSERT_TRUE(receiver.WaitFor([&] { return receiver.Count() == 1; }, 5s));
  EXPECT_EQ(PostedText(0), ":rotating_light: orchestrator (nightly): the pass failed: password *** refused");
}

TEST_F(AlertsWebhookTest, AServerErrorIsRetriedThenOnlyLogged) {
  receiver.SetStatus(500);
  WebhookAlerter alerter = Alerter(receiver.url());
  EXPECT_NO_THROW(alerter.Send({Alert::Kind::kTimeout, "urgency", "urgency timed out"}));
  EXPECT_EQ(receiver.Count(), 1 + FastRetries().max_retries);
  nlohmann::json warning = LogEvent("alert not delivered");
  ASSERT_FALSE(warning.is_null()) << log_text.str();
  EXPECT_EQ(warning["level"], "warning");
  EXPECT_EQ(warning["label"], "urgency");
  EXPECT_EQ(warning["kind"], "timeout");
  EXPECT_EQ(warning["error"], "HTTP 500");
  EXPECT_EQ(warning["attempts"], 1 + FastRetries().max_retries);
}

TEST_F(AlertsWebhookTest, AClientErrorIsFinalAndOnlyLogged) {
  receiver.SetStatus(404);
  WebhookAlerter alerter = Alerter(receiver.url());
  EXPECT_NO_THROW(alerter.Send({Alert::Kind::kLockContention, "", "another orchestrator holds the lock"}));
  EXPECT_EQ(receiver.Count(), 1);
  EXPECT_EQ(LogEvent("alert not delivered").value("error", ""), "HTTP 404");
}

TEST_F(AlertsWebhookTest, ARefusedConnectionIsOnlyLoggedWithoutTheUrl) {
  const std::string url = receiver.url();
  receiver.Refuse();
  WebhookAlerter alerter = Alerter(url);
  EXPECT_NO_THROW(alerter.Send({Alert::Kind::kPassFailed, "", "the pass failed: disk full"}));
  nlohmann::json warning = LogEvent("alert not delivered");
  ASSERT_FALSE(warning.is_null()) << log_text.str();
  EXPECT_FALSE(warning.value("error", "").empty());
  EXPECT_EQ(log_text.str().find(url), std::string::npos) << log_text.str();
  EXPECT_EQ(receiver.Count(), 0);
}

}  // namespace
}  // namespace orch
