// The fake Hub answers as the Hub's API does for the calls of src/hub/hf_hub.h, over real HTTP,
// seen through libcurl.
#include "support/fake_hub.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

namespace orch::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using Fault = FakeHub::Fault;
using Publication = FakeHub::Publication;

constexpr char kToken[] = "hf_test_token";
constexpr char kSpace[] = "owner/prepare";
constexpr char kDataset[] = "owner/misclassified_urgency_dataset";

struct HttpAnswer {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::multimap<std::string, std::string> headers;  // names in lower case

  std::string Header(const std::string& name) const {
    auto found = headers.find(name);
    return found == headers.end() ? "" : found->second;
  }
  nlohmann::json Json() const { return nlohmann::json::parse(body); }
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::string token = kToken;  // "" sends no Authorization header
  std::string if_none_match = "";
  std::string body = "";
  bool follow_redirects = false;
};

size_t CollectBody(char* data, size_t size, size_t count, void* answer) {
  static_cast<HttpAnswer*>(answer)->body.append(data, size * count);
  return size * count;
}

size_t CollectHeader(char* data, size_t size, size_t count, void* answer) {
  std::string line(data, size * count);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    value.erase(value.find_last_not_of("\r\n ") + 1);
    static_cast<HttpAnswer*>(answer)->headers.emplace(name, value);
  }
  return size * count;
}

// One request on a fresh connection, as plain libcurl.
HttpAnswer Http(const HttpRequest& request) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, &curl_slist_free_all);
  auto add_header = [&](const std::string& line) { headers.reset(curl_slist_append(headers.release(), line.c_str())); };
  if (!request.token.empty()) add_header("Authorization: Bearer " + request.token);
  if (!request.if_none_match.empty()) add_header("If-None-Match: " + request.if_none_match);
  HttpAnswer answer;
  curl_easy_setopt(curl.get(), CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "POST") {
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, request.body.c_str());
  }
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, &CollectBody);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERFUNCTION, &CollectHeader);
  curl_easy_setopt(curl.get(), CURLOPT_HEADERDATA, &answer);
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  answer.code = curl_easy_perform(curl.get());
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &answer.status);
  return answer;
}

HttpAnswer Get(const std::string& url, const std::string& token = kToken) { return Http({"GET", url, token}); }
HttpAnswer Post(const std::string& url, const std::string& token = kToken) { return Http({"POST", url, token}); }

std::string SpaceUrl(const FakeHub& hub, const std::string& action) {
  return hub.endpoint() + "/api/spaces/" + kSpace + "/" + action;
}

std::string TagOf(const HttpAnswer& answer) { return answer.Json().at("version_tag").get<std::string>(); }

TEST(FakeHubAuth, EveryEndpointRefusesAMissingOrWrongToken) {
  FakeHub hub;
  hub.AddSpace(kSpace);
  hub.PublishMetadata(kDataset, FakeHub::Metadata("v1", 100));
  const std::vector<std::pair<std::string, std::string>> calls = {
      {"GET", hub.endpoint() + "/api/whoami-v2"}, {"GET", SpaceUrl(hub, "runtime")},
      {"POST", SpaceUrl(hub, "restart")},         {"POST", SpaceUrl(hub, "pause")},
      {"GET", hub.MetadataUrl(kDataset)},
  };
  for (const auto& [method, url] : calls) {
    for (const std::string& token : {std::string(""), std::string("hf_wrong")}) {
      HttpAnswer answer = Http({method, url, token});
      EXPECT_EQ(answer.status, 401) << method << " " << url << " token '" << token << "'";
      EXPECT_EQ(answer.Json(), (nlohmann::json{{"error", "Invalid credentials in Authorization header"}}));
    }
  }
  EXPECT_EQ(hub.SpaceStage(kSpace), "RUNNING") << "refused calls change nothing";
}

TEST(FakeHubAuth, SetTokenReplacesTheAcceptedToken) {
  FakeHub hub;
  hub.SetToken("hf_other");
  EXPECT_EQ(Get(hub.endpoint() + "/api/whoami-v2").status, 401);
  EXPECT_EQ(Get(hub.endpoint() + "/api/whoami-v2", "hf_other").status, 200);
}

TEST(FakeHubAuth, AnonymousReadsOfAPublicDatasetStillRefuseAWrongToken) {
  FakeHub hub;
  hub.PublishMetadata(kDataset, FakeHub::Metadata("v1", 100));
  hub.PublishMetadata("owner/private", FakeHub::Metadata("v1", 100));
  hub.AllowAnonymous(kDataset);
  EXPECT_EQ(Get(hub.MetadataUrl(kDataset), "").status, 200);
  EXPECT_EQ(Get(hub.MetadataUrl(kDataset), "hf_wrong").status, 401);
  EXPECT_EQ(Get(hub.MetadataUrl("owner/private"), "").status, 401);
  EXPECT_EQ(Get(hub.endpoint() + "/api/whoami-v2", "").status, 401);
}

