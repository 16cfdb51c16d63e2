#include "hub/http_client.h"

#include <gtest/gtest.h>

#include "support/fake_hub.h"
#include "support/hostile_server.h"
#include "support/temp_dir.h"

namespace orch {
namespace {

using testing::FakeHub;
using Fault = FakeHub::Fault;

HttpRequest Get(std::string url) {
  HttpRequest request;
  request.url = std::move(url);
  return request;
}

HttpRequest Post(std::string url) {
  HttpRequest request = Get(std::move(url));
  request.method = "POST";
  return request;
}

HttpSettings FastSettings() {
  HttpSettings settings;
  settings.connect_timeout = 2;
  settings.request_timeout = 5;
  settings.max_retries = 3;
  settings.retry_base = 0.01;
  settings.retry_max = 0.05;
  settings.max_connections = 4;
  return settings;
}

class HttpClientTest : public ::testing::Test {
 protected:
  HttpClientTest() { hub.PublishMetadata("owner/data", FakeHub::Metadata("v1", 10)); }
  HttpClient Client(HttpSettings settings = FastSettings()) {
    return HttpClient(settings, "hf_test_token", hub.endpoint(),
                      [this](const RetryNotice& notice) { retries.push_back(notice); });
  }
  FakeHub hub;
  std::vector<RetryNotice> retries;
};

TEST(QueryParameters, AreAddedPercentEncodedAfterWhatTheQueryHolds) {
  EXPECT_EQ(WithQueryParameter("https://huggingface.co/api/jobs/acme", "stage", "RUNNING"),
            "https://huggingface.co/api/jobs/acme?stage=RUNNING");
  EXPECT_EQ(
      WithQueryParameter("https://huggingface.co/api/jobs/acme?stage=RUNNING", "label", "orchestrator-key=a&b c/é"),
      "https://huggingface.co/api/jobs/acme?stage=RUNNING&label=orchestrator-key%3da%26b+c%2f%c3%a9")
      << "only the '=' that ends the name stays as it is";
  EXPECT_EQ(WithQueryParameter("not a url", "stage", "RUNNING"), "not a url");
}

TEST_F(HttpClientTest, SendsTheTokenToTheEndpointItBelongsTo) {
  HttpClient http = Client();
  HttpResponse response = http.Perform(Get(hub.MetadataUrl("owner/data")));
  EXPECT_EQ(response.status, 200);
  EXPECT_FALSE(response.etag.empty());
  ASSERT_EQ(hub.Calls().size(), 1u);
  EXPECT_EQ(hub.Calls()[0].authorization, "Bearer hf_test_token");
}

TEST_F(HttpClientTest, FollowsARedirectToAnotherHostWithoutTheToken) {
  FakeHub cdn("127.0.0.2");
  cdn.PublishMetadata("owner/data", FakeHub::Metadata("v9", 99));
  cdn.AllowAnonymous("owner/data");
  hub.SetRedirect("owner/data", cdn.MetadataUrl("owner/data"));
  HttpClient http = Client();
  HttpResponse response = http.Perform(Get(hub.MetadataUrl("owner/data")));
  EXPECT_EQ(response.status, 200);
  EXPECT_NE(response.body.find("v9"), std::string::npos);
  EXPECT_EQ(response.final_url, cdn.MetadataUrl("owner/data"));
  ASSERT_EQ(cdn.Calls().size(), 1u);
  EXPECT_EQ(cdn.Calls()[0].authorization, "") << "the token never leaves the endpoint's host";
}

TEST_F(HttpClientTest, RetriesServerErrorsThenSucceeds) {
  hub.InjectFault("owner/data", Fault{Fault::Kind::kStatus, 503, 1, {}, 2, ""});
  HttpClient http = Client();
  HttpResponse response = http.Perform(Get(hub.MetadataUrl("owner/data")));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.attempts, 3);
  ASSERT_EQ(retries.size(), 2u);
  EXPECT_EQ(retries[0].reason, "HTTP 503");
}

TEST_F(HttpClientTest, RetriesARestartPostAfterA500) {
  hub.AddSpace("owner/prepare", "PAUSED");
  hub.InjectFault("/restart", Fault{Fault::Kind::kStatus, 500, 1, {}, 1, ""});
  HttpClient http = Client();
  HttpResponse response = http.Perform(Post(hub.endpoint() + "/api/spaces/owner/prepare/restart"));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(hub.Count("POST", "/restart"), 2);
}

TEST_F(HttpClientTest, HonoursRetryAfterUpToTheConfiguredMaximum) {
  hub.InjectFault("owner/data", Fault{Fault::Kind::kRetryAfter, 429, 1, {}, 1, ""});
  HttpSettings settings = FastSettings();
  settings.retry_max = 1.5;
  HttpClient http = Client(settings);
  HttpResponse response = http.Perform(Get(hub.MetadataUrl("owner/data")));
  EXPECT_EQ(response.status, 200);
  ASSERT_EQ(retries.size(), 1u);
  EXPECT_EQ(retries[0].wait, std::chrono::milliseconds(1000));
  auto calls = hub.Calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_GE(calls[1].at - calls[0].at, std::chrono::milliseconds(990));
}

TEST_F(HttpClientTest, GivesUpAfterTheLastRetry) {
  hub.InjectFault("owner/data", Fault{Fault::Kind::kStatus, 503, 1, {}, 100, ""});
  HttpClient http = Client();
  HttpResponse response = http.Perform(Get(hub.MetadataUrl("owner/data")));
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.attempts, 4);
}

