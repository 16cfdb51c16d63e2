// HTTPS as the Hub and a webhook speak it: servers with a certificate from a test authority of
// their own, which the program trusts only when HTTP_CA_BUNDLE names it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "hub/http_client.h"
#include "support/fake_hub.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"
#include "support/test_tls.h"
#include "support/webhook_receiver.h"
#include "triggers/webhook_trigger.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using testing::FakeHub;
using testing::ProcessResult;
using testing::Subprocess;
using testing::TempDir;
using testing::TestTls;
using testing::WebhookReceiver;

class Https : public ::testing::Test {
 protected:
  HttpSettings Trusting() const {
    HttpSettings settings;
    settings.max_retries = 0;
    settings.ca_bundle = tls.ca_file;
    return settings;
  }

  TempDir dir;
  TestTls tls = testing::MakeTestTls(dir.path().string());
};

TEST_F(Https, TheHubIsReadOverHttpsWhenItsAuthorityIsTrustedAndRefusedOtherwise) {
  FakeHub hub("127.0.0.1", tls);
  hub.PublishMetadata("owner/department", {{"version_tag", "v20261204_120000"}, {"num_samples", 120}});
  ASSERT_TRUE(hub.endpoint().starts_with("https://")) << hub.endpoint();
  HttpClient trusting(Trusting(), "hf_test_token", hub.endpoint());
  HttpRequest get;
  get.url = hub.MetadataUrl("owner/department");
  const HttpResponse read = trusting.Perform(get);
  EXPECT_EQ(read.status, 200) << read.error;
  EXPECT_NE(read.body.find("v20261204_120000"), std::string::npos) << read.body;

  HttpSettings system_only = Trusting();
  system_only.ca_bundle.clear();  // the system's authorities do not know the test's
  HttpClient wary(system_only, "hf_test_token", hub.endpoint());
  const HttpResponse refused = wary.Perform(get);
  EXPECT_EQ(refused.status, 0);
  EXPECT_NE(refused.error.find("certificate"), std::string::npos) << refused.error;
}

TEST_F(Https, AWebhookIsPostedOverHttpsWithItsToken) {
  WebhookReceiver receiver(tls);
  ASSERT_TRUE(receiver.url().starts_with("https://")) << receiver.url();
  WebhookTrigger trigger(Trusting(), "wh_token", {}, nullptr);
  StartRequest request;
  request.target = "webhook:" + receiver.url();
  request.label = "urgency";
  request.dataset_version = "v2";
  request.idempotency_key = IdempotencyKey("urgency", "v2");
  const StartResult result = trigger.Start(std::span<const StartRequest>(&request, 1)).front();
  EXPECT_TRUE(result.ok) << result.detail;
  ASSERT_EQ(receiver.Requests().size(), 1u);
  EXPECT_EQ(receiver.Requests().front().authorization, "Bearer wh_token");
}

// The program end to end: `check` asks the Hub over HTTPS for the token and the Spaces.
TEST_F(Https, TheProgramChecksTheHubOverHttpsWithHttpCaBundle) {
  FakeHub hub("127.0.0.1", tls);
  hub.AddSpace("owner/prepare", "PAUSED");
  hub.AddSpace("owner/retrain_department", "PAUSED");
  hub.AddSpace("owner/retrain_urgency", "PAUSED");
  std::map<std::string, std::string> env = {{"PATH", "/usr/bin:/bin"},
                                            {"HF_ENDPOINT", hub.endpoint()},
                                            {"HF_TOKEN", "hf_test_token"},
                                            {"HTTP_RETRIES", "0"},
                                            {"DATABASE_URL", "sqlite:///" + dir.File("absent.db")},
                                            {"PREPARE_DATASET_REPO", "owner/prepare"},
                                            {"RETRAIN_DEPARTMENT_REPO", "owner/retrain_department"},
                                            {"RETRAIN_URGENCY_REPO", "owner/retrain_urgency"}};
  const auto check = [&] { return Subprocess::Run({ORCH_BINARY, "check", "--json"}, env, dir.path().string(), 60s); };
  env["HTTP_CA_BUNDLE"] = tls.ca_file;
  const ProcessResult trusted = check();
  const nlohmann::json checks = nlohmann::json::parse(trusted.out, nullptr, false);
  ASSERT_FALSE(checks.is_discarded()) << trusted.out << trusted.err;
  bool token_ok = false;
  for (const nlohmann::json& line : checks["checks"])
    if (line.value("name", "") == "token") token_ok = line.value("status", "") == "ok";
  EXPECT_TRUE(token_ok) << trusted.out;

  env.erase("HTTP_CA_BUNDLE");
  const ProcessResult untrusted = check();
  EXPECT_EQ(untrusted.exit_code, 1);
  EXPECT_NE(untrusted.out.find("certificate"), std::string::npos) << untrusted.out;
}

}  // namespace
}  // namespace orch