TEST(FakeHubWhoami, NamesTheTokenOwner) {
  FakeHub hub;
  HttpAnswer answer = Get(hub.endpoint() + "/api/whoami-v2");
  ASSERT_EQ(answer.status, 200);
  EXPECT_EQ(answer.Json()["name"], "tester");
  EXPECT_EQ(answer.Json()["type"], "user");
  EXPECT_EQ(answer.Json()["auth"]["accessToken"]["role"], "write");
}

TEST(FakeHubSpaces, RestartBuildsAndPauseStopsAKnownSpace) {
  FakeHub hub;
  hub.AddSpace(kSpace);
  HttpAnswer runtime = Get(SpaceUrl(hub, "runtime"));
  ASSERT_EQ(runtime.status, 200);
  EXPECT_EQ(runtime.Json()["stage"], "RUNNING");
  EXPECT_EQ(runtime.Json()["hardware"]["current"], "cpu-basic");

  HttpAnswer restart = Post(SpaceUrl(hub, "restart") + "?factory=true");
  ASSERT_EQ(restart.status, 200);
  EXPECT_EQ(restart.Header("content-type"), "application/json");
  EXPECT_EQ(restart.Json(), (nlohmann::json{{"stage", "BUILDING"},
                                            {"hardware", {{"current", nullptr}, {"requested", "cpu-basic"}}},
                                            {"storage", nullptr},
                                            {"gcTimeout", 172800},
                                            {"replicas", {{"current", 1}, {"requested", 1}}}}));
  EXPECT_EQ(hub.SpaceStage(kSpace), "BUILDING");
  EXPECT_EQ(Get(SpaceUrl(hub, "runtime")).Json()["stage"], "BUILDING");

  HttpAnswer pause = Post(SpaceUrl(hub, "pause"));
  ASSERT_EQ(pause.status, 200);
  EXPECT_EQ(pause.Json()["stage"], "PAUSED");
  EXPECT_EQ(hub.SpaceStage(kSpace), "PAUSED");

  hub.SetSpaceStage(kSpace, "SLEEPING");
  EXPECT_EQ(Get(SpaceUrl(hub, "runtime")).Json()["stage"], "SLEEPING");
  EXPECT_EQ(hub.Count("POST", "/restart"), 1);
  EXPECT_EQ(hub.Calls()[1].query, "factory=true");
}

TEST(FakeHubSpaces, UnknownSpacesAreNotFound) {
  FakeHub hub;
  for (std::string action : {"restart", "pause"}) {
    HttpAnswer answer = Post(SpaceUrl(hub, action));
    EXPECT_EQ(answer.status, 404) << action;
    EXPECT_EQ(answer.Json(), (nlohmann::json{{"error", "Repository not found"}}));
  }
  EXPECT_EQ(Get(SpaceUrl(hub, "runtime")).status, 404);
  EXPECT_EQ(hub.SpaceStage(kSpace), "");
}

TEST(FakeHubSpaces, StagesAfterRestartWalkWithEachRuntimeRead) {
  FakeHub hub;
  hub.AddSpace(kSpace);
  hub.SetStageAfterRestart(kSpace, {"BUILDING", "APP_STARTING", "RUNTIME_ERROR"});
  EXPECT_EQ(Get(SpaceUrl(hub, "runtime")).Json()["stage"], "RUNNING") << "the walk starts with a restart";
  for (int restart = 0; restart < 2; ++restart) {
    EXPECT_EQ(Post(SpaceUrl(hub, "restart")).Json()["stage"], "BUILDING");
    EXPECT_EQ(Get(SpaceUrl(hub, "runtime")).Json()["stage"], "BUILDING");
    EXPECT_EQ(Get(SpaceUrl(hub, "runtime")).Json()["stage"], "APP_STARTING");
    EXPECT_EQ(Get(SpaceUrl(hub, "runtime")).Json()["stage"], "RUNTIME_ERROR");
    EXPECT_EQ(Get(SpaceUrl(hub, "runtime")).Json()["stage"], "RUNTIME_ERROR");
    EXPECT_EQ(hub.SpaceStage(kSpace), "RUNTIME_ERROR");
  }
}

TEST(FakeHubSpaces, ARetrainSpaceRecordsTheVersionEachRestartStartedOn) {
  FakeHub hub;
  hub.AddSpace(kSpace, "PAUSED");
  hub.TrainsOn(kSpace, kDataset);
  EXPECT_EQ(Post(SpaceUrl(hub, "restart")).status, 200);
  hub.PublishMetadata(kDataset, FakeHub::Metadata("v2", 10));
  hub.InjectFault("/restart", Fault::Status(503));
  EXPECT_EQ(Post(SpaceUrl(hub, "restart")).status, 503);
  EXPECT_EQ(Post(SpaceUrl(hub, "restart")).status, 200);
  std::vector<FakeHub::RecordedCall> calls = hub.Calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].trained_version, "") << "nothing published yet";
  EXPECT_EQ(calls[1].trained_version, "") << "a refused restart started nothing";
  EXPECT_EQ(calls[2].trained_version, "v2");
}

