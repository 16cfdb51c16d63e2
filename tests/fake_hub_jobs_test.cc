// The fake Hub's Jobs, spoken to over real HTTP as the Hub's clients do: what the orchestrator's
// tests rely on it for (see support/fake_hub_jobs.h).
#include <gtest/gtest.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "support/fake_hub.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using testing::FakeHub;
using testing::FakeHubJobs;
using Behavior = FakeHubJobs::Behavior;
using Json = nlohmann::json;

class FakeHubJobsTest : public ::testing::Test {
 protected:
  FakeHubJobsTest() : client(hub.endpoint()) {
    client.set_bearer_token_auth("hf_test_token");
    client.set_read_timeout(10, 0);
    client.set_url_encode(false);  // the links are sent as the fake wrote them
  }
  Json Spec(const std::string& image, const std::map<std::string, std::string>& labels = {}) {
    return {{"dockerImage", image},
            {"command", {"python", "-c", "print(1)"}},
            {"arguments", Json::array()},
            {"environment", {{"MODE", "test"}}},
            {"secrets", {{"HF_TOKEN", "hf_secret_value"}}},
            {"flavor", "cpu-basic"},
            {"labels", labels}};
  }
  httplib::Result Run(const Json& spec, const std::string& job_namespace = "tester") {
    return client.Post(("/api/jobs/" + job_namespace).c_str(), spec.dump(), "application/json");
  }
  std::string RunId(const Json& spec) { return Json::parse(Run(spec)->body)["id"]; }

  FakeHub hub;
  httplib::Client client;
};

TEST_F(FakeHubJobsTest, ARunIsAnsweredWithTheJobAndItsSecretsByNameOnly) {
  const httplib::Result result = Run(Spec("python:3.12", {{"team", "ml"}}));
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
  const Json job = Json::parse(result->body);
  EXPECT_EQ(job["dockerImage"], "python:3.12");
  EXPECT_EQ(job["secrets"], Json::array({"HF_TOKEN"}));
  EXPECT_EQ(result->body.find("hf_secret_value"), std::string::npos);
  EXPECT_EQ(job["status"]["stage"], "SCHEDULING");
  EXPECT_EQ(job["owner"]["name"], "tester");
  EXPECT_EQ(hub.jobs().Find(job["id"])->secrets.at("HF_TOKEN"), "hf_secret_value");
  const httplib::Result read = client.Get(("/api/jobs/tester/" + job["id"].get<std::string>()).c_str());
  EXPECT_EQ(Json::parse(read->body)["labels"]["team"], "ml");
  EXPECT_EQ(client.Get("/api/jobs/tester/000000000000000000000000")->status, 404);
}

TEST_F(FakeHubJobsTest, ABadSpecAnotherNamespaceOrNoTokenIsRefused) {
  Json both = Spec("python:3.12");
  both["spaceId"] = "owner/x";
  EXPECT_EQ(Run(both)->status, 400);
  Json flavor = Spec("python:3.12");
  flavor["flavor"] = "quantum";
  EXPECT_EQ(Run(flavor)->status, 400);
  Json timeout = Spec("python:3.12");
  timeout["timeoutSeconds"] = -1;
  EXPECT_EQ(Run(timeout)->status, 400);
  EXPECT_EQ(Run(Spec("python:3.12", {{"key", "a value with spaces"}}))->status, 400);
  EXPECT_EQ(Run(Spec("python:3.12"), "someone-else")->status, 403);
  hub.jobs().AddNamespace("my-org");
  EXPECT_EQ(Run(Spec("python:3.12"), "my-org")->status, 200);
  httplib::Client anonymous(hub.endpoint());
  EXPECT_EQ(anonymous.Get("/api/jobs/tester")->status, 401);
  EXPECT_EQ(hub.jobs().Jobs().size(), 1u);
}