TEST_F(HttpClientTest, DoesNotRetryClientErrors) {
  for (int status : {401, 403, 404}) {
    hub.ClearCalls();
    hub.InjectFault("owner/data", Fault{Fault::Kind::kStatus, status, 1, {}, 1, ""});
    HttpClient http = Client();
    HttpResponse response = http.Perform(Get(hub.MetadataUrl("owner/data")));
    EXPECT_EQ(response.status, status);
    EXPECT_EQ(response.attempts, 1) << status;
  }
  EXPECT_TRUE(retries.empty());
}

TEST_F(HttpClientTest, RefusedConnectionIsRetriedThenReported) {
  HttpClient http = Client();
  HttpResponse response = http.Perform(Get(FakeHub::RefusedEndpoint() + "/api/whoami-v2"));
  EXPECT_EQ(response.status, 0);
  EXPECT_FALSE(response.error.empty());
  EXPECT_EQ(response.attempts, 4);
}

TEST_F(HttpClientTest, ClosedConnectionIsRetried) {
  hub.InjectFault("owner/data", Fault{Fault::Kind::kCloseConnection, 0, 1, {}, 1, ""});
  HttpClient http = Client();
  HttpResponse response = http.Perform(Get(hub.MetadataUrl("owner/data")));
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.attempts, 2);
}

TEST_F(HttpClientTest, StopsReadingABodyOverTheLimit) {
  hub.InjectFault("owner/data", Fault{Fault::Kind::kOversized, 200, 1, {}, 1, ""});
  HttpClient http = Client();
  HttpRequest request = Get(hub.MetadataUrl("owner/data"));
  request.max_body_bytes = 1 << 20;
  HttpResponse response = http.Perform(request);
  EXPECT_TRUE(response.body_too_large);
  EXPECT_EQ(response.attempts, 1);
}

TEST_F(HttpClientTest, RefusesAnAnswerAnnouncedLargerThanTheLimitWithoutWaitingForItsBody) {
  testing::HostileServer server;
  server.Misbehave("/data", testing::HostileServer::Mode::kDrip);  // 1 MB announced, a byte a second
  HttpSettings settings = FastSettings();
  settings.request_timeout = 600;  // a drip would keep the client for days
  HttpClient http = Client(settings);
  HttpRequest request = Get(server.endpoint() + "/data");
  request.max_body_bytes = 1000;
  HttpResponse response = http.Perform(request);
  EXPECT_TRUE(response.body_too_large);
  EXPECT_EQ(response.error, "the answer is larger than 1000 bytes (Content-Length 1000000)");
  EXPECT_EQ(response.attempts, 1) << "the same answer would come again";
}

TEST_F(HttpClientTest, RefusesAnAnswerWhoseHeadersExceed64KiB) {
  testing::HostileServer server;
  server.Misbehave("/data", testing::HostileServer::Mode::kGiantHeader);
  HttpClient http = Client();
  HttpResponse response = http.Perform(Get(server.endpoint() + "/data"));
  EXPECT_EQ(response.status, 0);
  EXPECT_EQ(response.error, "the answer's headers are larger than 64 KiB");
  EXPECT_EQ(response.attempts, 1);
}