TEST(FakeHubMetadata, UnknownDatasetIsAnEntryNotFound) {
  FakeHub hub;
  HttpAnswer answer = Get(hub.MetadataUrl(kDataset));
  EXPECT_EQ(answer.status, 404);
  EXPECT_EQ(answer.Header("x-error-code"), "EntryNotFound");
  EXPECT_EQ(answer.Json(), (nlohmann::json{{"error", "Entry not found"}}));
  EXPECT_EQ(Get(hub.endpoint() + "/datasets/" + kDataset + "/resolve/main/other.json").status, 404);
}

TEST(FakeHubMetadata, OtherPathsAreNotFound) {
  FakeHub hub;
  hub.AddSpace(kSpace);
  hub.PublishMetadata(kDataset, FakeHub::Metadata("v1", 100));
  for (const std::string& path : {std::string("/datasets/a/b/c/resolve/main/dataset_metadata.json"),
                                  std::string("/datasets/") + kDataset + "/resolve/dev/dataset_metadata.json",
                                  std::string("/api/spaces/") + kSpace + "/delete", std::string("/api/spaces/owner")}) {
    EXPECT_EQ(Get(hub.endpoint() + path).status, 404) << path;
  }
  EXPECT_EQ(Post(hub.MetadataUrl(kDataset)).status, 404);
  EXPECT_EQ(Get(SpaceUrl(hub, "restart")).status, 404) << "a restart is a POST";
  EXPECT_EQ(hub.SpaceStage(kSpace), "RUNNING");
}

TEST(FakeHubMetadata, MetadataDocumentHasTheWorkersShape) {
  nlohmann::json document = FakeHub::Metadata("v20251030_115250", 1600, "urgency", kDataset);
  EXPECT_EQ(document["dataset_name"], kDataset);
  EXPECT_EQ(document["version_tag"], "v20251030_115250");
  EXPECT_EQ(document["label_column"], "urgency");
  EXPECT_EQ(document["num_samples"], 1600);
  EXPECT_EQ(document["splits"], (nlohmann::json{{"train", 1280}, {"eval", 160}, {"test", 160}}));
  EXPECT_EQ(document["commit_message"], "Dataset update (urgency) - 20251030_115250");
  EXPECT_TRUE(document["created_at"].get<std::string>().ends_with("+00:00"));
  nlohmann::json odd = FakeHub::Metadata("v2", 15);
  EXPECT_EQ(odd["splits"]["train"].get<int>() + odd["splits"]["eval"].get<int>() + odd["splits"]["test"].get<int>(),
            15);
}

TEST(FakeHubMetadata, ServesTheFileWithAStrongEtagAndAnswers304WhenUnchanged) {
  FakeHub hub;
  hub.PublishMetadata(kDataset, FakeHub::Metadata("v1", 1600, "urgency", kDataset));
  HttpAnswer first = Get(hub.MetadataUrl(kDataset));
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.Header("content-type"), "application/json");
  EXPECT_EQ(first.Json()["version_tag"], "v1");
  EXPECT_EQ(first.Json()["num_samples"], 1600);
  std::string etag = first.Header("etag");
  ASSERT_GE(etag.size(), 3u);
  EXPECT_EQ(etag.front(), '"') << "a strong ETag is quoted without W/";
  EXPECT_EQ(etag.back(), '"');

  HttpAnswer unchanged = Http({"GET", hub.MetadataUrl(kDataset), kToken, etag});
  EXPECT_EQ(unchanged.status, 304);
  EXPECT_EQ(unchanged.body, "");
  EXPECT_EQ(unchanged.Header("etag"), etag);
  EXPECT_EQ(Http({"GET", hub.MetadataUrl(kDataset), kToken, "\"other\", W/" + etag}).status, 304);

  hub.PublishMetadata(kDataset, FakeHub::Metadata("v2", 1700));
  HttpAnswer changed = Http({"GET", hub.MetadataUrl(kDataset), kToken, etag});
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(changed.Json()["version_tag"], "v2");
  EXPECT_NE(changed.Header("etag"), etag);
  EXPECT_EQ(hub.Calls().back().if_none_match, etag);
  EXPECT_EQ(hub.VersionTag(kDataset), "v2");
}

TEST(FakeHubMetadata, RawBodiesAreServedAsGiven) {
  FakeHub hub;
  hub.SetRawMetadata(kDataset, "[1, 2");
  HttpAnswer answer = Get(hub.MetadataUrl(kDataset));
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, "[1, 2");
  EXPECT_EQ(hub.VersionTag(kDataset), "");
}

TEST(FakeHubPublication, PollCountModeIsExact) {
  FakeHub hub;
  hub.AddSpace(kSpace);
  hub.PublishMetadata(kDataset, FakeHub::Metadata("v_old", 100));
  hub.OnRestart(kSpace, {Publication::AfterPolls(kDataset, 1600, 2)});
  EXPECT_EQ(TagOf(Get(hub.MetadataUrl(kDataset))), "v_old") << "nothing happens before a restart";

  ASSERT_EQ(Post(SpaceUrl(hub, "restart")).status, 200);
  EXPECT_EQ(TagOf(Get(hub.MetadataUrl(kDataset))), "v_old");
  EXPECT_EQ(TagOf(Get(hub.MetadataUrl(kDataset))), "v_old");
  HttpAnswer published = Get(hub.MetadataUrl(kDataset));
  std::string fresh = TagOf(published);
  EXPECT_TRUE(fresh.starts_with("v20251030_115250_")) << fresh;
  EXPECT_EQ(published.Json()["num_samples"], 1600);
  EXPECT_EQ(published.Json()["dataset_name"], kDataset);
  EXPECT_EQ(hub.VersionTag(kDataset), fresh);

  // Each restart runs the script again, with a new tag.
  ASSERT_EQ(Post(SpaceUrl(hub, "restart")).status, 200);
  EXPECT_EQ(TagOf(Get(hub.MetadataUrl(kDataset))), fresh);
  EXPECT_EQ(TagOf(Get(hub.MetadataUrl(kDataset))), fresh);
  std::string second = TagOf(Get(hub.MetadataUrl(kDataset)));
  EXPECT_NE(second, fresh);
}

