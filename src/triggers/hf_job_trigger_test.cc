#include "triggers/hf_job_trigger.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/fake_hub.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using testing::FakeHub;
using testing::FakeHubJobs;
using Behavior = FakeHubJobs::Behavior;
using Fault = FakeHub::Fault;

constexpr const char* kToken = "hf_test_token";
constexpr const char* kRetrain = "hf-job:ghcr.io/owner/orchestrator:1 orchestrator retrain --hub /data";
constexpr const char* kPrepare = "hf-job:hf.co/spaces/owner/preparer python prepare.py";
constexpr auto kBound = 10s;  // for a job to reach a stage the fake moves it to

class HfJobTriggerTest : public ::testing::Test {
 protected:
  HfJobTriggerTest()
      : http(Settings(), kToken, fake.endpoint()), hub(http, fake.endpoint()), jobs(http, fake.endpoint()) {}

  static HttpSettings Settings() {
    HttpSettings settings;
    settings.retry_base = 0.01;
    settings.retry_max = 0.05;
    settings.max_retries = 2;
    return settings;
  }
  HfJobOptions Options() const {
    HfJobOptions options;
    options.orchestrator = "grievances";
    options.prepare.flavor = "cpu-upgrade";
    options.prepare.timeout = 3600;
    HfJobSettings department;
    department.flavor = "a10g-small";
    department.timeout = 5400;
    options.labels["department"] = department;
    options.environment = {{"LABELS", "department,urgency"}};
    options.secrets = {{"HF_TOKEN", kToken}};
    return options;
  }
  static StartRequest Retrain(const std::string& label = "department", const std::string& version = "v2") {
    StartRequest request;
    request.target = kRetrain;
    request.label = label;
    request.required_len = 120;
    request.baseline_version = "v1";
    request.dataset_version = version;
    request.idempotency_key = IdempotencyKey(label, version);
    return request;
  }
  StartResult StartOne(HfJobTrigger& trigger, const StartRequest& request) {
    return trigger.Start(std::span<const StartRequest>(&request, 1)).front();
  }
  WorkerState InspectOne(HfJobTrigger& trigger, const WorkerRef& worker) {
    return trigger.Inspect(std::span<const WorkerRef>(&worker, 1), 5000ms).front();
  }
  static WorkerRef RefTo(const StartRequest& request, const std::string& run_id, bool with_log = false) {
    return {request.target, request.label, request.dataset_version.empty(), run_id, request.idempotency_key, with_log};
  }
  bool StageIs(const std::string& id, const std::string& stage) {
    return fake.WaitFor([&] { return fake.jobs().Stage(id) == stage; }, kBound);
  }
  static std::string IdOf(const std::string& run_id) { return run_id.substr(run_id.find('/') + 1); }
  int Gets(const std::string& query_part) {
    int count = 0;
    for (const FakeHub::RecordedCall& call : fake.Calls())
      count +=
          call.method == "GET" && call.path == "/api/jobs/tester" && call.query.find(query_part) != std::string::npos;
    return count;
  }

  FakeHub fake;
  HttpClient http;
  HfHub hub;
  HfJobs jobs;
};

