// What a pass tells the outside world beyond its summary: alerts to a webhook and metrics to a
// real Prometheus Pushgateway, from the real binary.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/fake_hub.h"
#include "support/pass_world.h"
#include "support/pushgateway_server.h"
#include "support/webhook_receiver.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using testing::FakeHub;
using testing::ProcessResult;

constexpr const char* kToken = "hf_observabilitySECRET";

class Observability : public ::testing::Test, public testing::PassWorld {
 protected:
  void SetUp() override {
    Open("sqlite", kToken);
    AddSpaces();
    env["POLL_TIMEOUT"] = "0.3";  // nothing is published: department times out
  }
  ProcessResult Run() { return RunOrchestrator({}); }
};

TEST_F(Observability, ATimeoutIsPostedToTheWebhookWithoutAnySecret) {
  testing::WebhookReceiver receiver;
  env["ALERT_WEBHOOK_URL"] = receiver.url();
  ProcessResult result = Run();
  EXPECT_EQ(result.exit_code, 1);
  ASSERT_EQ(receiver.Count(), 1) << result.err;
  testing::WebhookReceiver::Received alert = receiver.Requests()[0];
  nlohmann::json body = nlohmann::json::parse(alert.body);
  ASSERT_TRUE(body["text"].is_string()) << alert.body;
  EXPECT_NE(body["text"].get<std::string>().find("department"), std::string::npos) << alert.body;
  EXPECT_EQ(alert.body.find(kToken), std::string::npos);
  EXPECT_EQ(result.err.find(receiver.url()), std::string::npos) << "the webhook URL is a credential";
}

TEST_F(Observability, AFailingAlertEndpointNeverFailsThePass) {
  hub.OnRestart("owner/prepare", {FakeHub::Publication::AfterPolls("owner/department", 30, 0, "d2")});
  env["POLL_TIMEOUT"] = "20";
  testing::WebhookReceiver receiver;
  receiver.SetStatus(500);
  env["ALERT_WEBHOOK_URL"] = receiver.url();
  EXPECT_EQ(Run().exit_code, 0) << "nothing to alert about, and the pass is fine";
  env["POLL_TIMEOUT"] = "0.3";
  database->AddMisclassified(20, "department");       // a new cycle that times out and alerts
  hub.SetSpaceStage("owner/retrain_dept", "PAUSED");  // d2's retrain is over
  ProcessResult result = Run();
  EXPECT_EQ(result.exit_code, 1) << "the timeout, not the webhook, decides";
  EXPECT_GE(receiver.Count(), 1);
  EXPECT_NE(result.err.find("warning"), std::string::npos) << result.err;
}

TEST_F(Observability, MetricsArePushedToARealPushgateway) {
  ORCH_REQUIRE_PUSHGATEWAY();
  testing::PushgatewayServer pushgateway;
  env["PUSHGATEWAY_URL"] = pushgateway.url();
  env["ORCHESTRATOR_NAME"] = "grievances";
  Run();
  std::string metrics = pushgateway.Metrics();
  EXPECT_NE(
      metrics.find("orchestrator_misclassified{instance=\"grievances\",job=\"orchestrator\",label=\"department\"} 20"),
      std::string::npos)
      << metrics;
  EXPECT_NE(
      metrics.find("orchestrator_threshold{instance=\"grievances\",job=\"orchestrator\",label=\"department\"} 20"),
      std::string::npos);
  EXPECT_NE(metrics.find("orchestrator_phase{instance=\"grievances\",job=\"orchestrator\",label=\"department\"} 1"),
            std::string::npos)
      << "still preparing after the timeout: resumable";
  EXPECT_NE(metrics.find("orchestrator_pass_duration_seconds{"), std::string::npos);
  EXPECT_NE(metrics.find("orchestrator_pass_status{instance=\"grievances\",job=\"orchestrator\",status=\"failed\"} 1"),
            std::string::npos);
}

}  // namespace
}  // namespace orch
