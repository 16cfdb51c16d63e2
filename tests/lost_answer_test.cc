// Requests carried out whose answer is lost, with the real binary: the fake Hub or webhook receiver
// does what was asked (a Space restarts, a Job is created, a run starts) and then closes the
// connection, or answers 502 or 504 as a gateway that lost the worker's answer would. Whatever the loss, on either
// engine, no worker is started twice for one cycle or one version, and every version is retrained once.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <tuple>

#include "db/state_store.h"
#include "support/fake_hub.h"
#include "support/job_workers.h"
#include "support/pass_world.h"
#include "support/postgres_server.h"
#include "support/webhook_receiver.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using testing::FakeHub;
using testing::FakeHubJobs;
using testing::ProcessResult;
using testing::WebhookReceiver;
using Fault = FakeHub::Fault;
using Publication = FakeHub::Publication;

constexpr const char* kToken = "hf_lostSECRET";
constexpr const char* kPrepareRestart = "/api/spaces/owner/prepare/restart";
constexpr const char* kRetrainRestart = "/api/spaces/owner/retrain_dept/restart";
constexpr const char* kJobRun = "/api/jobs/tester";

// How the answer is lost: the connection closes, or a gateway answers 502 or 504.
enum class Loss { kClosed, k502, k504 };

std::string LossName(Loss loss) {
  switch (loss) {
    case Loss::kClosed: return "closed";
    case Loss::k502: return "502";
    case Loss::k504: break;
  }
  return "504";
}

Fault HubFault(Loss loss, int times = 1) {
  switch (loss) {
    case Loss::kClosed: return Fault::CarryOutThenClose(times);
    case Loss::k502: return Fault::CarryOutThenStatus(502, times);
    case Loss::k504: break;
  }
  return Fault::CarryOutThenStatus(504, times);
}

WebhookReceiver::Fault ReceiverFault(Loss loss, int times = 1) {
  switch (loss) {
    case Loss::kClosed: return WebhookReceiver::Fault::CarryOutThenClose(times);
    case Loss::k502: return WebhookReceiver::Fault::CarryOutThenStatus(502, times);
    case Loss::k504: break;
  }
  return WebhookReceiver::Fault::CarryOutThenStatus(504, times);
}

class LostAnswers : public ::testing::TestWithParam<std::tuple<std::string, Loss>>, public testing::PassWorld {
 protected:
  void SetUp() override {
    if (Engine() == "postgres") ORCH_REQUIRE_POSTGRES();
    Open(Engine(), kToken);
    AddSpaces();
    hub.TrainsOn("owner/retrain_dept", "owner/department");
    hub.PublishMetadata("owner/department", FakeHub::Metadata("d1", 5));
    hub.OnRestart("owner/prepare", {Publication::AfterPolls("owner/department", 30, 1, "d2")});
    env["LOCK_LEASE"] = "1";
    env["HTTP_RETRIES"] = "1";
  }

  std::string Engine() const { return std::get<0>(GetParam()); }
  Loss Lost() const { return std::get<1>(GetParam()); }

