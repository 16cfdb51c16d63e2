// Workers that are Hugging Face Jobs (hf-job:), with the real binary against the fake Hub's Jobs, and
// the faults of the real network: a job that never leaves SCHEDULING, one cancelled from outside, a
// run call refused with 429 (RateLimit headers) or 5xx, a run call whose answer is lost after the job
// was created, slow answers. Each pass ends with a clear outcome, no job is started twice for one
// request, the next pass knows where the label stands, and every job started is found by its labels.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "db/state_store.h"
#include "support/fake_hub.h"
#include "support/job_workers.h"
#include "support/pass_world.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using testing::FakeHub;
using testing::FakeHubJobs;
using testing::ProcessResult;
using Behavior = FakeHubJobs::Behavior;
using Fault = FakeHub::Fault;
using Publication = FakeHub::Publication;

constexpr const char* kToken = "hf_jobsSECRET";
constexpr const char* kRunCall = "/api/jobs/tester";
constexpr const char* kName = "grievances";

class HfJobWorkers : public ::testing::Test, public testing::PassWorld {
 protected:
  void SetUp() override {
    Open("sqlite", kToken);
    hub.PublishMetadata("owner/department", FakeHub::Metadata("d1", 5));
    testing::PrepareJobsPublish(hub, [](const std::string&) {
      return std::vector<Publication>{Publication::AfterPolls("owner/department", 30, 0, "d2")};
    });
    hub.jobs().SetBehavior(testing::kRetrainJobImage, Behavior::Manual());
    env["LABELS"] = "department";
    env["ORCHESTRATOR_NAME"] = kName;
    env["PREPARE_DATASET_REPO"] = testing::PrepareJobTarget();
    env["RETRAIN_DEPT_REPO"] = testing::RetrainJobTarget("department");
    env["HTTP_RETRIES"] = "1";
    env["LOCK_LEASE"] = "1";
  }

  ProcessResult Run(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"run", "--wait-lock", "10"};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunOrchestrator(std::move(args));
  }
  LabelState Department() { return StateOf("department"); }
  std::vector<FakeHubJobs::Job> PrepareJobs() {
    std::vector<FakeHubJobs::Job> jobs;
    for (FakeHubJobs::Job& job : hub.jobs().Jobs())
      if (job.docker_image == testing::kPrepareJobImage) jobs.push_back(std::move(job));
    return jobs;
  }
  // Every job started carries the orchestrator's labels, and its request's key finds it alone.
  void ExpectEveryJobFoundByItsLabelsOnce() {
    for (const FakeHubJobs::Job& job : hub.jobs().Jobs()) {
      EXPECT_EQ(job.labels.at("orchestrator"), kName);
      const std::string key = job.labels.at("orchestrator-key");
      EXPECT_EQ(key, job.environment.at("ORCHESTRATOR_IDEMPOTENCY_KEY"));
      EXPECT_EQ(testing::JobsOfRequest(hub, kName, key).size(), 1u) << "two jobs for the request " << key;
    }
  }
  static std::string Outcome(const ProcessResult& result) {
    const nlohmann::json summary = nlohmann::json::parse(result.out, nullptr, false);
    if (!summary.is_object()) return "";
    return summary["labels"][0].value("outcome", "");
  }
};