TEST_F(HfJobTriggerTest, AStartRunsAJobWithTheRequestInItsEnvironmentAndTheTokenOnlyAsASecret) {
  fake.jobs().SetDefaultBehavior(Behavior::Manual());
  HfJobTrigger trigger(jobs, hub, Options());
  const StartResult result = StartOne(trigger, Retrain());
  ASSERT_TRUE(result.ok) << result.detail;
  ASSERT_TRUE(result.run_id.starts_with("tester/")) << result.run_id;
  EXPECT_NE(result.detail.find(fake.endpoint() + "/jobs/" + result.run_id), std::string::npos) << result.detail;

  const std::vector<FakeHubJobs::Job> all = fake.jobs().Jobs();
  ASSERT_EQ(all.size(), 1u);
  const FakeHubJobs::Job& job = all.front();
  EXPECT_EQ(job.id, IdOf(result.run_id));
  EXPECT_EQ(job.docker_image, "ghcr.io/owner/orchestrator:1");
  EXPECT_EQ(job.command, (std::vector<std::string>{"orchestrator", "retrain", "--hub", "/data"}));
  EXPECT_EQ(job.flavor, "a10g-small");
  EXPECT_EQ(job.timeout_seconds, 5400);
  EXPECT_EQ(job.environment.at("ORCHESTRATOR_LABEL"), "department");
  EXPECT_EQ(job.environment.at("ORCHESTRATOR_DATASET_VERSION"), "v2");
  EXPECT_EQ(job.environment.at("ORCHESTRATOR_REQUIRED_LEN"), "120");
  EXPECT_EQ(job.environment.at("ORCHESTRATOR_BASELINE_VERSION"), "v1");
  EXPECT_EQ(job.environment.at("ORCHESTRATOR_IDEMPOTENCY_KEY"), IdempotencyKey("department", "v2"));
  EXPECT_EQ(job.environment.at("LABELS"), "department,urgency");
  EXPECT_EQ(job.secrets, (std::map<std::string, std::string>{{"HF_TOKEN", kToken}}));
  EXPECT_EQ(job.labels.at("orchestrator"), "grievances");
  EXPECT_EQ(job.labels.at("orchestrator-label"), "department");
  EXPECT_EQ(job.labels.at("orchestrator-role"), "retrain");
  EXPECT_EQ(job.labels.at("orchestrator-key"), IdempotencyKey("department", "v2"));
  EXPECT_EQ(job.labels.at("name"), "grievances-retrain-department");
  // The token is nowhere the Hub shows: not in the environment, the labels, the command, the answer.
  const std::string shown = FakeHubJobs::JobJson(job).dump();
  EXPECT_EQ(shown.find(kToken), std::string::npos) << shown;
  for (const FakeHub::RecordedCall& call : fake.Calls()) {
    if (call.method == "POST") {
      EXPECT_EQ(nlohmann::json::parse(call.body)["secrets"]["HF_TOKEN"], kToken);
    }
  }
}

TEST_F(HfJobTriggerTest, APrepareJobOfSeveralLabelsRunsASpacesImageWithTheGlobalSettings) {
  fake.jobs().SetDefaultBehavior(Behavior::Manual());
  HfJobTrigger trigger(jobs, hub, Options());
  StartRequest request;
  request.target = kPrepare;
  request.label = "department,urgency";
  request.required_len = 300;
  request.idempotency_key = IdempotencyKey(request.label, "cycle");
  ASSERT_TRUE(StartOne(trigger, request).ok);
  const FakeHubJobs::Job job = fake.jobs().Jobs().front();
  EXPECT_EQ(job.space_id, "owner/preparer");
  EXPECT_EQ(job.docker_image, "");
  EXPECT_EQ(job.flavor, "cpu-upgrade");
  EXPECT_EQ(job.timeout_seconds, 3600);
  EXPECT_EQ(job.labels.at("orchestrator-label"), "department-urgency");
  EXPECT_EQ(job.labels.at("orchestrator-role"), "prepare");
  EXPECT_EQ(job.labels.at("name"), "grievances-prepare");
  EXPECT_EQ(job.environment.at("ORCHESTRATOR_LABEL"), "department,urgency");
}

TEST_F(HfJobTriggerTest, TheRunsStagesAreActiveThenFinishedAsSurelyAsAProcessExit) {
  fake.jobs().SetDefaultBehavior(Behavior::Manual());
  HfJobTrigger trigger(jobs, hub, Options());
  const StartRequest request = Retrain();
  const StartResult started = StartOne(trigger, request);
  ASSERT_TRUE(started.ok);
  ASSERT_TRUE(StageIs(IdOf(started.run_id), "RUNNING"));
  const WorkerState running = InspectOne(trigger, RefTo(request, started.run_id));
  EXPECT_EQ(running.health, WorkerState::Health::kActive);
  EXPECT_NE(running.detail.find("RUNNING"), std::string::npos) << running.detail;
  EXPECT_EQ(running.run_id, started.run_id);
  EXPECT_EQ(running.request, WorkerState::Request::kReceived);

  ASSERT_TRUE(fake.jobs().Finish(IdOf(started.run_id), "COMPLETED"));
  const WorkerState done = InspectOne(trigger, RefTo(request, started.run_id));
  EXPECT_EQ(done.health, WorkerState::Health::kFinished);
  EXPECT_EQ(done.evidence, WorkerState::Evidence::kProcess);
  EXPECT_NE(done.detail.find("COMPLETED"), std::string::npos) << done.detail;
}

