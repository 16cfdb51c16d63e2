#include "triggers/webhook_trigger.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/webhook_receiver.h"

namespace orch {
namespace {

using testing::WebhookReceiver;

HttpSettings FastHttp() {
  HttpSettings settings;
  settings.max_retries = 1;
  settings.retry_base = 0.01;
  settings.retry_max = 0.01;
  return settings;
}

StartRequest Request(const std::string& url, const std::string& version) {
  StartRequest request;
  request.target = "webhook:" + url;
  request.label = "urgency";
  request.required_len = 120;
  request.baseline_version = "v20261101_000000";
  request.dataset_version = version;
  request.idempotency_key = IdempotencyKey(request.label, version);
  return request;
}

TEST(WebhookTrigger, PostsTheRequestWithAnIdempotencyKeyAndTheToken) {
  WebhookReceiver receiver;
  WebhookTrigger trigger(FastHttp(), "hook-secret", {}, nullptr);
  const StartRequest request = Request(receiver.url(), "v20261126_101502");
  StartResult result = trigger.Start(std::span<const StartRequest>(&request, 1)).front();
  ASSERT_TRUE(result.ok) << result.detail;
  ASSERT_EQ(receiver.Count(), 1);
  const WebhookReceiver::Received received = receiver.Requests().front();
  EXPECT_EQ(received.method, "POST");
  EXPECT_EQ(received.content_type, "application/json");
  EXPECT_EQ(received.authorization, "Bearer hook-secret");
  EXPECT_EQ(received.idempotency_key, IdempotencyKey("urgency", "v20261126_101502"));
  const nlohmann::json body = nlohmann::json::parse(received.body);
  EXPECT_EQ(body["label"], "urgency");
  EXPECT_EQ(body["required_len"], 120);
  EXPECT_EQ(body["baseline_version"], "v20261101_000000");
  EXPECT_EQ(body["dataset_version"], "v20261126_101502");
  EXPECT_EQ(body["idempotency_key"], received.idempotency_key);
}

TEST(WebhookTrigger, ARepeatCarriesTheSameKeyAndAnotherVersionAnother) {
  WebhookReceiver receiver;
  WebhookTrigger trigger(FastHttp(), "", {}, nullptr);
  const std::vector<StartRequest> requests = {Request(receiver.url(), "v2"), Request(receiver.url(), "v2"),
                                              Request(receiver.url(), "v3")};
  for (const StartResult& result : trigger.Start(requests)) EXPECT_TRUE(result.ok) << result.detail;
  const auto received = receiver.Requests();
  ASSERT_EQ(received.size(), 3u);
  EXPECT_EQ(received[0].idempotency_key, received[1].idempotency_key);
  EXPECT_NE(received[0].idempotency_key, received[2].idempotency_key);
  EXPECT_EQ(received[0].authorization, "") << "no token configured, none sent";
}

TEST(WebhookTrigger, ARefusalFailsTheStartWithTheStatus) {
  WebhookReceiver receiver;
  receiver.SetStatus(403);
  WebhookTrigger trigger(FastHttp(), "hook-secret", {}, nullptr);
  const StartRequest request = Request(receiver.url(), "v2");
  StartResult result = trigger.Start(std::span<const StartRequest>(&request, 1)).front();
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.detail.find("HTTP 403"), std::string::npos) << result.detail;
  EXPECT_EQ(result.detail.find("hook-secret"), std::string::npos);
}

TEST(WebhookTrigger, SaysWhetherAFailedRequestMayHaveReachedTheReceiver) {
  WebhookReceiver receiver;
  receiver.SetStatus(503);
  WebhookTrigger trigger(FastHttp(), "", {}, nullptr);
  StartRequest request = Request(receiver.url(), "v2");
  EXPECT_FALSE(trigger.Start(std::span<const StartRequest>(&request, 1)).front().maybe_started);
  receiver.SetStatus(504);
  EXPECT_TRUE(trigger.Start(std::span<const StartRequest>(&request, 1)).front().maybe_started)
      << "a gateway timeout says nothing about the receiver behind it";
  receiver.Refuse();
  StartResult refused = trigger.Start(std::span<const StartRequest>(&request, 1)).front();
  EXPECT_FALSE(refused.ok);
  EXPECT_FALSE(refused.maybe_started) << refused.detail;
}

TEST(WebhookTrigger, AnAcceptedStatusOtherThan200IsAStart) {
  WebhookReceiver receiver;
  receiver.SetStatus(204);
  WebhookTrigger trigger(FastHttp(), "", {}, nullptr);
  const StartRequest request = Request(receiver.url(), "v2");
  EXPECT_TRUE(trigger.Start(std::span<const StartRequest>(&request, 1)).front().ok);
}

TEST(WebhookTrigger, AReceiverCannotBeAskedAboutItsRun) {
  WebhookTrigger trigger(FastHttp(), "", {}, nullptr);
  const std::string target = "webhook:https://airflow.example/hook";
  WorkerState state = trigger.Inspect(std::vector<WorkerRef>{{target}}, std::nullopt).front();
  EXPECT_EQ(state.health, WorkerState::Health::kFinished);
  EXPECT_EQ(state.evidence, WorkerState::Evidence::kNone);
  EXPECT_NE(state.detail.find("Idempotency-Key"), std::string::npos);
}

TEST(WebhookTrigger, QuotesTheStartOfAnAnswerOnOneLine) {
  const std::string url = "https://hooks.example.com/retrain";
  HttpResponse response;
  response.status = 500;
  response.body = "<html>\n<body>\x1b[2JInternal error " + std::string(300, 'x') + "</body></html>";
  response.may_have_arrived = true;
  const StartResult result = WebhookResult(response, url);
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(result.maybe_started);
  EXPECT_EQ(result.detail, url + " answered HTTP 500: <html> <body>\\x1b[2JInternal error " +
                               std::string(kWebhookAnswerInMessages - 32, 'x') + "...");
  response.status = 204;
  EXPECT_TRUE(WebhookResult(response, url).ok);
}

}  // namespace
}  // namespace orch