TEST_F(HfJobWorkers, APassRunsThePrepareJobThenTheRetrainJobAndRecordsBoth) {
  const ProcessResult first = Run();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(Outcome(first), "retrain_triggered");
  const LabelState state = Department();
  EXPECT_EQ(state.last_retrained_version, "d2");
  ASSERT_EQ(PrepareJobs().size(), 1u);
  EXPECT_EQ(state.prepare_run_id, "tester/" + PrepareJobs().front().id);
  const std::vector<FakeHubJobs::Job> retrains = hub.jobs().WithLabel("orchestrator-role", "retrain");
  ASSERT_EQ(retrains.size(), 1u);
  EXPECT_EQ(state.retrain_run_id, "tester/" + retrains.front().id);
  EXPECT_EQ(retrains.front().secrets.at("HF_TOKEN"), kToken);
  EXPECT_EQ(retrains.front().environment.count("HF_TOKEN"), 0u);
  const nlohmann::json summary = nlohmann::json::parse(first.out);
  EXPECT_EQ(summary["labels"][0]["retrain_run"], *state.retrain_run_id);

  // status shows the jobs and their pages.
  const ProcessResult status = RunOrchestrator({"status"}, 30s);
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(
      status.out.find("retrain job " + *state.retrain_run_id + " " + hub.endpoint() + "/jobs/" + *state.retrain_run_id),
      std::string::npos)
      << status.out;
  const ProcessResult json = RunOrchestrator({"status", "--json"}, 30s);
  const nlohmann::json labels = nlohmann::json::parse(json.out)["labels"];
  EXPECT_EQ(labels[0]["prepare_run_url"], hub.endpoint() + "/jobs/" + *state.prepare_run_id);

  // The retrain job still runs: a label ready again waits for it instead of preparing anew.
  database->AddMisclassified(5, "department");
  const ProcessResult second = Run();
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(Outcome(second), "deferred");
  EXPECT_NE(second.out.find(*state.retrain_run_id), std::string::npos) << second.out;
  EXPECT_EQ(PrepareJobs().size(), 1u);
  ExpectEveryJobFoundByItsLabelsOnce();
}

TEST_F(HfJobWorkers, APrepareJobThatNeverLeavesSchedulingTimesOutAndIsWaitedForAgainNotSentAgain) {
  hub.jobs().SetBehavior(testing::kPrepareJobImage, Behavior::StayScheduling());
  env["POLL_TIMEOUT"] = "0.5";
  env["STALE_AFTER"] = "3600";
  const ProcessResult first = Run();
  EXPECT_EQ(first.exit_code, 1) << first.err;
  EXPECT_EQ(Outcome(first), "timeout");
  EXPECT_EQ(Department().phase, Phase::kPreparing);
  EXPECT_TRUE(Department().prepare_run_id.has_value());
  const ProcessResult second = Run();
  EXPECT_EQ(Outcome(second), "timeout");
  EXPECT_NE(second.err.find("resuming the wait"), std::string::npos) << second.err;
  EXPECT_EQ(PrepareJobs().size(), 1u);
  ExpectEveryJobFoundByItsLabelsOnce();
}