TEST_F(HfJobTriggerTest, AFailedOrCancelledJobFailsWithItsMessageItsPageAndWhenAskedTheTailOfItsLog) {
  Behavior failing = Behavior::Run(0ms, "ERROR", "Job failed with exit code: 3");
  failing.log = {"loading v2", "Traceback (most recent call last):", "ValueError: no rows"};
  fake.jobs().SetBehavior("ghcr.io/owner/orchestrator:1", failing);
  HfJobTrigger trigger(jobs, hub, Options());
  const StartRequest request = Retrain();
  const StartResult started = StartOne(trigger, request);
  ASSERT_TRUE(StageIs(IdOf(started.run_id), "ERROR"));
  const WorkerState failed = InspectOne(trigger, RefTo(request, started.run_id, /*with_log=*/true));
  EXPECT_EQ(failed.health, WorkerState::Health::kFailed);
  EXPECT_NE(failed.detail.find("ERROR: Job failed with exit code: 3"), std::string::npos) << failed.detail;
  EXPECT_NE(failed.detail.find(fake.endpoint() + "/jobs/" + started.run_id), std::string::npos) << failed.detail;
  EXPECT_NE(failed.detail.find("ValueError: no rows"), std::string::npos) << failed.detail;
  EXPECT_EQ(failed.detail.find("===== Job started"), std::string::npos) << failed.detail;
  EXPECT_EQ(InspectOne(trigger, RefTo(request, started.run_id)).detail.find("ValueError"), std::string::npos);

  fake.jobs().SetBehavior("ghcr.io/owner/orchestrator:1", Behavior::Manual());
  const StartRequest other = Retrain("urgency", "u7");
  const StartResult running = StartOne(trigger, other);
  ASSERT_TRUE(fake.jobs().Cancel(IdOf(running.run_id)));
  const WorkerState cancelled = InspectOne(trigger, RefTo(other, running.run_id));
  EXPECT_EQ(cancelled.health, WorkerState::Health::kFailed);
  EXPECT_NE(cancelled.detail.find("CANCELED: Job canceled"), std::string::npos) << cancelled.detail;
}

TEST_F(HfJobTriggerTest, StagesAreReadWithOneListingPerNamespacePageByPageAndEndedJobsAlone) {
  fake.jobs().SetDefaultBehavior(Behavior::Manual());
  fake.jobs().SetListPageSize(2);
  HfJobTrigger trigger(jobs, hub, Options());
  std::vector<StartRequest> requests;
  for (int i = 0; i < 5; ++i) requests.push_back(Retrain("label" + std::to_string(i), "v1"));
  const std::vector<StartResult> started = trigger.Start(requests);
  std::vector<WorkerRef> workers;
  for (size_t i = 0; i < requests.size(); ++i) {
    ASSERT_TRUE(started[i].ok) << started[i].detail;
    workers.push_back(RefTo(requests[i], started[i].run_id));
  }
  ASSERT_TRUE(StageIs(IdOf(started[4].run_id), "RUNNING"));
  ASSERT_TRUE(fake.jobs().Finish(IdOf(started[1].run_id), "COMPLETED"));
  fake.ClearCalls();
  const std::vector<WorkerState> states = trigger.Inspect(workers, 5000ms);
  for (size_t i = 0; i < states.size(); ++i)
    EXPECT_EQ(states[i].health, i == 1 ? WorkerState::Health::kFinished : WorkerState::Health::kActive) << i;
  // Four running jobs, two a page: the listing's pages (a third, empty, when the ended job was
  // created last), and the ended job read alone.
  const int pages = Gets("stage=SCHEDULING");
  EXPECT_GE(pages, 2);
  EXPECT_LE(pages, 3);
  EXPECT_EQ(fake.Count("GET", "/api/jobs/tester/"), 1);
  EXPECT_EQ(fake.Calls().size(), static_cast<size_t>(pages) + 1);
}

TEST_F(HfJobTriggerTest, ARunWhoseAnswerWasLostIsFoundByItsKeyAndNotSentAgain) {
  fake.jobs().SetDefaultBehavior(Behavior::Manual());
  HfJobTrigger trigger(jobs, hub, Options());
  for (const Fault& loss :
       {Fault::CarryOutThenClose(), Fault::CarryOutThenStatus(502), Fault::CarryOutThenStatus(504)}) {
    fake.InjectFault("/api/jobs/tester", loss.Only("POST"));
    const StartRequest request = Retrain("department", "v" + std::to_string(loss.status));
    const StartResult result = StartOne(trigger, request);
    ASSERT_TRUE(result.ok) << result.detail;
    EXPECT_NE(result.detail.find("the answer to its run call was lost"), std::string::npos) << result.detail;
    const std::vector<FakeHubJobs::Job> sent = fake.jobs().WithLabel("orchestrator-key", request.idempotency_key);
    ASSERT_EQ(sent.size(), 1u) << "the run was sent again";
    EXPECT_EQ(result.run_id, "tester/" + sent.front().id);
  }
}