TEST(FakeHubPublication, ZeroPollsPublishesBeforeTheFirstPollAndNeverNeverDoes) {
  FakeHub hub;
  hub.AddSpace(kSpace);
  hub.OnRestart(kSpace, {Publication::AfterPolls("owner/fast", 10, 0, "v_fast"), Publication::Never("owner/stuck")});
  EXPECT_EQ(Get(hub.MetadataUrl("owner/fast")).status, 404);
  ASSERT_EQ(Post(SpaceUrl(hub, "restart")).status, 200);
  EXPECT_EQ(hub.VersionTag("owner/fast"), "v_fast");
  EXPECT_EQ(TagOf(Get(hub.MetadataUrl("owner/fast"))), "v_fast");
  for (int poll = 0; poll < 5; ++poll) EXPECT_EQ(Get(hub.MetadataUrl("owner/stuck")).status, 404);
}

TEST(FakeHubPublication, PollsOfOtherDatasetsOrRefusedPollsDoNotCount) {
  FakeHub hub;
  hub.AddSpace(kSpace);
  hub.OnRestart(kSpace, {Publication::AfterPolls(kDataset, 10, 1, "v_new")});
  ASSERT_EQ(Post(SpaceUrl(hub, "restart")).status, 200);
  EXPECT_EQ(Get(hub.MetadataUrl("owner/other")).status, 404);
  EXPECT_EQ(Get(hub.MetadataUrl(kDataset), "hf_wrong").status, 401);
  hub.InjectFault("dataset_metadata.json", Fault::Status(503));
  EXPECT_EQ(Get(hub.MetadataUrl(kDataset)).status, 503);
  EXPECT_EQ(Get(hub.MetadataUrl(kDataset)).status, 404) << "first counted poll sees no dataset yet";
  EXPECT_EQ(TagOf(Get(hub.MetadataUrl(kDataset))), "v_new");
}

TEST(FakeHubPublication, DelayModePublishesOnTimeWithoutAnyPoll) {
  FakeHub hub;
  hub.AddSpace(kSpace);
  hub.PublishMetadata(kDataset, FakeHub::Metadata("v_old", 100));
  hub.OnRestart(kSpace, {Publication::AfterDelay(kDataset, 1600, milliseconds(300))});
  auto restarted = steady_clock::now();
  ASSERT_EQ(Post(SpaceUrl(hub, "restart")).status, 200);
  EXPECT_EQ(TagOf(Get(hub.MetadataUrl(kDataset))), "v_old");
  ASSERT_TRUE(hub.WaitFor([&] { return hub.VersionTag(kDataset) != "v_old"; }, milliseconds(10000)));
  EXPECT_GE(steady_clock::now() - restarted, milliseconds(300));
  EXPECT_EQ(hub.Count("GET", "dataset_metadata.json"), 1) << "the publication needed no poll";
  EXPECT_EQ(TagOf(Get(hub.MetadataUrl(kDataset))), hub.VersionTag(kDataset));
}

TEST(FakeHubPublication, PausingTheSpaceCancelsWhatItWouldPublish) {
  FakeHub hub;
  hub.AddSpace(kSpace);
  hub.OnRestart(kSpace, {Publication::AfterPolls(kDataset, 10, 1)});
  ASSERT_EQ(Post(SpaceUrl(hub, "restart")).status, 200);
  ASSERT_EQ(Post(SpaceUrl(hub, "pause")).status, 200);
  for (int poll = 0; poll < 3; ++poll) EXPECT_EQ(Get(hub.MetadataUrl(kDataset)).status, 404);
}

TEST(FakeHubWaitFor, WakesOnARequestAndTimesOut) {
  FakeHub hub;
  auto started = steady_clock::now();
  EXPECT_FALSE(hub.WaitFor([&] { return hub.Count("GET", "/api/whoami-v2") > 0; }, milliseconds(50)));
  EXPECT_GE(steady_clock::now() - started, milliseconds(50));
  std::thread client([&] { Get(hub.endpoint() + "/api/whoami-v2"); });
  EXPECT_TRUE(hub.WaitFor([&] { return hub.Count("GET", "/api/whoami-v2") > 0; }, milliseconds(10000)));
  client.join();
}

