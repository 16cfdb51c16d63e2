#include "report/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/pass_report.h"
#include "hub/http_client.h"
#include "report/stream_log.h"
#include "support/postgres_server.h"
#include "support/pushgateway_server.h"
#include "support/webhook_receiver.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using orch::testing::PushgatewayServer;

WallTime UnixMillis(int64_t millis) { return WallTime(std::chrono::milliseconds(millis)); }

LabelMetrics Label(std::string name, int64_t misclassified, Phase phase, std::string outcome,
                   std::optional<double> since_retrain = std::nullopt) {
  return {std::move(name), misclassified, misclassified * 2, 80, phase, std::move(outcome), since_retrain};
}

PassMetrics SmallPass() {
  PassMetrics metrics;
  metrics.duration_seconds = 12.25;
  metrics.status = "failed";
  metrics.labels = {Label("urgency", 42, Phase::kPreparing, "timeout", 3600.5),
                    Label("department", 3, Phase::kIdle, "below_threshold")};
  metrics.finished_at = UnixMillis(1764138677123);
  return metrics;
}

// ---- the text format --------------------------------------------------------------------------

TEST(MetricsTextTest, MatchesTheExpositionFormatExactly) {
  const std::string expected =
      "# HELP orchestrator_misclassified Reviewed misclassified rows counted for the label in the last pass.\n"
      "# TYPE orchestrator_misclassified gauge\n"
      "orchestrator_misclassified{label=\"urgency\"} 42\n"
      "orchestrator_misclassified{label=\"department\"} 3\n"
      "# HELP orchestrator_dataset_len Rows the label's next dataset would hold (misclassified plus sampled correct).\n"
      "# TYPE orchestrator_dataset_len gauge\n"
      "orchestrator_dataset_len{label=\"urgency\"} 84\n"
      "orchestrator_dataset_len{label=\"department\"} 6\n"
      "# HELP orchestrator_threshold Dataset rows needed before a new dataset is prepared for the label.\n"
      "# TYPE orchestrator_threshold gauge\n"
      "orchestrator_threshold{label=\"urgency\"} 80\n"
      "orchestrator_threshold{label=\"department\"} 80\n"
      "# HELP orchestrator_phase Where the label is in the prepare/retrain cycle: 0 idle, 1 preparing, 2 retraining.\n"
      "# TYPE orchestrator_phase gauge\n"
      "orchestrator_phase{label=\"urgency\"} 1\n"
      "orchestrator_phase{label=\"department\"} 0\n"
      "# HELP orchestrator_last_outcome How the label's last pass ended: 1 for its outcome.\n"
      "# TYPE orchestrator_last_outcome gauge\n"
      "orchestrator_last_outcome{label=\"urgency\",outcome=\"timeout\"} 1\n"
      "orchestrator_last_outcome{label=\"department\",outcome=\"below_threshold\"} 1\n"
      "# HELP orchestrator_seconds_since_last_retrain Seconds from the label's last retrain to the end of the last "
      "pass (absent when never retrained).\n"
      "# TYPE orchestrator_seconds_since_last_retrain gauge\n"
      "orchestrator_seconds_since_last_retrain{label=\"urgency\"} 3600.5\n"
      "# HELP orchestrator_pass_duration_seconds How long the last pass took.\n"
      "# TYPE orchestrator_pass_duration_seconds gauge\n"
      "orchestrator_pass_duration_seconds 12.25\n"
      "# HELP orchestrator_pass_status How the last pass ended (ok, failed, cancelled or locked): 1 for its status.\n"
      "# TYPE orchestrator_pass_status gauge\n"
      "orchestrator_pass_status{status=\"failed\"} 1\n"
      "# HELP orchestrator_pass_dry_run 1 when the last pass was a dry run, 0 otherwise.\n"
      "# TYPE orchestrator_pass_dry_run gauge\n"
      "orchestrator_pass_dry_run 0\n"
      "# HELP orchestrator_pass_last_finished_timestamp_seconds When the last pass finished, in seconds since the "
      "Unix epoch.\n"
      "# TYPE orchestrator_pass_last_finished_timestamp_seconds gauge\n"
      "orchestrator_pass_last_finished_timestamp_seconds 1764138677.123\n";
  EXPECT_EQ(MetricsText(SmallPass()), expected);
}

TEST(MetricsTextTest, FamiliesWithoutSamplesAreLeftOut) {
  PassMetrics metrics = SmallPass();
  metrics.labels = {Label("department", 3, Phase::kRetraining, "retrain_triggered")};
  std::string text = MetricsText(metrics);
  EXPECT_EQ(text.find("orchestrator_seconds_since_last_retrain"), std::string::npos) << text;
  EXPECT_NE(text.find("orchestrator_phase{label=\"department\"} 2\n"), std::string::npos) << text;

  metrics.labels.clear();
  text = MetricsText(metrics);
  EXPECT_EQ(text.find("{label="), std::string::npos) << text;
  EXPECT_EQ(text.find("# HELP orchestrator_misclassified"), std::string::npos) << text;
  EXPECT_NE(text.find("orchestrator_pass_status{status=\"failed\"} 1\n"), std::string::npos) << text;
}