TEST_F(HfJobTriggerTest, ALostRunThatCannotBeListedStaysMaybeStartedAndItsKeySettlesItLater) {
  fake.jobs().SetDefaultBehavior(Behavior::Manual());
  HfJobTrigger trigger(jobs, hub, Options());
  const StartRequest request = Retrain();
  fake.InjectFault("/api/jobs/tester", Fault::CarryOutThenClose().Only("POST"));
  fake.InjectFault("/api/jobs/tester", Fault::Status(503, 3).Only("GET"));
  const StartResult result = StartOne(trigger, request);
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(result.maybe_started);
  EXPECT_NE(result.detail.find("could not be listed by its key"), std::string::npos) << result.detail;
  // Later, given only the key, the worker tells that the run exists, and which it is.
  const WorkerState found = InspectOne(trigger, RefTo(request, ""));
  EXPECT_EQ(found.request, WorkerState::Request::kReceived);
  EXPECT_EQ(found.run_id, "tester/" + fake.jobs().Jobs().front().id);
  EXPECT_EQ(found.health, WorkerState::Health::kActive);
  EXPECT_EQ(fake.jobs().Jobs().size(), 1u);
}

TEST_F(HfJobTriggerTest, ARunThatCertainlyFailedOrNeverArrivedIsToldApartFromOneThatMayHave) {
  HfJobTrigger trigger(jobs, hub, Options());
  // Refused (429 with its RateLimit headers, past every retry): certainly not started.
  fake.InjectFault("/api/jobs/tester", Fault::RetryAfter(0, 3).Only("POST"));
  const StartResult limited = StartOne(trigger, Retrain());
  EXPECT_FALSE(limited.ok);
  EXPECT_FALSE(limited.maybe_started);
  EXPECT_NE(limited.detail.find("429"), std::string::npos) << limited.detail;
  // 503 once: the HTTP client retries, and the job runs once.
  fake.InjectFault("/api/jobs/tester", Fault::Status(503).Only("POST"));
  EXPECT_TRUE(StartOne(trigger, Retrain()).ok);
  EXPECT_EQ(fake.jobs().Jobs().size(), 1u);
  // A gateway's 502 that never reached the Hub: maybe started until the key says no job exists.
  const StartRequest request = Retrain("urgency", "u1");
  fake.InjectFault("/api/jobs/tester", Fault::Status(502).Only("POST"));
  const StartResult lost = StartOne(trigger, request);
  EXPECT_FALSE(lost.ok);
  EXPECT_TRUE(lost.maybe_started);
  EXPECT_NE(lost.detail.find("no job is listed with its key yet"), std::string::npos) << lost.detail;
  const WorkerState none = InspectOne(trigger, RefTo(request, ""));
  EXPECT_EQ(none.request, WorkerState::Request::kNotReceived);
  EXPECT_EQ(none.health, WorkerState::Health::kFinished);
  EXPECT_EQ(fake.jobs().Jobs().size(), 1u);
}

TEST_F(HfJobTriggerTest, TheNamespaceIsTheTokensUserUnlessOneIsSet) {
  fake.jobs().SetDefaultBehavior(Behavior::Manual());
  HfJobOptions options = Options();
  options.labels["urgency"].job_namespace = "my-org";
  HfJobTrigger trigger(jobs, hub, options);
  EXPECT_TRUE(StartOne(trigger, Retrain()).ok);
  EXPECT_TRUE(StartOne(trigger, Retrain("department", "v3")).ok);
  EXPECT_EQ(fake.Count("GET", "/api/whoami-v2"), 1) << "asked once";
  const StartResult refused = StartOne(trigger, Retrain("urgency", "u1"));
  EXPECT_FALSE(refused.ok);
  EXPECT_NE(refused.detail.find("403"), std::string::npos) << refused.detail;
  fake.jobs().AddNamespace("my-org");
  const StartResult allowed = StartOne(trigger, Retrain("urgency", "u1"));
  ASSERT_TRUE(allowed.ok) << allowed.detail;
  EXPECT_TRUE(allowed.run_id.starts_with("my-org/")) << allowed.run_id;
}