TEST(FakeHubRecording, RecordsWhatTheClientSent) {
  FakeHub hub;
  hub.AddSpace(kSpace);
  Http({.method = "POST", .url = SpaceUrl(hub, "restart") + "?factory=true", .body = "{}"});
  Http({.method = "GET", .url = hub.MetadataUrl(kDataset), .if_none_match = "\"abc\""});
  std::vector<FakeHub::RecordedCall> calls = hub.Calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].method, "POST");
  EXPECT_EQ(calls[0].path, std::string("/api/spaces/") + kSpace + "/restart");
  EXPECT_EQ(calls[0].query, "factory=true");
  EXPECT_EQ(calls[0].host, "127.0.0.1:" + std::to_string(hub.port()));
  EXPECT_EQ(calls[0].authorization, std::string("Bearer ") + kToken);
  EXPECT_EQ(calls[0].body, "{}");
  EXPECT_EQ(calls[0].status, 200);
  EXPECT_EQ(calls[1].if_none_match, "\"abc\"");
  EXPECT_EQ(calls[1].status, 404);
  EXPECT_LE(calls[0].at, calls[1].at);
  EXPECT_EQ(hub.Count("GET", "dataset_metadata"), 1);
  EXPECT_EQ(hub.Count("POST", "dataset_metadata"), 0);
  hub.ClearCalls();
  EXPECT_TRUE(hub.Calls().empty());
}

// The kernel's count of connections dropped because a listen queue was full (TcpExt ListenOverflows).
long long ListenOverflows() {
  std::ifstream netstat("/proc/net/netstat");
  std::string names, values;
  while (std::getline(netstat, names) && std::getline(netstat, values)) {
    if (!names.starts_with("TcpExt:")) continue;
    std::istringstream name_fields(names), value_fields(values);
    std::string name, value;
    while (name_fields >> name && value_fields >> value)
      if (name == "ListenOverflows") return std::stoll(value);
  }
  return -1;
}

TEST(FakeHubRecording, ConcurrentClientsAreAllAnswered) {
  FakeHub hub;
  hub.PublishMetadata(kDataset, FakeHub::Metadata("v1", 100));
  Get(hub.endpoint() + "/api/whoami-v2");  // libcurl's global setup, before any thread
  constexpr int kClients = 32;
  std::vector<long> statuses(kClients);
  std::vector<std::thread> clients;
  const long long overflows_before = ListenOverflows();
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] { statuses[i] = Get(hub.MetadataUrl(kDataset)).status; });
  }
  for (std::thread& client : clients) client.join();
  // A short listen queue would drop connections (answered only after a SYN retransmission).
  EXPECT_EQ(ListenOverflows(), overflows_before);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 200L), kClients);
  EXPECT_EQ(hub.Count("GET", "dataset_metadata.json"), kClients);
}

TEST(FakeHubFaults, StatusBurstThenRecovery) {
  FakeHub hub;
  hub.PublishMetadata(kDataset, FakeHub::Metadata("v1", 100));
  hub.InjectFault("dataset_metadata.json", Fault::Status(503, 2));
  hub.InjectFault("/restart", Fault::Status(500));
  EXPECT_EQ(Get(hub.endpoint() + "/api/whoami-v2").status, 200) << "other paths are untouched";
  EXPECT_EQ(Get(hub.MetadataUrl(kDataset)).status, 503);
  EXPECT_EQ(Get(hub.MetadataUrl(kDataset)).status, 503);
  EXPECT_EQ(Get(hub.MetadataUrl(kDataset)).status, 200);
  EXPECT_EQ(Post(SpaceUrl(hub, "restart")).status, 500);
  EXPECT_EQ(Post(SpaceUrl(hub, "restart")).status, 404) << "the fault is used up; the Space is unknown";
  std::vector<int> recorded;
  for (const auto& call : hub.Calls()) recorded.push_back(call.status);
  EXPECT_EQ(recorded, (std::vector<int>{200, 503, 503, 200, 500, 404}));
}

TEST(FakeHubFaults, FaultsAreConsumedInOrder) {
  FakeHub hub;
  hub.PublishMetadata(kDataset, FakeHub::Metadata("v1", 100));
  hub.InjectFault("metadata", Fault::Status(401));
  hub.InjectFault("metadata", Fault::Status(404));
  EXPECT_EQ(Get(hub.MetadataUrl(kDataset)).status, 401);
  EXPECT_EQ(Get(hub.MetadataUrl(kDataset)).status, 404);
  EXPECT_EQ(Get(hub.MetadataUrl(kDataset)).status, 200);
}

TEST(FakeHubFaults, RetryAfter) {
  FakeHub hub;
  hub.InjectFault("whoami", Fault::RetryAfter(7));
  HttpAnswer answer = Get(hub.endpoint() + "/api/whoami-v2");
  EXPECT_EQ(answer.status, 429);
  EXPECT_EQ(answer.Header("retry-after"), "7");
  EXPECT_EQ(Get(hub.endpoint() + "/api/whoami-v2").status, 200);
}