TEST(MetricsTextTest, HostileLabelValuesAreEscaped) {
  PassMetrics metrics = SmallPass();
  metrics.status = "ok\"} 1\nfake_metric 666";
  metrics.labels = {Label("a\"b\\c\nd", 1, Phase::kIdle, "x\\\"y")};
  std::string text = MetricsText(metrics);
  EXPECT_NE(text.find("orchestrator_misclassified{label=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("orchestrator_last_outcome{label=\"a\\\"b\\\\c\\nd\",outcome=\"x\\\\\\\"y\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("orchestrator_pass_status{status=\"ok\\\"} 1\\nfake_metric 666\"} 1\n"), std::string::npos)
      << text;
  // No value can start a line of its own.
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    EXPECT_TRUE(line.starts_with("# ") || line.starts_with("orchestrator_")) << line;
}

TEST(MetricsTextTest, SpecialValuesUseThePrometheusSpelling) {
  PassMetrics metrics = SmallPass();
  metrics.labels = {Label("urgency", 1, Phase::kIdle, "timeout", std::numeric_limits<double>::infinity())};
  metrics.duration_seconds = std::nan("");
  std::string text = MetricsText(metrics);
  EXPECT_NE(text.find("orchestrator_seconds_since_last_retrain{label=\"urgency\"} +Inf\n"), std::string::npos) << text;
  EXPECT_NE(text.find("orchestrator_pass_duration_seconds NaN\n"), std::string::npos) << text;
}

TEST(MetricsTextTest, EscapeLabelValueHandlesTheThreeSpecialCharacters) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("a\\b"), "a\\\\b");
  EXPECT_EQ(EscapeLabelValue("a\"b"), "a\\\"b");
  EXPECT_EQ(EscapeLabelValue("a\nb"), "a\\nb");
  EXPECT_EQ(EscapeLabelValue("tab\there"), "tab\there");  // only \, " and LF are special
}

// ---- the push URL -----------------------------------------------------------------------------

TEST(MetricsPushPathTest, UsesTheInstanceAsItIsWhenUrlSafe) {
  EXPECT_EQ(PushgatewayGroupPath("runner-1.example_com"), "/metrics/job/orchestrator/instance/runner-1.example_com");
}

TEST(MetricsPushPathTest, UsesBase64ForSlashesSpacesDotsAndEmptyValues) {
  EXPECT_EQ(PushgatewayGroupPath("a/b"), "/metrics/job/orchestrator/instance@base64/YS9i");
  EXPECT_EQ(PushgatewayGroupPath("two words"), "/metrics/job/orchestrator/instance@base64/dHdvIHdvcmRz");
  EXPECT_EQ(PushgatewayGroupPath(".."), "/metrics/job/orchestrator/instance@base64/Li4=");
  EXPECT_EQ(PushgatewayGroupPath(""), "/metrics/job/orchestrator/instance@base64/=");
}

// ---- from a report ----------------------------------------------------------------------------

TEST(MetricsForTest, CombinesTheReportWithTheSavedStates) {
  PassReport report;
  report.dry_run = true;
  report.started_at = UnixMillis(1764138600000);
  report.finished_at = UnixMillis(1764138677500);
  LabelReport urgency;
  urgency.label = "urgency";
  urgency.misclassified = 42;
  urgency.dataset_len = 84;
  urgency.threshold = 80;
  urgency.outcome = Outcome::kRetrainTriggered;
  LabelReport department;
  department.label = "department";
  department.outcome = Outcome::kBelowThreshold;
  report.labels = {urgency, department};
  LabelState state;
  state.label = "urgency";
  state.phase = Phase::kRetraining;
  state.last_retrained_at = UnixMillis(1764138677000);
  std::vector<LabelState> states = {state};

  PassMetrics metrics = MetricsFor(report, states);
  EXPECT_DOUBLE_EQ(metrics.duration_seconds, 77.5);
  EXPECT_EQ(metrics.status, "ok");
  EXPECT_TRUE(metrics.dry_run);
  EXPECT_EQ(metrics.finished_at, report.finished_at);
  ASSERT_EQ(metrics.labels.size(), 2u);
  EXPECT_EQ(metrics.labels[0].label, "urgency");
  EXPECT_EQ(metrics.labels[0].misclassified, 42);
  EXPECT_EQ(metrics.labels[0].dataset_len, 84);
  EXPECT_EQ(metrics.labels[0].threshold, 80);
  EXPECT_EQ(metrics.labels[0].phase, Phase::kRetraining);
  EXPECT_EQ(metrics.labels[0].last_outcome, "retrain_triggered");
  ASSERT_TRUE(metrics.labels[0].seconds_since_last_retrain);
  EXPECT_DOUBLE_EQ(*metrics.labels[0].seconds_since_last_retrain, 0.5);
  EXPECT_EQ(metrics.labels[1].phase, Phase::kIdle);
  EXPECT_EQ(metrics.labels[1].last_outcome, "below_threshold");
  EXPECT_FALSE(metrics.labels[1].seconds_since_last_retrain);

  report.cancelled_by = 15;
  EXPECT_EQ(MetricsFor(report, states).status, "cancelled");
}