TEST_F(HttpClientTest, GivesUpARedirectLoop) {
  testing::HostileServer server;
  server.Misbehave("/data", testing::HostileServer::Mode::kRedirectLoop);
  HttpClient http = Client();
  HttpResponse response = http.Perform(Get(server.endpoint() + "/data"));
  EXPECT_EQ(response.status, 0);
  EXPECT_EQ(response.error, "more than 5 redirects");
  EXPECT_EQ(server.Count("/data"), 6);
}

TEST_F(HttpClientTest, SlowBodyPastTheRequestTimeoutIsANetworkError) {
  hub.InjectFault("owner/data", Fault{Fault::Kind::kSlowBody, 200, 1, std::chrono::milliseconds(3000), 1, ""});
  HttpSettings settings = FastSettings();
  settings.request_timeout = 0.5;
  settings.max_retries = 0;
  HttpClient http = Client(settings);
  HttpResponse response = http.Perform(Get(hub.MetadataUrl("owner/data")));
  EXPECT_EQ(response.status, 0);
  EXPECT_NE(response.error.find("timed out"), std::string::npos) << response.error;
  EXPECT_TRUE(response.may_have_arrived) << "the server had the request and answered too slowly";
}

TEST_F(HttpClientTest, NoAttemptOutlastsTheTimeGiven) {
  // The answer would take 20 s and each attempt may take 5 s with 3 retries: the 0.3 s given wins.
  hub.InjectFault("owner/data", Fault{Fault::Kind::kSlowBody, 200, 1, std::chrono::milliseconds(20000), 1, ""});
  HttpClient http = Client();
  HttpRequest request = Get(hub.MetadataUrl("owner/data"));
  HttpResponse response =
      http.Perform(std::span<const HttpRequest>(&request, 1), std::chrono::milliseconds(300)).front();
  EXPECT_EQ(response.status, 0);
  EXPECT_EQ(response.attempts, 1) << "no retry is started without time left for it";
  EXPECT_TRUE(response.may_have_arrived);
  EXPECT_EQ(response.error, "no answer within the 0.3 s the wait had left");
}

TEST_F(HttpClientTest, ARetryWithoutTimeLeftIsNotStarted) {
  hub.InjectFault("owner/data", Fault::RetryAfter(30));  // would wait 30 s (capped at retry_max)
  HttpSettings settings = FastSettings();
  settings.retry_max = 30;
  HttpClient http = Client(settings);
  HttpRequest request = Get(hub.MetadataUrl("owner/data"));
  HttpResponse response = http.Perform(std::span<const HttpRequest>(&request, 1), std::chrono::seconds(20)).front();
  EXPECT_EQ(response.status, 429) << "the Hub's answer, since its wait does not fit";
  EXPECT_EQ(response.attempts, 1);
  EXPECT_TRUE(retries.empty());
}

// A POST that failed may still have been acted on; the caller needs to know whether it must ask.
TEST_F(HttpClientTest, ARefusedConnectionCertainlyDeliveredNothing) {
  HttpClient http = Client();
  HttpResponse response = http.Perform(Post(FakeHub::RefusedEndpoint() + "/api/spaces/owner/prepare/restart"));
  EXPECT_EQ(response.status, 0);
  EXPECT_FALSE(response.may_have_arrived);
}

// A Space restart that meets `faults`, in order, on each attempt.
HttpResponse RestartMeeting(FakeHub& hub, const std::vector<Fault>& faults) {
  hub.AddSpace("owner/prepare", "PAUSED");
  for (const Fault& fault : faults) hub.InjectFault("/restart", fault);
  HttpClient http(FastSettings(), "hf_test_token", hub.endpoint());
  return http.Perform(Post(hub.endpoint() + "/api/spaces/owner/prepare/restart"));
}

TEST_F(HttpClientTest, AnErrorAnswerMeansTheRequestWasNotActedOn) {
  HttpResponse response = RestartMeeting(hub, {Fault::Status(503, 100)});
  EXPECT_EQ(response.status, 503);
  EXPECT_FALSE(response.may_have_arrived);
}

TEST_F(HttpClientTest, AConnectionClosedAfterTheRequestMayHaveDeliveredIt) {
  HttpResponse response = RestartMeeting(hub, {Fault::Of(Fault::Kind::kCloseConnection, 100)});
  EXPECT_EQ(response.status, 0);
  EXPECT_TRUE(response.may_have_arrived);
}