TEST(FakeHubFaults, SlowBodyArrivesWholeButLate) {
  FakeHub hub;
  hub.PublishMetadata(kDataset, FakeHub::Metadata("v_slow", 100));
  hub.InjectFault("dataset_metadata.json", Fault::SlowBody(milliseconds(400)));
  auto started = steady_clock::now();
  HttpAnswer answer = Get(hub.MetadataUrl(kDataset));
  EXPECT_GE(steady_clock::now() - started, milliseconds(350));
  EXPECT_EQ(answer.code, CURLE_OK);
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.Header("transfer-encoding"), "chunked");
  EXPECT_EQ(answer.Header("content-type"), "application/json");
  EXPECT_FALSE(answer.Header("etag").empty());
  EXPECT_EQ(TagOf(answer), "v_slow");
}

TEST(FakeHubFaults, MalformedJson) {
  FakeHub hub;
  hub.PublishMetadata(kDataset, FakeHub::Metadata("v1", 100));
  hub.InjectFault("dataset_metadata.json", Fault::Of(Fault::Kind::kMalformedJson));
  HttpAnswer answer = Get(hub.MetadataUrl(kDataset));
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, "{not json");
  EXPECT_FALSE(nlohmann::json::accept(answer.body));
}

TEST(FakeHubFaults, OversizedBodyHasNoLengthToTrust) {
  FakeHub hub;
  hub.PublishMetadata(kDataset, FakeHub::Metadata("v1", 100));
  hub.InjectFault("dataset_metadata.json", Fault::Of(Fault::Kind::kOversized));
  HttpAnswer answer = Get(hub.MetadataUrl(kDataset));
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.Header("content-length"), "");
  EXPECT_EQ(answer.body.size(), size_t{2} << 20);
  EXPECT_TRUE(nlohmann::json::accept(answer.body));
  EXPECT_EQ(answer.Json()["version_tag"], "v_oversized");
}

TEST(FakeHubFaults, CloseConnectionGivesNoAnswerAtAll) {
  FakeHub hub;
  hub.PublishMetadata(kDataset, FakeHub::Metadata("v1", 100));
  hub.InjectFault("dataset_metadata.json", Fault::Of(Fault::Kind::kCloseConnection));
  HttpAnswer closed = Get(hub.MetadataUrl(kDataset));
  EXPECT_EQ(closed.code, CURLE_GOT_NOTHING) << curl_easy_strerror(closed.code);
  EXPECT_EQ(closed.status, 0);
  EXPECT_EQ(hub.Calls().back().status, 0);
  EXPECT_EQ(Get(hub.MetadataUrl(kDataset)).status, 200);
}

TEST(FakeHubFaults, RedirectToAnotherHostDoesNotCarryTheToken) {
  FakeHub hub;
  FakeHub mirror("127.0.0.2");
  ASSERT_NE(hub.endpoint(), mirror.endpoint());
  EXPECT_TRUE(mirror.endpoint().starts_with("http://127.0.0.2:"));
  mirror.PublishMetadata(kDataset, FakeHub::Metadata("v_mirror", 100));
  mirror.AllowAnonymous(kDataset);
  hub.InjectFault("dataset_metadata.json", Fault::Redirect(mirror.MetadataUrl(kDataset)));

  HttpAnswer answer = Http({.url = hub.MetadataUrl(kDataset), .follow_redirects = true});
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(TagOf(answer), "v_mirror");
  EXPECT_EQ(hub.Calls().at(0).status, 302);
  ASSERT_EQ(mirror.Calls().size(), 1u);
  EXPECT_EQ(mirror.Calls()[0].host, "127.0.0.2:" + std::to_string(mirror.port()));
  EXPECT_EQ(mirror.Calls()[0].authorization, "") << "libcurl drops Authorization across hosts";

  HttpAnswer direct = Get(hub.MetadataUrl(kDataset));
  EXPECT_EQ(direct.status, 404) << "the redirect fault was used up";
}

TEST(FakeHubFaults, PersistentRedirect) {
  FakeHub hub;
  FakeHub mirror("127.0.0.2");
  hub.SetRedirect("/datasets/", mirror.MetadataUrl(kDataset));
  for (int i = 0; i < 3; ++i) {
    HttpAnswer answer = Get(hub.MetadataUrl(kDataset));
    EXPECT_EQ(answer.status, 302);
    EXPECT_EQ(answer.Header("location"), mirror.MetadataUrl(kDataset));
  }
  EXPECT_EQ(Get(hub.endpoint() + "/api/whoami-v2").status, 200);
}

TEST(FakeHubFaults, RefusedEndpointRefusesConnections) {
  std::string refused = FakeHub::RefusedEndpoint();
  EXPECT_TRUE(refused.starts_with("http://127.0.0.1:"));
  HttpAnswer answer = Get(refused + "/api/whoami-v2");
  EXPECT_EQ(answer.code, CURLE_COULDNT_CONNECT) << curl_easy_strerror(answer.code);
}

// ---- faults that carry the request out, then lose its answer --------------------------------

// The three ways an answer gets lost after the work was done, and what the client then sees.
struct LostAnswer {
  const char* name;
  Fault fault;
  long status;  // what the client gets: 0 for no answer at all
};
const LostAnswer kLostAnswers[] = {{"closed", Fault::CarryOutThenClose(), 0},
                                   {"502", Fault::CarryOutThenStatus(502), 502},
                                   {"504", Fault::CarryOutThenStatus(504), 504}};