  ProcessResult RunToEnd() { return RunOrchestrator({"run", "--wait-lock", "10"}); }
  LabelState Department() { return StateOf("department"); }
  // The workers' jobs end, and their Spaces pause themselves, as the real ones do.
  void JobsEnd() {
    hub.SetSpaceStage("owner/prepare", "PAUSED");
    hub.SetSpaceStage("owner/retrain_dept", "PAUSED");
  }
  // The versions the department's retrain Space started on, one per restart carried out.
  std::vector<std::string> Retrained() {
    std::vector<std::string> versions;
    for (const FakeHub::RecordedCall& call : hub.Calls())
      if (call.method == "POST" && call.path == kRetrainRestart && call.carried_out)
        versions.push_back(call.trained_version);
    return versions;
  }
  // The deliveries the receiver got for `dataset_version` ("" for the prepare request).
  std::vector<WebhookReceiver::Received> DeliveriesFor(const std::string& dataset_version) {
    std::vector<WebhookReceiver::Received> deliveries;
    for (const WebhookReceiver::Received& received : receiver.Requests()) {
      const nlohmann::json body = nlohmann::json::parse(received.body);
      if (body["dataset_version"] == dataset_version) deliveries.push_back(received);
    }
    return deliveries;
  }
  // Every delivery of a request carried the same key, and the receiver acted on it once.
  void ExpectActedOnOnce(const std::vector<WebhookReceiver::Received>& deliveries, size_t at_least) {
    ASSERT_GE(deliveries.size(), at_least) << "the request was sent again";
    for (const WebhookReceiver::Received& received : deliveries)
      EXPECT_EQ(received.idempotency_key, deliveries.front().idempotency_key);
    EXPECT_EQ(receiver.CarriedOut(deliveries.front().idempotency_key), 1);
  }
  // Both workers are Hugging Face Jobs: the prepare job publishes d2 as it starts, the retrain job
  // runs until the test ends it.
  void UseJobs() {
    testing::PrepareJobsPublish(hub, [](const std::string&) {
      return std::vector<Publication>{Publication::AfterPolls("owner/department", 30, 0, "d2")};
    });
    hub.jobs().SetBehavior(testing::kRetrainJobImage, FakeHubJobs::Behavior::Manual());
    env["PREPARE_DATASET_REPO"] = testing::PrepareJobTarget();
    env["RETRAIN_DEPT_REPO"] = testing::RetrainJobTarget("department");
  }
  // The jobs of one role ("prepare" or "retrain") the fake Hub created, their answer lost or not.
  std::vector<FakeHubJobs::Job> JobsOf(const std::string& role) {
    return hub.jobs().WithLabel("orchestrator-role", role);
  }
  void EndTheJobs() {
    for (const FakeHubJobs::Job& job : hub.jobs().Jobs())
      if (job.stage == "RUNNING" || job.stage == "SCHEDULING") hub.jobs().Finish(job.id, "COMPLETED");
  }
  // One more pass after the jobs ended: nothing is started again.
  void ExpectNothingMoreAfterTheJobsEnded() {
    JobsEnd();
    ProcessResult again = RunToEnd();
    EXPECT_EQ(again.exit_code, 0) << again.err;
    EXPECT_NE(again.out.find("\"up_to_date\""), std::string::npos) << again.out;
  }

  WebhookReceiver receiver;
};

// ---- a prepare Space --------------------------------------------------------------------------

TEST_P(LostAnswers, APrepareRestartCarriedOutIsNotSentAgainAndItsDatasetIsRetrainedOnce) {
  hub.InjectFault(kPrepareRestart, HubFault(Lost()));
  ProcessResult first = RunToEnd();
  EXPECT_EQ(first.exit_code, 0) << "the runtime read after the loss confirmed the restart:\n" << first.err;
  EXPECT_NE(first.err.find("the restart's answer was lost"), std::string::npos) << first.err;
  ExpectNothingMoreAfterTheJobsEnded();
  EXPECT_EQ(hub.Count("POST", kPrepareRestart), 1);
  EXPECT_EQ(Retrained(), std::vector<std::string>{"d2"});
  EXPECT_EQ(Department().last_retrained_version, "d2");
}

TEST_P(LostAnswers, APrepareRestartLeftUnconfirmedIsConfirmedByTheNextPassWithoutSendingItAgain) {
  hub.OnRestart("owner/prepare", {Publication::AfterPolls("owner/department", 30, 0, "d2")});
  hub.InjectFault(kPrepareRestart, HubFault(Lost()));
  hub.InjectFault("/api/spaces/owner/prepare/runtime", Fault::Status(503, 2));  // the read after the loss fails
  ProcessResult first = RunToEnd();
  EXPECT_EQ(first.exit_code, 1) << first.err;
  EXPECT_NE(first.err.find("it may have reached the worker"), std::string::npos) << first.err;
  EXPECT_EQ(Department().phase, Phase::kPreparing);
  EXPECT_FALSE(Department().prepare_confirmed);
  // The worker ran: it published, and its Space paused itself before the next pass asked.
  EXPECT_EQ(hub.VersionTag("owner/department"), "d2");
  JobsEnd();
  ProcessResult second = RunToEnd();
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.err.find("its dataset is published"), std::string::npos) << second.err;
  ExpectNothingMoreAfterTheJobsEnded();
  EXPECT_EQ(hub.CarriedOut("POST", kPrepareRestart), 1);
  EXPECT_EQ(hub.Count("POST", kPrepareRestart), 1);
  EXPECT_EQ(Retrained(), std::vector<std::string>{"d2"});
}