TEST_F(HfJobWorkers, APrepareJobCancelledFromOutsideFailsTheLabelWithItsPageAndTheNextPassPreparesAnew) {
  hub.jobs().SetBehavior(testing::kPrepareJobImage, Behavior::Manual());
  env["POLL_TIMEOUT"] = "30";
  const auto pass = StartOrchestrator({"run"});
  ASSERT_TRUE(hub.WaitFor([&] { return !PrepareJobs().empty() && PrepareJobs().front().stage == "RUNNING"; }, 20s));
  const std::string id = PrepareJobs().front().id;
  ASSERT_TRUE(hub.jobs().Cancel(id));
  const ProcessResult first = pass->Wait(60s);
  EXPECT_EQ(first.exit_code, 1) << first.err;
  EXPECT_EQ(Outcome(first), "failed");
  EXPECT_NE(first.out.find("CANCELED: Job canceled"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find(hub.endpoint() + "/jobs/tester/" + id), std::string::npos) << first.out;
  EXPECT_EQ(Department().phase, Phase::kIdle);

  testing::PrepareJobsPublish(hub, [](const std::string&) {
    return std::vector<Publication>{Publication::AfterPolls("owner/department", 30, 0, "d2")};
  });
  const ProcessResult second = Run();
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(PrepareJobs().size(), 2u);
  EXPECT_EQ(Department().last_retrained_version, "d2");
  ExpectEveryJobFoundByItsLabelsOnce();
}

TEST_F(HfJobWorkers, ARunCallRefusedWith429Or5xxIsCertainlyNotSentAndTheNextPassSendsItOnce) {
  for (const Fault& refusal : {Fault::RetryAfter(0, 2), Fault::Status(503, 2), Fault::Status(500, 2)}) {
    SCOPED_TRACE("HTTP " + std::to_string(refusal.status));
    hub.InjectFault(kRunCall, refusal.Only("POST"));
    const size_t before = PrepareJobs().size();
    const ProcessResult refused = Run();
    EXPECT_EQ(refused.exit_code, 1) << refused.err;
    EXPECT_NE(refused.out.find("restarting the prepare worker"), std::string::npos) << refused.out;
    EXPECT_EQ(Department().phase, Phase::kIdle) << "certainly not sent: the next pass decides afresh";
    EXPECT_EQ(PrepareJobs().size(), before);
  }
  // Once: the HTTP client's retry gets through, honouring the 429's wait.
  hub.InjectFault(kRunCall, Fault::RetryAfter(0).Only("POST"));
  const ProcessResult sent = Run();
  EXPECT_EQ(sent.exit_code, 0) << sent.err;
  EXPECT_EQ(PrepareJobs().size(), 1u);
  EXPECT_EQ(Department().last_retrained_version, "d2");
  ExpectEveryJobFoundByItsLabelsOnce();
}

TEST_F(HfJobWorkers, ARetrainRunWhoseAnswerWasLostIsFoundByItsKeyAndNeverSentTwice) {
  for (const Fault& loss :
       {Fault::CarryOutThenClose(), Fault::CarryOutThenStatus(502), Fault::CarryOutThenStatus(504)}) {
    SCOPED_TRACE("lost by " + std::to_string(loss.status));
    hub.InjectFault(kRunCall, loss.Only("POST"));  // the prepare job's run
    hub.InjectFault(kRunCall, loss.Only("POST"));  // the retrain job's run
    const ProcessResult first = Run();
    EXPECT_EQ(first.exit_code, 0) << first.err;
    EXPECT_NE(first.err.find("the answer to its run call was lost"), std::string::npos) << first.err;
    EXPECT_EQ(Department().last_retrained_version, Department().dataset_version);
    EXPECT_TRUE(Department().retrain_run_id.has_value());
    // A new cycle for the next round.
    for (const auto& [request, count] : testing::RetrainJobsStarted(hub)) EXPECT_EQ(count, 1) << request.second;
    database->AddMisclassified(5, "department");
    const std::string next = "d" + std::to_string(loss.status);
    testing::PrepareJobsPublish(hub, [next](const std::string&) {
      return std::vector<Publication>{Publication::AfterPolls("owner/department", 1000, 0, next)};
    });
    for (const FakeHubJobs::Job& job : hub.jobs().Jobs())
      if (job.stage == "RUNNING") hub.jobs().Finish(job.id, "COMPLETED");
  }
  ExpectEveryJobFoundByItsLabelsOnce();
}

// The prepare worker is a Space here, so that the faults meet the retrain job's calls alone.
class LostRetrainRuns : public HfJobWorkers {
 protected:
  void SetUp() override {
    HfJobWorkers::SetUp();
    hub.AddSpace("owner/prepare", "PAUSED");
    hub.OnRestart("owner/prepare", {Publication::AfterPolls("owner/department", 30, 0, "d2")});
    env["PREPARE_DATASET_REPO"] = "owner/prepare";
  }
};

TEST_F(LostRetrainRuns, ARunCarriedOutThatCannotBeListedIsConfirmedByTheNextPassEvenOnceItsJobHasEnded) {
  hub.InjectFault(kRunCall, Fault::CarryOutThenStatus(504).Only("POST"));
  hub.InjectFault(kRunCall, Fault::Status(503, 2).Only("GET"));  // the listing by its key, and its retry
  const ProcessResult first = Run();
  EXPECT_EQ(first.exit_code, 1) << first.err;
  EXPECT_NE(first.out.find("it may have reached the worker"), std::string::npos) << first.out;
  EXPECT_EQ(Department().phase, Phase::kRetraining);
  EXPECT_FALSE(Department().retrain_confirmed);
  // The job runs and ends before the next pass: a Space would look as if never restarted.
  const std::vector<FakeHubJobs::Job> jobs = hub.jobs().WithLabel("orchestrator-role", "retrain");
  ASSERT_EQ(jobs.size(), 1u);
  ASSERT_TRUE(hub.jobs().Finish(jobs.front().id, "COMPLETED"));
  const ProcessResult second = Run();
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.err.find("confirmed the retrain restart an earlier pass sent"), std::string::npos) << second.err;
  EXPECT_EQ(Department().last_retrained_version, "d2");
  EXPECT_EQ(Department().retrain_run_id, "tester/" + jobs.front().id);
  EXPECT_EQ(testing::RetrainJobsStarted(hub)[std::make_pair(std::string("department"), std::string("d2"))], 1);
  ExpectEveryJobFoundByItsLabelsOnce();
}