TEST(FakeHubLostAnswers, ARestartIsCarriedOutThenItsAnswerLost) {
  for (const LostAnswer& lost : kLostAnswers) {
    SCOPED_TRACE(lost.name);
    FakeHub hub;
    hub.AddSpace(kSpace, "PAUSED");
    hub.AddSpace("owner/retrain", "PAUSED");
    hub.TrainsOn("owner/retrain", kDataset);
    hub.OnRestart(kSpace, {Publication::AfterPolls(kDataset, 10, 0, "v2")});
    hub.InjectFault("/restart", lost.fault);
    HttpAnswer prepare = Post(SpaceUrl(hub, "restart"));
    EXPECT_EQ(prepare.status, lost.status);
    EXPECT_EQ(hub.SpaceStage(kSpace), "BUILDING") << "restarted all the same";
    EXPECT_EQ(hub.VersionTag(kDataset), "v2") << "its script ran";

    hub.InjectFault("/restart", lost.fault);
    EXPECT_EQ(Post(hub.endpoint() + "/api/spaces/owner/retrain/restart").status, lost.status);
    EXPECT_EQ(hub.SpaceStage("owner/retrain"), "BUILDING");
    const std::vector<FakeHub::RecordedCall> calls = hub.Calls();
    ASSERT_EQ(calls.size(), 2u);
    for (const FakeHub::RecordedCall& call : calls) {
      EXPECT_TRUE(call.carried_out);
      EXPECT_EQ(call.status, lost.status);
    }
    EXPECT_EQ(calls[0].trained_version, "") << "the prepare Space trains on nothing";
    EXPECT_EQ(calls[1].trained_version, "v2") << "a retrain started, though its answer was lost";
  }
}

TEST(FakeHubLostAnswers, APauseIsCarriedOutThenItsAnswerLost) {
  for (const LostAnswer& lost : kLostAnswers) {
    SCOPED_TRACE(lost.name);
    FakeHub hub;
    hub.AddSpace(kSpace, "PAUSED");
    hub.OnRestart(kSpace, {Publication::AfterPolls(kDataset, 10, 1)});
    ASSERT_EQ(Post(SpaceUrl(hub, "restart")).status, 200);
    hub.InjectFault("/pause", lost.fault);
    EXPECT_EQ(Post(SpaceUrl(hub, "pause")).status, lost.status);
    EXPECT_EQ(hub.SpaceStage(kSpace), "PAUSED");
    EXPECT_FALSE(hub.PublicationsPending(kSpace)) << "the pause cancelled what the run would publish";
    for (int poll = 0; poll < 3; ++poll) EXPECT_EQ(Get(hub.MetadataUrl(kDataset)).status, 404);
    EXPECT_TRUE(hub.Calls()[1].carried_out);
  }
}

TEST(FakeHubLostAnswers, ARuntimeReadIsCarriedOutThenItsAnswerLost) {
  for (const LostAnswer& lost : kLostAnswers) {
    SCOPED_TRACE(lost.name);
    FakeHub hub;
    hub.AddSpace(kSpace, "PAUSED");
    hub.SetStageAfterRestart(kSpace, {"BUILDING", "APP_STARTING", "RUNNING"});
    ASSERT_EQ(Post(SpaceUrl(hub, "restart")).status, 200);
    hub.InjectFault("/runtime", lost.fault);
    EXPECT_EQ(Get(SpaceUrl(hub, "runtime")).status, lost.status);
    EXPECT_EQ(Get(SpaceUrl(hub, "runtime")).Json()["stage"], "APP_STARTING") << "the lost read took BUILDING";
    EXPECT_TRUE(hub.Calls()[1].carried_out);
    EXPECT_EQ(hub.Calls()[1].status, lost.status);
  }
}

TEST(FakeHubLostAnswers, AMetadataReadIsCarriedOutThenItsAnswerLost) {
  for (const LostAnswer& lost : kLostAnswers) {
    SCOPED_TRACE(lost.name);
    FakeHub hub;
    hub.AddSpace(kSpace, "PAUSED");
    hub.OnRestart(kSpace, {Publication::AfterPolls(kDataset, 10, 1, "v2")});
    ASSERT_EQ(Post(SpaceUrl(hub, "restart")).status, 200);
    hub.InjectFault("dataset_metadata.json", lost.fault);
    EXPECT_EQ(Get(hub.MetadataUrl(kDataset)).status, lost.status);
    EXPECT_EQ(TagOf(Get(hub.MetadataUrl(kDataset))), "v2") << "the lost read counted as a poll";
    const FakeHub::RecordedCall lost_read = hub.Calls()[1];
    EXPECT_FALSE(lost_read.carried_out) << "it served a 404: nothing published yet";
    EXPECT_TRUE(hub.Calls()[2].carried_out);

    hub.InjectFault("dataset_metadata.json", lost.fault);
    EXPECT_EQ(Get(hub.MetadataUrl(kDataset)).status, lost.status);
    EXPECT_TRUE(hub.Calls()[3].carried_out) << "served, then lost";
  }
}