// ---- a retrain Space --------------------------------------------------------------------------

TEST_P(LostAnswers, ARetrainRestartCarriedOutIsNotSentAgainEvenOnceItsJobHasEnded) {
  hub.InjectFault(kRetrainRestart, HubFault(Lost()));
  ProcessResult first = RunToEnd();
  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(Department().last_retrained_version, "d2");
  // The job ends before the next passes: a paused Space looks the same whether or not a restart
  // arrived, so only what the first pass settled keeps the version from being retrained twice.
  ExpectNothingMoreAfterTheJobsEnded();
  ExpectNothingMoreAfterTheJobsEnded();
  EXPECT_EQ(Retrained(), std::vector<std::string>{"d2"});
  EXPECT_EQ(hub.Count("POST", kRetrainRestart), 1);
  EXPECT_EQ(hub.Count("POST", kPrepareRestart), 1);
}

TEST_P(LostAnswers, ARetrainRestartLeftUnconfirmedIsConfirmedByTheNextPassWhileItsJobRuns) {
  hub.InjectFault(kRetrainRestart, HubFault(Lost()));
  hub.InjectFault("/api/spaces/owner/retrain_dept/runtime", Fault::Status(503, 2));
  ProcessResult first = RunToEnd();
  EXPECT_EQ(first.exit_code, 1) << first.err;
  EXPECT_NE(first.err.find("asks the worker before sending it again"), std::string::npos) << first.err;
  EXPECT_EQ(Department().phase, Phase::kRetraining);
  ProcessResult second = RunToEnd();  // the job still runs
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.err.find("confirmed the retrain restart an earlier pass sent"), std::string::npos) << second.err;
  ExpectNothingMoreAfterTheJobsEnded();
  EXPECT_EQ(Retrained(), std::vector<std::string>{"d2"});
  EXPECT_EQ(hub.Count("POST", kRetrainRestart), 1);
  EXPECT_EQ(Department().last_retrained_version, "d2");
}

// ---- webhook workers ------------------------------------------------------------------------

TEST_P(LostAnswers, AWebhookPrepareCarriedOutIsActedOnOncePerKey) {
  env["PREPARE_DATASET_REPO"] = "webhook:" + receiver.url();
  receiver.OnDelivery([this](const WebhookReceiver::Received&) {
    hub.StartPublications("prepare", {Publication::AfterPolls("owner/department", 30, 1, "d2")});
  });
  receiver.InjectFault(ReceiverFault(Lost(), 2));  // more losses than HTTP_RETRIES allows
  ProcessResult first = RunToEnd();
  EXPECT_EQ(first.exit_code, 1) << first.err;
  EXPECT_NE(first.err.find("it may have reached the worker"), std::string::npos) << first.err;
  ProcessResult second = RunToEnd();
  EXPECT_EQ(second.exit_code, 0) << second.err;
  ExpectNothingMoreAfterTheJobsEnded();
  ExpectActedOnOnce(DeliveriesFor(""), 2);
  EXPECT_EQ(Retrained(), std::vector<std::string>{"d2"});
}

TEST_P(LostAnswers, AWebhookRetrainCarriedOutIsActedOnOncePerKey) {
  env["RETRAIN_DEPT_REPO"] = "webhook:" + receiver.url();
  receiver.InjectFault(ReceiverFault(Lost()));  // the HTTP layer sends it again, with its key
  ProcessResult first = RunToEnd();
  EXPECT_EQ(first.exit_code, 0) << first.err;
  ExpectActedOnOnce(DeliveriesFor("d2"), 2);

  // Lost on every try: the pass leaves the retrain unconfirmed, and the next sends it again, with
  // the same key, which the receiver drops.
  JobsEnd();
  database->AddMisclassified(5, "department");
  hub.OnRestart("owner/prepare", {Publication::AfterPolls("owner/department", 40, 1, "d3")});
  receiver.InjectFault(ReceiverFault(Lost(), 2));
  ProcessResult second = RunToEnd();
  EXPECT_EQ(second.exit_code, 1) << second.err;
  EXPECT_EQ(Department().phase, Phase::kRetraining);
  ProcessResult third = RunToEnd();
  EXPECT_EQ(third.exit_code, 0) << third.err;
  EXPECT_EQ(Department().last_retrained_version, "d3");
  ExpectNothingMoreAfterTheJobsEnded();
  ExpectActedOnOnce(DeliveriesFor("d3"), 3);
  EXPECT_EQ(receiver.CarriedOut(DeliveriesFor("d2").front().idempotency_key), 1);
  EXPECT_EQ(hub.Count("POST", kRetrainRestart), 0);
}