// ---- pushing ----------------------------------------------------------------------------------

HttpSettings FastRetries() {
  HttpSettings settings;
  settings.connect_timeout = 2;
  settings.request_timeout = 5;
  settings.max_retries = 2;
  settings.retry_base = 0.01;
  settings.retry_max = 0.05;
  return settings;
}

// The value of the series `name{labels}` in a text-format document; nothing when it is absent.
// `labels` is the label set as the Pushgateway prints it (sorted by name).
std::optional<double> SampleValue(const std::string& text, const std::string& name, const std::string& labels) {
  const std::string prefix = name + "{" + labels + "} ";
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);)
    if (line.starts_with(prefix)) return std::strtod(line.c_str() + prefix.size(), nullptr);
  return std::nullopt;
}

class MetricsPushTest : public ::testing::Test {
 protected:
  std::string LogText() const { return log_text.str(); }

  std::ostringstream log_text;
  SystemClock clock;
  StreamLog log{log_text, LogFormat::kJson, clock, {}};
  HttpClient http{FastRetries(), "", ""};
};

class MetricsPushgatewayTest : public MetricsPushTest {
 protected:
  void SetUp() override {
    ORCH_REQUIRE_PUSHGATEWAY();
    gateway = std::make_unique<PushgatewayServer>();
  }
  std::unique_ptr<PushgatewayServer> gateway;
};

TEST_F(MetricsPushgatewayTest, PushedSeriesAppearUnderTheOrchestratorJob) {
  PushMetrics(http, gateway->url(), "runner-1", SmallPass(), log);
  EXPECT_NE(LogText().find("\"event\":\"metrics pushed\""), std::string::npos) << LogText();

  const std::string text = gateway->Metrics();
  const std::string group = "instance=\"runner-1\",job=\"orchestrator\"";
  EXPECT_EQ(SampleValue(text, "orchestrator_misclassified", group + ",label=\"urgency\""), 42) << text;
  EXPECT_EQ(SampleValue(text, "orchestrator_misclassified", group + ",label=\"department\""), 3) << text;
  EXPECT_EQ(SampleValue(text, "orchestrator_dataset_len", group + ",label=\"urgency\""), 84) << text;
  EXPECT_EQ(SampleValue(text, "orchestrator_threshold", group + ",label=\"urgency\""), 80) << text;
  EXPECT_EQ(SampleValue(text, "orchestrator_phase", group + ",label=\"urgency\""), 1) << text;
  EXPECT_EQ(SampleValue(text, "orchestrator_last_outcome", group + ",label=\"urgency\",outcome=\"timeout\""), 1)
      << text;
  EXPECT_EQ(SampleValue(text, "orchestrator_seconds_since_last_retrain", group + ",label=\"urgency\""), 3600.5) << text;
  EXPECT_FALSE(SampleValue(text, "orchestrator_seconds_since_last_retrain", group + ",label=\"department\""));
  EXPECT_EQ(SampleValue(text, "orchestrator_pass_duration_seconds", group), 12.25) << text;
  EXPECT_EQ(SampleValue(text, "orchestrator_pass_status", group + ",status=\"failed\""), 1) << text;
  EXPECT_EQ(SampleValue(text, "orchestrator_pass_dry_run", group), 0) << text;
  EXPECT_EQ(SampleValue(text, "orchestrator_pass_last_finished_timestamp_seconds", group), 1764138677.123) << text;
  EXPECT_NE(text.find("# TYPE orchestrator_misclassified gauge"), std::string::npos) << text;
}