TEST_F(HfJobTriggerTest, AWhoamiThatFailsIsAskedOncePerCallAndSaysToSetTheNamespace) {
  HfJobTrigger trigger(jobs, hub, Options());
  fake.InjectFault("/api/whoami-v2", Fault::Status(401, 100));
  const std::vector<StartRequest> requests = {Retrain("a", "v1"), Retrain("b", "v1"), Retrain("c", "v1")};
  const std::vector<StartResult> results = trigger.Start(requests);
  for (const StartResult& result : results) {
    EXPECT_FALSE(result.ok);
    EXPECT_FALSE(result.maybe_started);
    EXPECT_NE(result.detail.find("set HF_JOB_NAMESPACE"), std::string::npos) << result.detail;
  }
  EXPECT_EQ(fake.Count("GET", "/api/whoami-v2"), 1);
  EXPECT_TRUE(fake.jobs().Jobs().empty());
}

TEST_F(HfJobTriggerTest, AJobThatNeverLeavesSchedulingStaysActive) {
  fake.jobs().SetDefaultBehavior(Behavior::StayScheduling());
  HfJobTrigger trigger(jobs, hub, Options());
  const StartRequest request = Retrain();
  const StartResult started = StartOne(trigger, request);
  const WorkerState state = InspectOne(trigger, RefTo(request, started.run_id));
  EXPECT_EQ(state.health, WorkerState::Health::kActive);
  EXPECT_NE(state.detail.find("SCHEDULING"), std::string::npos) << state.detail;
}

TEST_F(HfJobTriggerTest, AJobRunLocallyGetsItsEnvironmentAndSecretsAndEndsWithItsExit) {
  fake.jobs().SetBehavior("ghcr.io/owner/orchestrator:1", Behavior::Execute("/bin/sh"));
  HfJobTrigger trigger(jobs, hub, Options());
  StartRequest request = Retrain();
  request.target =
      R"(hf-job:ghcr.io/owner/orchestrator:1 sh -c "echo label=\$ORCHESTRATOR_LABEL; test \"\$HF_TOKEN\" = hf_test_token && echo '{\"deployed\":true}'")";
  const StartResult started = StartOne(trigger, request);
  ASSERT_TRUE(StageIs(IdOf(started.run_id), "COMPLETED"));
  const WorkerState done = InspectOne(trigger, RefTo(request, started.run_id, /*with_log=*/true));
  EXPECT_EQ(done.health, WorkerState::Health::kFinished);
  EXPECT_EQ(done.decision, R"({"deployed":true})");
  EXPECT_EQ(fake.jobs().Jobs().front().log.front(), "label=department");

  request.target = "hf-job:ghcr.io/owner/orchestrator:1 sh -c 'echo giving up; exit 3'";
  request.idempotency_key = "other";
  const StartResult failing = StartOne(trigger, request);
  ASSERT_TRUE(StageIs(IdOf(failing.run_id), "ERROR"));
  const WorkerState failed = InspectOne(trigger, RefTo(request, failing.run_id, /*with_log=*/true));
  EXPECT_NE(failed.detail.find("exit code: 3"), std::string::npos) << failed.detail;
  EXPECT_NE(failed.detail.find("giving up"), std::string::npos) << failed.detail;
}

TEST(JobLabelValue, KeepsWhatTheHubTakesAndHashesWhatItCutsShort) {
  EXPECT_EQ(JobLabelValue("department"), "department");
  EXPECT_EQ(JobLabelValue("department,urgency"), "department-urgency");
  EXPECT_EQ(JobLabelValue("a.b/c d"), "a-b-c-d");
  const std::string many(200, 'x');
  const std::string cut = JobLabelValue(many);
  EXPECT_EQ(cut.size(), kMaxJobLabelValueBytes);
  EXPECT_NE(cut, JobLabelValue(many + "y"));
  EXPECT_EQ(JobLabelValue("").size(), 9u);
}

TEST(HealthOfJobStage, EveryStageOfTheHub) {
  for (const char* stage : {"SCHEDULING", "RUNNING", "UPDATING"})
    EXPECT_EQ(HealthOfJobStage(stage), WorkerState::Health::kActive) << stage;
  EXPECT_EQ(HealthOfJobStage("COMPLETED"), WorkerState::Health::kFinished);
  for (const char* stage : {"ERROR", "CANCELED", "DELETED"})
    EXPECT_EQ(HealthOfJobStage(stage), WorkerState::Health::kFailed) << stage;
  EXPECT_EQ(HealthOfJobStage(""), WorkerState::Health::kUnknown);
  EXPECT_EQ(HealthOfJobStage("PAUSED"), WorkerState::Health::kUnknown);
}

}  // namespace
}  // namespace orch