TEST(FakeHubLostAnswers, AWhoamiIsCarriedOutThenItsAnswerLost) {
  for (const LostAnswer& lost : kLostAnswers) {
    SCOPED_TRACE(lost.name);
    FakeHub hub;
    hub.InjectFault("whoami", lost.fault);
    EXPECT_EQ(Get(hub.endpoint() + "/api/whoami-v2").status, lost.status);
    EXPECT_EQ(Get(hub.endpoint() + "/api/whoami-v2").status, 200);
    const std::vector<FakeHub::RecordedCall> calls = hub.Calls();
    ASSERT_EQ(calls.size(), 2u);
    EXPECT_TRUE(calls[0].carried_out);
    EXPECT_EQ(calls[0].status, lost.status);
  }
}

TEST(FakeHubLostAnswers, FaultsThatReplaceTheHandlingCarryNothingOut) {
  FakeHub hub;
  hub.AddSpace(kSpace, "PAUSED");
  hub.OnRestart(kSpace, {Publication::AfterPolls(kDataset, 10, 0, "v2")});
  hub.InjectFault("/restart", Fault::Status(502));
  hub.InjectFault("/restart", Fault::Of(Fault::Kind::kCloseConnection));
  EXPECT_EQ(Post(SpaceUrl(hub, "restart")).status, 502);
  EXPECT_EQ(Post(SpaceUrl(hub, "restart")).status, 0);
  EXPECT_EQ(Post(SpaceUrl(hub, "restart"), "hf_wrong").status, 401);
  EXPECT_EQ(hub.SpaceStage(kSpace), "PAUSED");
  EXPECT_EQ(hub.VersionTag(kDataset), "");
  for (const FakeHub::RecordedCall& call : hub.Calls()) {
    EXPECT_FALSE(call.carried_out) << call.status;
    EXPECT_EQ(call.trained_version, "");
  }
}

TEST(FakeHubLostAnswers, AScriptSourceDecidesAtEachRestartCarriedOut) {
  FakeHub hub;
  hub.AddSpace(kSpace, "PAUSED");
  int asked = 0;
  hub.OnRestart(
      kSpace, std::function<std::vector<Publication>()>([&] {
        ++asked;
        return std::vector<Publication>{Publication::AfterPolls(kDataset, 10, 0, "v" + std::to_string(asked))};
      }));
  hub.InjectFault("/restart", Fault::Status(503));
  EXPECT_EQ(Post(SpaceUrl(hub, "restart")).status, 503);
  EXPECT_EQ(Post(SpaceUrl(hub, "restart"), "hf_wrong").status, 401);
  EXPECT_EQ(asked, 0) << "asked only for restarts that happen";
  hub.InjectFault("/restart", Fault::CarryOutThenStatus(504));
  EXPECT_EQ(Post(SpaceUrl(hub, "restart")).status, 504);
  EXPECT_EQ(Post(SpaceUrl(hub, "restart")).status, 200);
  EXPECT_EQ(asked, 2);
  EXPECT_EQ(hub.VersionsPublished(kDataset), (std::vector<std::string>{"v1", "v2"}));
}

TEST(FakeHubPublication, AWorkerThatIsNotASpaceStartsItsPublications) {
  FakeHub hub;
  hub.PublishMetadata(kDataset, FakeHub::Metadata("v1", 5));
  hub.StartPublications("webhook:prepare", {Publication::AfterPolls(kDataset, 10, 1, "v2")});
  EXPECT_TRUE(hub.PublicationsPending("webhook:prepare"));
  EXPECT_FALSE(hub.PublicationsPending(kSpace));
  EXPECT_EQ(TagOf(Get(hub.MetadataUrl(kDataset))), "v1");
  EXPECT_EQ(TagOf(Get(hub.MetadataUrl(kDataset))), "v2");
  EXPECT_FALSE(hub.PublicationsPending("webhook:prepare"));
  hub.StartPublications("webhook:prepare", {Publication::AfterPolls(kDataset, 10, 5, "v3")});
  hub.StartPublications("webhook:prepare", {Publication::AfterPolls(kDataset, 10, 0, "v4")});
  EXPECT_FALSE(hub.PublicationsPending("webhook:prepare")) << "a new start drops what the last one had pending";
  EXPECT_EQ(hub.VersionsPublished(kDataset), (std::vector<std::string>{"v1", "v2", "v4"}));
}

TEST(FakeHubLifetime, DestroyingTheHubDuringASlowAnswerDoesNotWaitItOut) {
  auto hub = std::make_unique<FakeHub>();
  hub->PublishMetadata(kDataset, FakeHub::Metadata("v1", 100));
  hub->InjectFault("dataset_metadata.json", Fault::SlowBody(milliseconds(60000)));
  std::string url = hub->MetadataUrl(kDataset);
  HttpAnswer answer;
  std::thread client([&] { answer = Get(url); });
  ASSERT_TRUE(hub->WaitFor([&] { return hub->Count("GET", "dataset_metadata.json") == 1; }, milliseconds(10000)));
  auto started = steady_clock::now();
  hub.reset();
  client.join();
  EXPECT_LT(steady_clock::now() - started, milliseconds(10000));
  EXPECT_NE(answer.code, CURLE_OK);
}

}  // namespace
}  // namespace orch::testing