TEST_F(MetricsPushgatewayTest, ASecondPushReplacesTheFirst) {
  PushMetrics(http, gateway->url(), "runner-1", SmallPass(), log);
  PassMetrics second = SmallPass();
  second.status = "ok";
  second.labels = {Label("urgency", 7, Phase::kIdle, "retrain_triggered")};
  PushMetrics(http, gateway->url(), "runner-1", second, log);

  const std::string text = gateway->Metrics();
  const std::string group = "instance=\"runner-1\",job=\"orchestrator\"";
  EXPECT_EQ(SampleValue(text, "orchestrator_misclassified", group + ",label=\"urgency\""), 7) << text;
  EXPECT_FALSE(SampleValue(text, "orchestrator_misclassified", group + ",label=\"department\"")) << text;
  EXPECT_FALSE(SampleValue(text, "orchestrator_last_outcome", group + ",label=\"urgency\",outcome=\"timeout\""))
      << text;
  EXPECT_EQ(SampleValue(text, "orchestrator_last_outcome", group + ",label=\"urgency\",outcome=\"retrain_triggered\""),
            1)
      << text;
  EXPECT_FALSE(SampleValue(text, "orchestrator_pass_status", group + ",status=\"failed\"")) << text;
  EXPECT_EQ(SampleValue(text, "orchestrator_pass_status", group + ",status=\"ok\""), 1) << text;
  EXPECT_FALSE(SampleValue(text, "orchestrator_seconds_since_last_retrain", group + ",label=\"urgency\"")) << text;
}

TEST_F(MetricsPushgatewayTest, AFailedPassLeavesTheLastSuccessAsItWas) {
  PassMetrics good = SmallPass();
  good.status = "ok";
  PushMetrics(http, gateway->url(), "runner-1", good, log);
  PassMetrics failed = SmallPass();
  failed.status = "failed";
  failed.finished_at += std::chrono::hours(6);
  PushMetrics(http, gateway->url(), "runner-1", failed, log);
  PassMetrics dry = SmallPass();
  dry.status = "ok";
  dry.dry_run = true;
  dry.finished_at += std::chrono::hours(7);
  PushMetrics(http, gateway->url(), "runner-1", dry, log);

  const std::string text = gateway->Metrics();
  const std::string group = "instance=\"runner-1\",job=\"orchestrator\"";
  EXPECT_EQ(SampleValue(text, "orchestrator_pass_last_success_timestamp_seconds", group + ",push=\"last_success\""),
            1764138677.123)
      << "the failed pass and the dry run left the success as it was\n"
      << text;
  EXPECT_EQ(SampleValue(text, "orchestrator_pass_last_finished_timestamp_seconds", group), 1764138677.123 + 7 * 3600)
      << text;
  EXPECT_EQ(SampleValue(text, "orchestrator_pass_status", group + ",status=\"ok\""), 1) << text;
}

TEST_F(MetricsPushgatewayTest, AnInstanceWithASlashAndHostileValuesRoundTrip) {
  PassMetrics metrics = SmallPass();
  metrics.labels = {Label("we\"ird\\la\nbel", 5, Phase::kIdle, "failed")};
  PushMetrics(http, gateway->url() + "/", "ci/runner 7", metrics, log);
  EXPECT_NE(LogText().find("\"event\":\"metrics pushed\""), std::string::npos) << LogText();

  const std::string text = gateway->Metrics();
  EXPECT_EQ(SampleValue(text, "orchestrator_misclassified",
                        "instance=\"ci/runner 7\",job=\"orchestrator\",label=\"we\\\"ird\\\\la\\nbel\""),
            5)
      << text;
}

TEST_F(MetricsPushTest, AnUnreachablePushgatewayIsOnlyLogged) {
  const std::string url = "http://127.0.0.1:" + std::to_string(orch::testing::FreeLoopbackPort());
  EXPECT_NO_THROW(PushMetrics(http, url, "runner-1", SmallPass(), log));
  nlohmann::json warning = nlohmann::json::parse(LogText());
  EXPECT_EQ(warning["level"], "warning");
  EXPECT_EQ(warning["event"], "metrics not pushed");
  EXPECT_EQ(warning["instance"], "runner-1");
  EXPECT_FALSE(warning.value("error", "").empty());
}

TEST_F(MetricsPushTest, ARefusedPushIsOnlyLoggedWithTheStatus) {
  orch::testing::WebhookReceiver server;
  server.SetStatus(400);
  EXPECT_NO_THROW(PushMetrics(http, server.url(), "runner-1", SmallPass(), log));
  ASSERT_EQ(server.Count(), 1);
  EXPECT_EQ(server.Requests()[0].method, "PUT");
  EXPECT_EQ(server.Requests()[0].path, "/hooks/test/metrics/job/orchestrator/instance/runner-1");
  EXPECT_EQ(server.Requests()[0].content_type, "text/plain; version=0.0.4");
  EXPECT_EQ(server.Requests()[0].body, MetricsText(SmallPass()));
  nlohmann::json warning = nlohmann::json::parse(LogText());
  EXPECT_EQ(warning["event"], "metrics not pushed");
  EXPECT_EQ(warning["error"], "HTTP 400: error");
}

}  // namespace
}  // namespace orch