TEST_F(FakeHubJobsTest, ListsFilterByStageAndLabelsPageByPage) {
  hub.jobs().SetListPageSize(2);
  hub.jobs().SetBehavior("manual:1", Behavior::Manual());
  hub.jobs().SetBehavior("stuck:1", Behavior::StayScheduling());
  for (int i = 0; i < 3; ++i) RunId(Spec("manual:1", {{"orchestrator", "a"}, {"n", std::to_string(i)}}));
  const std::string stuck = RunId(Spec("stuck:1", {{"orchestrator", "a"}}));
  RunId(Spec("manual:1", {{"orchestrator", "b"}}));
  ASSERT_TRUE(hub.WaitFor(
      [&] {
        int running = 0;
        for (const FakeHubJobs::Job& job : hub.jobs().Jobs()) running += job.stage == "RUNNING";
        return running == 4;
      },
      10s));
  std::vector<std::string> ids;
  const std::string query = "/api/jobs/tester?stage=RUNNING&stage=SCHEDULING&label=orchestrator%3Da";
  std::string next = query;
  int pages = 0;
  while (!next.empty() && pages < 10) {
    const httplib::Result page = client.Get(next.c_str());
    ASSERT_EQ(page->status, 200);
    ++pages;
    for (const Json& job : Json::parse(page->body)) ids.push_back(job["id"]);
    const std::string link = page->get_header_value("Link");
    next.clear();
    if (link.empty()) continue;
    EXPECT_TRUE(link.starts_with("<" + hub.endpoint() + "/api/jobs/tester?")) << link;
    EXPECT_NE(link.find("label=orchestrator"), std::string::npos) << link;  // (httplib decodes what it reads)
    EXPECT_TRUE(link.ends_with(">; rel=\"next\"")) << link;
    const size_t cursor = link.find("cursor=");
    next = query + "&" + link.substr(cursor, link.find('>') - cursor);
  }
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_GE(pages, 2);
  EXPECT_EQ(Json::parse(client.Get("/api/jobs/tester?stage=SCHEDULING")->body).size(), 1u);
  EXPECT_EQ(Json::parse(client.Get("/api/jobs/tester?label=orchestrator%3Da&label=n%3D1")->body).size(), 1u);
  EXPECT_EQ(hub.jobs().Stage(stuck), "SCHEDULING");
}

TEST_F(FakeHubJobsTest, ACancelEndsAJobAndItsLogStreamEndsWithIt) {
  Behavior manual = Behavior::Manual();
  manual.log = {"step 1", "step 2"};
  hub.jobs().SetBehavior("manual:1", manual);
  const std::string id = RunId(Spec("manual:1"));
  ASSERT_TRUE(hub.WaitFor([&] { return hub.jobs().Stage(id) == "RUNNING"; }, 10s));
  // The stream of a running job stays open; it ends once the job is cancelled.
  std::string body;
  std::thread reader([&] {
    httplib::Client stream(hub.endpoint());
    stream.set_bearer_token_auth("hf_test_token");
    stream.set_read_timeout(20, 0);
    const httplib::Result result = stream.Get(("/api/jobs/tester/" + id + "/logs").c_str());
    if (result) body = result->body;
  });
  ASSERT_TRUE(hub.WaitFor([&] { return hub.Count("GET", "/logs") == 1; }, 10s));  // the stream is open
  EXPECT_EQ(client.Post(("/api/jobs/tester/" + id + "/cancel").c_str(), "", "application/json")->status, 200);
  reader.join();
  EXPECT_EQ(hub.jobs().Stage(id), "CANCELED");
  EXPECT_NE(body.find("data: {\"data\":\"===== Job started"), std::string::npos) << body;
  EXPECT_NE(body.find("step 2"), std::string::npos) << body;
  const std::string tail = client.Get(("/api/jobs/tester/" + id + "/logs?tail=1").c_str())->body;
  EXPECT_EQ(tail.find("step 1"), std::string::npos) << tail;
  EXPECT_NE(tail.find("step 2"), std::string::npos) << tail;
  EXPECT_FALSE(hub.jobs().Finish(id, "COMPLETED")) << "an ended job stays ended";
}

TEST_F(FakeHubJobsTest, AJobOutlivingItsTimeoutEndsInError) {
  hub.jobs().SetBehavior("manual:1", Behavior::Manual());
  Json spec = Spec("manual:1");
  spec["timeoutSeconds"] = 1;
  const std::string id = RunId(spec);
  ASSERT_TRUE(hub.WaitFor([&] { return hub.jobs().Stage(id) == "ERROR"; }, 10s));
  EXPECT_EQ(hub.jobs().Find(id)->message, "Job timeout");
}

}  // namespace
}  // namespace orch