TEST_F(HttpClientTest, AGatewayTimeoutMayHaveDeliveredItSoThePostIsNotSentAgain) {
  HttpResponse response = RestartMeeting(hub, {Fault::Status(504, 1), Fault::Status(503, 100)});
  EXPECT_EQ(response.status, 504);
  EXPECT_EQ(response.attempts, 1) << "the caller asks the Space before sending it again";
  EXPECT_TRUE(response.may_have_arrived) << "the upstream may have restarted the Space";
}

TEST_F(HttpClientTest, APostThatMayHaveArrivedIsNeverSentAgainByTheClient) {
  for (const Fault& fault : {Fault::Status(502, 1), Fault::Of(Fault::Kind::kCloseConnection, 1)}) {
    FakeHub fresh;
    HttpResponse response = RestartMeeting(fresh, {fault});
    EXPECT_EQ(response.attempts, 1);
    EXPECT_TRUE(response.may_have_arrived);
  }
}

TEST_F(HttpClientTest, APostIsNotSentAgainByLibcurlWhenAReusedConnectionBreaks) {
  // libcurl sends a request again, silently, when a connection it reused closes without an answer.
  hub.AddSpace("owner/prepare", "PAUSED");
  HttpClient http(FastSettings(), "hf_test_token", hub.endpoint());
  ASSERT_EQ(http.Perform(Get(hub.endpoint() + "/api/whoami-v2")).status, 200);  // a connection to reuse
  hub.InjectFault("/restart", Fault::CarryOutThenClose(2));
  HttpResponse response = http.Perform(Post(hub.endpoint() + "/api/spaces/owner/prepare/restart"));
  EXPECT_EQ(response.status, 0);
  EXPECT_TRUE(response.may_have_arrived);
  EXPECT_EQ(hub.Count("POST", "/restart"), 1) << "the Space was restarted once";
  EXPECT_EQ(http.Perform(Get(hub.endpoint() + "/api/whoami-v2")).status, 200);
}

TEST_F(HttpClientTest, ARepeatablePostAndAGetAreSentAgainAfterAnAnswerThatMayHaveBeenLost) {
  hub.AddSpace("owner/prepare", "PAUSED");
  hub.InjectFault("/restart", Fault::Status(502, 1));
  HttpClient http(FastSettings(), "hf_test_token", hub.endpoint());
  HttpRequest post = Post(hub.endpoint() + "/api/spaces/owner/prepare/restart");
  post.repeatable = true;
  HttpResponse response = http.Perform(post);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.attempts, 2) << "its receiver drops a repeat";
}

TEST_F(HttpClientTest, RefusesPlainHttpToARemoteHost) {
  HttpClient http = Client();
  HttpResponse response = http.Perform(Get("http://example.com/dataset_metadata.json"));
  EXPECT_EQ(response.status, 0);
  EXPECT_EQ(response.attempts, 0) << "nothing sent";
  EXPECT_NE(response.error.find("http"), std::string::npos);
}

TEST_F(HttpClientTest, RefusesARedirectToPlainHttpOnARemoteHost) {
  hub.SetRedirect("owner/data", "http://example.com/elsewhere");
  HttpClient http = Client();
  HttpResponse response = http.Perform(Get(hub.MetadataUrl("owner/data")));
  EXPECT_EQ(response.status, 0);
  EXPECT_EQ(response.attempts, 1);
}

TEST_F(HttpClientTest, ManyRequestsShareABoundedNumberOfConnections) {
  std::vector<HttpRequest> requests;
  for (int i = 0; i < 60; ++i) {
    std::string repo = "owner/d" + std::to_string(i);
    hub.PublishMetadata(repo, FakeHub::Metadata("v" + std::to_string(i), i));
    requests.push_back(Get(hub.MetadataUrl(repo)));
  }
  HttpClient http = Client();
  std::vector<HttpResponse> responses = http.Perform(requests);
  for (int i = 0; i < 60; ++i) {
    EXPECT_EQ(responses[i].status, 200);
    EXPECT_NE(responses[i].body.find("\"v" + std::to_string(i) + "\""), std::string::npos) << "answers stay in order";
  }
}

