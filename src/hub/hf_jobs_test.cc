#include "hub/hf_jobs.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace orch {
namespace {

TEST(JobInfoOf, KeepsTheIdOwnerStageMessageAndLabelsOfAJob) {
  const std::optional<JobInfo> job = JobInfoOf(R"({"id": "687fb701029421ae5549d998", "owner": {"id": "5e9e",
      "name": "lhoestq", "type": "user"}, "status": {"stage": "ERROR", "message": "Job timeout"},
      "labels": {"orchestrator": "grievances", "n": 3}, "secrets": ["HF_TOKEN"]})");
  ASSERT_TRUE(job);
  EXPECT_EQ(job->id, "687fb701029421ae5549d998");
  EXPECT_EQ(job->owner, "lhoestq");
  EXPECT_EQ(job->stage, "ERROR");
  EXPECT_EQ(job->message, "Job timeout");
  EXPECT_EQ(job->labels, (std::map<std::string, std::string>{{"orchestrator", "grievances"}}));
}

TEST(JobInfoOf, RefusesWhatIsNoJobAndBoundsWhatItKeeps) {
  EXPECT_FALSE(JobInfoOf("not json"));
  EXPECT_FALSE(JobInfoOf("[]"));
  EXPECT_FALSE(JobInfoOf(R"({"id": "../etc"})"));
  EXPECT_FALSE(JobInfoOf(R"({"id": "a b"})"));
  const std::string long_message(5000, 'x');
  const std::optional<JobInfo> job = JobInfoOf(nlohmann::json{
      {"id", "abc"}, {"owner", {{"name", "x/y"}}}, {"status", {{"stage", "running\n"}, {"message", long_message}}}}
                                                   .dump());
  ASSERT_TRUE(job);
  EXPECT_EQ(job->owner, "");  // no usable name
  EXPECT_EQ(job->stage, "");  // no stage name
  EXPECT_LE(job->message.size(), kMaxJobMessageBytes + 8);
}

TEST(JobListOf, KeepsTheUsableJobsOfAList) {
  const std::optional<std::vector<JobInfo>> jobs = JobListOf(R"([{"id": "a1"}, {"id": 7}, "x", {"id": "b2"}])");
  ASSERT_TRUE(jobs);
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[1].id, "b2");
  EXPECT_FALSE(JobListOf(R"({"id": "a1"})"));
}

TEST(NextPageOf, FindsTheNextLinkAmongOthers) {
  EXPECT_EQ(NextPageOf(R"(<https://hf.co/api/jobs/x?cursor=2>; rel="next")"), "https://hf.co/api/jobs/x?cursor=2");
  EXPECT_EQ(NextPageOf(R"(<https://a/1>; rel="prev", <https://a/3>; rel="next")"), "https://a/3");
  EXPECT_EQ(NextPageOf(R"(<https://a/1>; rel="prev")"), "");
  EXPECT_EQ(NextPageOf(""), "");
  EXPECT_EQ(NextPageOf("<unterminated"), "");
}

TEST(JobLogLinesOf, ReadsTheDataEventsAndLeavesOutTheStartLineAndKeepAlives) {
  const std::string body =
      "data: {\"data\": \"===== Job started at 2026-01-01 =====\", \"timestamp\": \"t\"}\n\n"
      ": keep-alive\n\n"
      "data: {\"data\": \"one\", \"timestamp\": \"t\"}\r\n\r\n"
      "event: metric\ndata: not json\n\n"
      "data: {\"data\": \"two\"}\n\n"
      "data: {\"data\": \"three\"}\n\n";
  EXPECT_EQ(JobLogLinesOf(body, 10), (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(JobLogLinesOf(body, 2), (std::vector<std::string>{"two", "three"}));
}

TEST(JobPageUrl, IsTheHubsPageOfARunId) {
  EXPECT_EQ(JobPageUrl("https://huggingface.co", "lhoestq/687fb7"), "https://huggingface.co/jobs/lhoestq/687fb7");
  EXPECT_EQ(JobPageUrl("https://huggingface.co", "no-slash"), "");
  EXPECT_EQ(JobPageUrl("https://huggingface.co", "a/../b"), "");
}

TEST(JobSpecJson, SendsAnImageOrASpaceAndLeavesOutWhatIsUnset) {
  JobSpec spec;
  spec.docker_image = "python:3.12";
  spec.command = {"python", "-c", "print(1)"};
  spec.flavor = "cpu-basic";
  nlohmann::json body = nlohmann::json::parse(JobSpecJson(spec));
  EXPECT_EQ(body["dockerImage"], "python:3.12");
  EXPECT_FALSE(body.contains("spaceId"));
  EXPECT_FALSE(body.contains("timeoutSeconds"));
  EXPECT_FALSE(body.contains("secrets"));
  EXPECT_EQ(body["arguments"], nlohmann::json::array());
  spec.space_id = "owner/x";
  spec.timeout_seconds = 90;
  body = nlohmann::json::parse(JobSpecJson(spec));
  EXPECT_EQ(body["spaceId"], "owner/x");
  EXPECT_FALSE(body.contains("dockerImage"));
  EXPECT_EQ(body["timeoutSeconds"], 90);
}

}  // namespace
}  // namespace orch