// ---- Hugging Face Jobs --------------------------------------------------------------------------

TEST_P(LostAnswers, APrepareJobWhoseRunAnswerWasLostIsFoundByItsKeyAndItsDatasetRetrainedOnce) {
  UseJobs();
  hub.InjectFault(kJobRun, HubFault(Lost()).Only("POST"));
  ProcessResult first = RunToEnd();
  EXPECT_EQ(first.exit_code, 0) << "the jobs listed by its key confirmed the run:\n" << first.err;
  EXPECT_NE(first.err.find("the answer to its run call was lost"), std::string::npos) << first.err;
  EndTheJobs();
  ExpectNothingMoreAfterTheJobsEnded();
  EXPECT_EQ(JobsOf("prepare").size(), 1u);
  EXPECT_EQ(testing::RetrainJobsStarted(hub),
            (std::map<std::pair<std::string, std::string>, int>{{{"department", "d2"}, 1}}));
  EXPECT_EQ(Department().prepare_run_id, "tester/" + JobsOf("prepare").front().id);
}

TEST_P(LostAnswers, ARetrainJobLeftUnconfirmedIsConfirmedByItsKeyEvenOnceItHasEnded) {
  UseJobs();
  env["PREPARE_DATASET_REPO"] = "owner/prepare";  // a Space: the faults below meet the retrain job alone
  hub.InjectFault(kJobRun, HubFault(Lost()).Only("POST"));
  hub.InjectFault(kJobRun, Fault::Status(503, 2).Only("GET"));  // the listing by its key, and its retry
  ProcessResult first = RunToEnd();
  EXPECT_EQ(first.exit_code, 1) << first.err;
  EXPECT_NE(first.out.find("it may have reached the worker"), std::string::npos) << first.out;
  EXPECT_EQ(Department().phase, Phase::kRetraining);
  ASSERT_EQ(JobsOf("retrain").size(), 1u);
  // The job runs and ends before the next pass asks: a Space would look never restarted; its key
  // still finds the job.
  EndTheJobs();
  ProcessResult second = RunToEnd();
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.err.find("confirmed the retrain restart an earlier pass sent"), std::string::npos) << second.err;
  ExpectNothingMoreAfterTheJobsEnded();
  EXPECT_EQ(testing::RetrainJobsStarted(hub),
            (std::map<std::pair<std::string, std::string>, int>{{{"department", "d2"}, 1}}));
  EXPECT_EQ(Department().last_retrained_version, "d2");
  EXPECT_EQ(Department().retrain_run_id, "tester/" + JobsOf("retrain").front().id);
}

// ---- reads ----------------------------------------------------------------------------------

TEST_P(LostAnswers, LostAnswersToRuntimeAndMetadataReadsAreRiddenOut) {
  env["HTTP_RETRIES"] = "3";
  hub.InjectFault("/runtime", HubFault(Lost(), 2));
  hub.InjectFault("owner/department/resolve", HubFault(Lost(), 2));
  ProcessResult first = RunToEnd();
  EXPECT_EQ(first.exit_code, 0) << first.err;
  ExpectNothingMoreAfterTheJobsEnded();
  int lost_reads = 0;
  for (const FakeHub::RecordedCall& call : hub.Calls())
    lost_reads += call.method == "GET" && call.carried_out && call.status != 200 && call.status != 304;
  EXPECT_EQ(lost_reads, 4) << "each read was carried out, then its answer lost";
  EXPECT_EQ(Retrained(), std::vector<std::string>{"d2"});
  EXPECT_EQ(hub.Count("POST", kPrepareRestart), 1);
}

INSTANTIATE_TEST_SUITE_P(EnginesAndLosses, LostAnswers,
                         ::testing::Combine(::testing::Values("sqlite", "postgres"),
                                            ::testing::Values(Loss::kClosed, Loss::k502, Loss::k504)),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + LossName(std::get<1>(info.param));
                         });

}  // namespace
}  // namespace orch