// ---- bodies from and to files ---------------------------------------------------------------------

TEST_F(HttpClientTest, SendsARangeOfAFileAsTheBodyAgainAtEachAttempt) {
  testing::TempDir dir;
  std::string content;
  for (int i = 0; i < 100000; ++i) content += static_cast<char>('a' + i % 26);
  testing::WriteFile(dir.File("object"), content);
  hub.InjectFault("/upload/part", Fault::Status(503));
  HttpRequest request = Get(hub.endpoint() + "/upload/part");
  request.method = "PUT";
  request.body_file = dir.File("object");
  request.body_file_offset = 1000;
  request.body_file_length = 70000;
  HttpClient http = Client();
  const HttpResponse response = http.Perform(request);
  EXPECT_EQ(response.status, 404) << "the fake has no such route; what matters is what it received";
  const auto calls = hub.Calls();
  ASSERT_EQ(calls.size(), 2u) << "the 503 was retried";
  for (const FakeHub::RecordedCall& call : calls) {
    EXPECT_EQ(call.method, "PUT");
    EXPECT_EQ(call.body, content.substr(1000, 70000)) << "the same bytes at each attempt";
  }
}

TEST_F(HttpClientTest, AFileThatEndsBeforeItsRangeEndsTheRequestWithoutRetrying) {
  testing::TempDir dir;
  testing::WriteFile(dir.File("short"), "0123456789");
  HttpRequest request = Post(hub.endpoint() + "/upload/part");
  request.body_file = dir.File("short");
  request.body_file_offset = 4;
  request.body_file_length = 100;
  request.repeatable = true;
  HttpClient http = Client();
  const HttpResponse response = http.Perform(request);
  EXPECT_EQ(response.status, 0);
  EXPECT_NE(response.error.find("ended before byte 104"), std::string::npos) << response.error;
  EXPECT_EQ(response.attempts, 1);

  request.body_file = dir.File("missing");
  const HttpResponse missing = http.Perform(request);
  EXPECT_NE(missing.error.find("cannot open " + dir.File("missing")), std::string::npos) << missing.error;
  EXPECT_TRUE(hub.Calls().size() <= 1u) << "a missing file sends nothing";
}

TEST_F(HttpClientTest, WritesASuccessfulBodyToAFileAndKeepsAnErrorsInMemory) {
  testing::TempDir dir;
  FakeHub cdn("127.0.0.2");
  cdn.PublishMetadata("owner/data", FakeHub::Metadata("v9", 99));
  cdn.AllowAnonymous("owner/data");
  hub.SetRedirect("owner/data", cdn.MetadataUrl("owner/data"));
  HttpRequest request = Get(hub.MetadataUrl("owner/data"));
  request.response_file = dir.File("body");
  HttpClient http = Client();
  const HttpResponse response = http.Perform(request);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "");
  EXPECT_NE(testing::ReadFile(dir.File("body")).find("\"v9\""), std::string::npos) << "the redirected answer's body";
  EXPECT_EQ(cdn.Calls().at(0).authorization, "");

  HttpRequest missing = Get(hub.MetadataUrl("owner/none"));
  missing.response_file = dir.File("none");
  const HttpResponse not_found = http.Perform(missing);
  EXPECT_EQ(not_found.status, 404);
  EXPECT_NE(not_found.body.find("error"), std::string::npos) << "an error's body stays readable";
  EXPECT_EQ(testing::ReadFile(dir.File("none")), "");
  EXPECT_EQ(not_found.Header("x-request-id").substr(0, 5), "fake-") << "kept headers are there";

  request.max_body_bytes = 10;
  const HttpResponse too_large = http.Perform(request);
  EXPECT_TRUE(too_large.body_too_large);
}

TEST_F(HttpClientTest, ARateLimitedAnswerWaitsWhatRateLimitSays) {
  hub.InjectFault("owner/data", Fault::RateLimited(1));
  HttpSettings settings = FastSettings();
  settings.retry_max = 1.5;
  HttpClient http = Client(settings);
  const HttpResponse response = http.Perform(Get(hub.MetadataUrl("owner/data")));
  EXPECT_EQ(response.status, 200);
  ASSERT_EQ(retries.size(), 1u);
  EXPECT_EQ(retries[0].wait, std::chrono::milliseconds(1000));
}

}  // namespace
}  // namespace orch
