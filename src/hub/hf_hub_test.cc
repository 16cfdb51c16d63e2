#include "hub/hf_hub.h"

#include <gtest/gtest.h>

#include "support/fake_hub.h"
#include "triggers/hf_space_trigger.h"

namespace orch {
namespace {

using testing::FakeHub;

class HfHubTest : public ::testing::Test {
 protected:
  HfHubTest() : http(Settings(), "hf_test_token", fake.endpoint()), hub(http, fake.endpoint()) {}
  static HttpSettings Settings() {
    HttpSettings settings;
    settings.retry_base = 0.01;
    settings.retry_max = 0.02;
    settings.max_retries = 2;
    return settings;
  }
  MetadataRead Read(const std::string& repo) {
    std::string url = fake.MetadataUrl(repo);
    return hub.ReadMetadata(std::span<const std::string>(&url, 1), std::nullopt).front();
  }
  FakeHub fake;
  HttpClient http;
  HfHub hub;
};

TEST_F(HfHubTest, UnchangedMetadataCostsA304AndKeepsItsValue) {
  fake.PublishMetadata("owner/data", FakeHub::Metadata("v1", 10));
  EXPECT_EQ(Read("owner/data").metadata->version_tag, "v1");
  MetadataRead again = Read("owner/data");
  ASSERT_EQ(again.status, MetadataRead::Status::kOk);
  EXPECT_EQ(again.metadata->version_tag, "v1");
  auto calls = fake.Calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[1].status, 304);
  EXPECT_FALSE(calls[1].if_none_match.empty());
  fake.PublishMetadata("owner/data", FakeHub::Metadata("v2", 20));
  EXPECT_EQ(Read("owner/data").metadata->version_tag, "v2");
}

TEST_F(HfHubTest, ClassifiesEveryKindOfFailure) {
  EXPECT_EQ(Read("owner/missing").status, MetadataRead::Status::kNotFound);
  fake.SetRawMetadata("owner/bad", "{not json");
  EXPECT_EQ(Read("owner/bad").status, MetadataRead::Status::kInvalid);
  fake.PublishMetadata("owner/big", FakeHub::Metadata("v1", 1));
  fake.InjectFault("owner/big", {FakeHub::Fault::Kind::kOversized, 200, 1, {}, 1, ""});
  MetadataRead big = Read("owner/big");
  EXPECT_EQ(big.status, MetadataRead::Status::kInvalid);
  EXPECT_NE(big.detail.find("1 MiB"), std::string::npos);
  fake.PublishMetadata("owner/flaky", FakeHub::Metadata("v1", 1));
  fake.InjectFault("owner/flaky", {FakeHub::Fault::Kind::kStatus, 503, 1, {}, 10, ""});
  EXPECT_EQ(Read("owner/flaky").status, MetadataRead::Status::kUnavailable);
  fake.SetToken("another");
  MetadataRead refused = Read("owner/big");
  EXPECT_EQ(refused.status, MetadataRead::Status::kRefused);
  EXPECT_NE(refused.detail.find("HF_TOKEN"), std::string::npos);
  EXPECT_EQ(refused.detail.find("hf_test_token"), std::string::npos);
}

TEST_F(HfHubTest, RestartsSpacesAndReadsTheirStage) {
  fake.AddSpace("owner/prepare", "PAUSED");
  HfSpaceTrigger trigger(hub);
  std::vector<StartRequest> requests(2);
  requests[0].target = "hf-space:owner/prepare";
  requests[1].target = "owner/missing";
  std::vector<StartResult> results = trigger.Start(requests);
  EXPECT_TRUE(results[0].ok);
  EXPECT_EQ(results[0].detail, "stage BUILDING");
  EXPECT_FALSE(results[1].ok);
  EXPECT_NE(results[1].detail.find("owner/missing"), std::string::npos);
  EXPECT_NE(results[1].detail.find("404"), std::string::npos);
  EXPECT_EQ(fake.Count("POST", "/api/spaces/owner/prepare/restart"), 1);

  fake.SetSpaceStage("owner/prepare", "RUNTIME_ERROR");
  const std::vector<WorkerRef> workers = {{"owner/prepare"}, {"owner/missing"}};
  std::vector<WorkerState> states = trigger.Inspect(workers, std::nullopt);
  EXPECT_EQ(states[0].health, WorkerState::Health::kFailed);
  EXPECT_EQ(states[0].detail, "stage RUNTIME_ERROR");
  EXPECT_EQ(states[1].health, WorkerState::Health::kFailed);
}

TEST_F(HfHubTest, ARestartSaysWhetherItMayHaveReachedTheSpace) {
  fake.AddSpace("owner/retrain", "RUNNING");
  HfSpaceTrigger trigger(hub);
  StartRequest request;
  request.target = "hf-space:owner/retrain";
  fake.InjectFault("/restart", FakeHub::Fault::Status(503, 3));
  StartResult refused = trigger.Start(std::span<const StartRequest>(&request, 1)).front();
  EXPECT_FALSE(refused.ok);
  EXPECT_FALSE(refused.maybe_started) << "every attempt was answered 503: nothing was restarted";

  fake.InjectFault("/restart", FakeHub::Fault::Of(FakeHub::Fault::Kind::kCloseConnection, 10));
  StartResult unknown = trigger.Start(std::span<const StartRequest>(&request, 1)).front();
  EXPECT_FALSE(unknown.ok);
  EXPECT_TRUE(unknown.maybe_started) << unknown.detail;
}

TEST_F(HfHubTest, ARestartWhoseAnswerWasLostIsConfirmedByTheStageThatFollows) {
  using Fault = FakeHub::Fault;
  fake.AddSpace("owner/retrain", "PAUSED");
  HfSpaceTrigger trigger(hub);
  StartRequest request;
  request.target = "owner/retrain";
  for (const Fault& lost :
       {Fault::CarryOutThenClose(), Fault::CarryOutThenStatus(502), Fault::CarryOutThenStatus(504)}) {
    fake.SetSpaceStage("owner/retrain", "PAUSED");
    fake.InjectFault("/restart", lost);
    StartResult result = trigger.Start(std::span<const StartRequest>(&request, 1)).front();
    EXPECT_TRUE(result.ok) << result.detail;
    EXPECT_NE(result.detail.find("stage BUILDING (the restart's answer was lost"), std::string::npos) << result.detail;
  }
  EXPECT_EQ(fake.Count("POST", "/restart"), 3) << "never sent twice";
  EXPECT_EQ(fake.Count("GET", "/runtime"), 3);

  // A restart that never arrived leaves the Space as it was: still only maybe started.
  fake.SetSpaceStage("owner/retrain", "PAUSED");
  fake.InjectFault("/restart", Fault::Status(502));
  StartResult lost = trigger.Start(std::span<const StartRequest>(&request, 1)).front();
  EXPECT_FALSE(lost.ok);
  EXPECT_TRUE(lost.maybe_started) << lost.detail;
  EXPECT_EQ(fake.SpaceStage("owner/retrain"), "PAUSED");
}

TEST_F(HfHubTest, WhoAmISaysWhetherTheTokenIsAccepted) {
  EXPECT_TRUE(hub.WhoAmI().ok);
  fake.SetToken("another");
  HfHub::Identity identity = hub.WhoAmI();
  EXPECT_FALSE(identity.ok);
  EXPECT_NE(identity.error.find("401"), std::string::npos);
}

TEST(SpaceStages, MapToWorkerHealth) {
  EXPECT_EQ(HealthOfStage("BUILDING"), WorkerState::Health::kActive);
  EXPECT_EQ(HealthOfStage("RUNNING_APP_STARTING"), WorkerState::Health::kActive);
  EXPECT_EQ(HealthOfStage("BUILD_ERROR"), WorkerState::Health::kFailed);
  EXPECT_EQ(HealthOfStage("CONFIG_ERROR"), WorkerState::Health::kFailed);
  EXPECT_EQ(HealthOfStage("PAUSED"), WorkerState::Health::kFinished);
  EXPECT_EQ(SpaceIdOf("hf-space:a/b"), "a/b");
  EXPECT_EQ(SpaceIdOf("a/b"), "a/b");
}

TEST(HubAnswers, AStageIsAStageNameOrNothing) {
  EXPECT_EQ(SpaceStageOf(R"({"stage": "RUNNING", "hardware": {}})"), "RUNNING");
  EXPECT_EQ(SpaceStageOf(R"({"stage": "RUN\u001b[2JNING"})"), "");
  EXPECT_EQ(SpaceStageOf(R"({"stage": "running"})"), "");
  EXPECT_EQ(SpaceStageOf(R"({"stage": ")" + std::string(kMaxStageBytes + 1, 'A') + R"("})"), "");
  EXPECT_EQ(SpaceStageOf(R"({"stage": 3})"), "");
  EXPECT_EQ(SpaceStageOf("<html>502 Bad Gateway</html>"), "");
}

TEST(HubAnswers, TheAccountNameAndTheServersExplanationAreSafeToShow) {
  EXPECT_EQ(AccountNameOf(R"({"name": "grievance-bot", "type": "user"})"), "grievance-bot");
  EXPECT_EQ(AccountNameOf(R"({"name": "evil\u001b]0;x\u0007\nline"})"), "evil\\x1b]0;x\\x07 line");
  EXPECT_EQ(AccountNameOf("[]"), "");
  const std::string long_error = HubErrorOf(R"({"error": ")" + std::string(500, 'x') + R"("})");
  EXPECT_EQ(long_error, std::string(kMaxServerErrorBytes, 'x') + "...");
  EXPECT_EQ(HubErrorOf(R"({"error": {"code": 5}})"), "");
}

TEST(HubAnswers, AStoragesXmlErrorIsReadAsItsCodeAndMessage) {
  EXPECT_EQ(StorageErrorOf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
                           "<Message>Access Denied</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>"),
            "AccessDenied: Access Denied");
  EXPECT_EQ(StorageErrorOf("<Error><Code>SlowDown</Code></Error>"), "SlowDown");
  EXPECT_EQ(StorageErrorOf("<Error><Message>Request has expired</Message></Error>"), "Request has expired");
  EXPECT_EQ(StorageErrorOf("<Error><Code>Bad\nCode</Code><Message>x\u001b]0;y</Message></Error>"),
            "Bad Code: x\\x1b]0;y")
      << "one line, no control byte";
  EXPECT_EQ(StorageErrorOf("<Error><Code>unterminated</Error>"), "");
  EXPECT_EQ(StorageErrorOf("<html>502 Bad Gateway</html>"), "");
  EXPECT_EQ(StorageErrorOf(R"({"error": "not XML"})"), "");
  EXPECT_EQ(StorageErrorOf("<Code>" + std::string(500, 'x') + "</Code>"),
            std::string(kMaxServerErrorBytes, 'x') + "...");
}

TEST(HubAnswers, AFailureQuotesTheServersExplanationOnOneLine) {
  HttpResponse response;
  response.status = 409;
  response.body = R"({"error": "Space is being\nrestarted already"})";
  EXPECT_EQ(DescribeHttpFailure(response, "Space owner/prepare"),
            "Space owner/prepare: HTTP 409 (the server said: Space is being restarted already)");
  response.status = 404;
  response.body = "<html>Not Found</html>";
  EXPECT_EQ(DescribeHttpFailure(response, "Space owner/prepare"),
            "Space owner/prepare: not found (404); check the repository id or URL");
  response.status = 0;
  response.error = "unreadable redirect location '\x1b[2J'\nforged line";
  EXPECT_EQ(DescribeHttpFailure(response, "Space owner/prepare").find('\n'), std::string::npos);
}

}  // namespace
}  // namespace orch