TEST_F(LostRetrainRuns, ARunThatNeverArrivedIsRefutedByTheNextPassAndSentOnce) {
  hub.InjectFault(kRunCall, Fault::Status(502).Only("POST"));  // a gateway that never reached the Hub
  hub.InjectFault(kRunCall, Fault::Status(503, 2).Only("GET"));
  const ProcessResult first = Run();
  EXPECT_EQ(first.exit_code, 1) << first.err;
  EXPECT_NE(first.out.find("it may have reached the worker"), std::string::npos) << first.out;
  EXPECT_TRUE(hub.jobs().Jobs().empty());
  const ProcessResult second = Run();
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.err.find("did not reach the worker"), std::string::npos) << second.err;
  EXPECT_EQ(Department().last_retrained_version, "d2");
  EXPECT_EQ(testing::RetrainJobsStarted(hub)[std::make_pair(std::string("department"), std::string("d2"))], 1);
  ExpectEveryJobFoundByItsLabelsOnce();
}

TEST_F(HfJobWorkers, SlowAnswersAreWaitedFor) {
  hub.InjectFault(kRunCall, Fault::SlowBody(300ms));
  hub.InjectFault(kRunCall, Fault::SlowBody(300ms));
  hub.InjectFault(kRunCall, Fault::SlowBody(300ms));
  const ProcessResult result = Run();
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(Department().last_retrained_version, "d2");
  ExpectEveryJobFoundByItsLabelsOnce();
}

TEST_F(HfJobWorkers, WithWaitAFailedRetrainJobFailsTheLabelWithItsMessagePageAndTheTailOfItsLog) {
  Behavior failing = Behavior::Run(50ms, "ERROR", "Job failed with exit code: 2");
  failing.log = {"reading d2", "error: the split has no rows"};
  hub.jobs().SetBehavior(testing::kRetrainJobImage, failing);
  const ProcessResult result = Run({"--wait"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  const nlohmann::json label = nlohmann::json::parse(result.out)["labels"][0];
  EXPECT_EQ(label["retrain"]["result"], "failed");
  const std::string error = label.value("error", "");
  EXPECT_NE(error.find("ERROR: Job failed with exit code: 2"), std::string::npos) << error;
  EXPECT_NE(error.find(hub.endpoint() + "/jobs/" + *Department().retrain_run_id), std::string::npos) << error;
  EXPECT_NE(error.find("error: the split has no rows"), std::string::npos) << error;
  EXPECT_EQ(Department().last_retrained_version, "d2") << "the version still counts as retrained";
}

TEST_F(HfJobWorkers, WithWaitACompletedRetrainJobIsFinished) {
  Behavior done = Behavior::Run(50ms);
  done.log = {R"({"label": "department", "deployed": true})"};
  hub.jobs().SetBehavior(testing::kRetrainJobImage, done);
  const ProcessResult result = Run({"--wait"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json label = nlohmann::json::parse(result.out)["labels"][0];
  EXPECT_EQ(label["retrain"]["result"], "finished");
  EXPECT_EQ(label["retrain"]["decision"]["deployed"], true);
}

}  // namespace
}  // namespace orch
