// The real binary, end to end: a real database (SQLite file or PostgreSQL server), the fake Hub
// over loopback HTTP, and the summary, logs and exit status the program produces.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/fake_hub.h"
#include "support/pass_world.h"
#include "support/postgres_server.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using testing::FakeHub;
using testing::ProcessResult;
using testing::Subprocess;

constexpr const char* kToken = "hf_e2eSECRETtoken4711";

struct RunResult {
  ProcessResult process;
  nlohmann::json summary;

  const nlohmann::json& Label(const std::string& name) const {
    for (const nlohmann::json& label : summary["labels"])
      if (label["label"] == name) return label;
    throw std::runtime_error("no label " + name + " in " + summary.dump());
  }
};

class EndToEnd : public ::testing::TestWithParam<std::string>, public testing::PassWorld {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") ORCH_REQUIRE_POSTGRES();
    Open(GetParam(), kToken, Backlog::kNone);
    AddSpaces();
  }

  RunResult RunOrchestrator(std::vector<std::string> args = {}) {
    RunResult run{PassWorld::RunOrchestrator(std::move(args)), {}};
    run.summary = nlohmann::json::parse(run.process.out, nullptr, false);
    EXPECT_FALSE(run.summary.is_discarded()) << "stdout is one JSON document:\n"
                                             << run.process.out << "\nstderr:\n"
                                             << run.process.err;
    return run;
  }

  void Publication(std::vector<FakeHub::Publication> publications) { hub.OnRestart("owner/prepare", publications); }
};

TEST_P(EndToEnd, NothingAboveThresholdCallsNoHub) {
  database->AddMisclassified(3, "department");
  database->AddCorrectComplaints(50);
  RunResult run = RunOrchestrator();
  EXPECT_EQ(run.process.exit_code, 0) << run.process.err;
  EXPECT_EQ(run.summary["status"], "ok");
  EXPECT_EQ(run.Label("department")["misclassified"], 3);
  EXPECT_EQ(run.Label("department")["outcome"], "below_threshold");
  EXPECT_EQ(run.Label("department")["upper_bound"], true);
  EXPECT_EQ(run.Label("urgency")["misclassified"], 0);
  EXPECT_TRUE(hub.Calls().empty());
}

TEST_P(EndToEnd, BothAboveThresholdPrepareOnceAndRetrainEach) {
  database->AddMisclassified(20, "department");
  database->AddMisclassified(10, "urgency");
  database->AddCorrectComplaints(100);
  hub.PublishMetadata("owner/department", FakeHub::Metadata("d1", 5));
  hub.PublishMetadata("owner/urgency", FakeHub::Metadata("u1", 5));
  Publication({{"owner/department", 30, 2, {}, false, "d2"}, {"owner/urgency", 15, 3, {}, false, "u2"}});
  RunResult run = RunOrchestrator();
  EXPECT_EQ(run.process.exit_code, 0) << run.process.err;
  EXPECT_EQ(run.Label("department")["dataset_len"], 30);
  EXPECT_EQ(run.Label("department")["sampled_correct"], 10);
  EXPECT_EQ(run.Label("department")["baseline_version"], "d1");
  EXPECT_EQ(run.Label("department")["dataset_version"], "d2");
  EXPECT_EQ(run.Label("urgency")["outcome"], "retrain_triggered");
  EXPECT_EQ(hub.Count("POST", "/api/spaces/owner/prepare/restart"), 1);
  EXPECT_EQ(hub.Count("POST", "/api/spaces/owner/retrain_dept/restart"), 1);
  EXPECT_EQ(hub.Count("POST", "/api/spaces/owner/retrain_urgency/restart"), 1);
  for (const auto& call : hub.Calls()) EXPECT_EQ(call.authorization, std::string("Bearer ") + kToken) << call.path;
  EXPECT_NE(run.process.err.find("current_len=30 required_len=30 version=d2"), std::string::npos) << run.process.err;
}

TEST_P(EndToEnd, WorkerThatPublishesBeforeTheFirstPollIsStillSeen) {
  database->AddMisclassified(20, "department");
  database->AddCorrectComplaints(100);
  hub.PublishMetadata("owner/department", FakeHub::Metadata("d1", 5));
  Publication({{"owner/department", 30, 0, {}, false, "d2"}});
  RunResult run = RunOrchestrator();
  EXPECT_EQ(run.process.exit_code, 0) << run.process.err;
  EXPECT_EQ(run.Label("department")["outcome"], "retrain_triggered");
  EXPECT_EQ(run.Label("department")["dataset_version"], "d2");
  EXPECT_EQ(hub.Count("GET", "owner/department/resolve"), 2) << "the baseline read, then one poll";
}

TEST_P(EndToEnd, SmallPoolOfCorrectRowsCapsTheSample) {
  database->AddMisclassified(20, "department");
  database->AddCorrectComplaints(4);
  Publication({{"owner/department", 24, 1, {}, false, "d2"}});
  RunResult run = RunOrchestrator();
  EXPECT_EQ(run.process.exit_code, 0) << run.process.err;
  EXPECT_EQ(run.Label("department")["sampled_correct"], 4);
  EXPECT_EQ(run.Label("department")["dataset_len"], 24);
  EXPECT_EQ(run.Label("department")["upper_bound"], false);
  EXPECT_EQ(run.Label("department")["outcome"], "retrain_triggered");
}

TEST_P(EndToEnd, ReadyLabelIsRetrainedBeforeTheSlowOneAppears) {
  database->AddMisclassified(20, "department");
  database->AddMisclassified(10, "urgency");
  database->AddCorrectComplaints(100);
  Publication({{"owner/department", 30, 1, {}, false, "d2"}, {"owner/urgency", 15, 15, {}, false, "u2"}});
  RunResult run = RunOrchestrator();
  EXPECT_EQ(run.process.exit_code, 0) << run.process.err;
  auto calls = hub.Calls();
  size_t retrain_dept = 0, last_urgency_poll = 0;
  for (size_t i = 0; i < calls.size(); ++i) {
    if (calls[i].path == "/api/spaces/owner/retrain_dept/restart") retrain_dept = i;
    if (calls[i].path.find("owner/urgency/resolve") != std::string::npos) last_urgency_poll = i;
  }
  EXPECT_GT(retrain_dept, 0u);
  EXPECT_LT(retrain_dept, last_urgency_poll) << "department did not wait for urgency";
  EXPECT_EQ(run.Label("urgency")["dataset_version"], "u2");
}

TEST_P(EndToEnd, LabelNeverPublishedTimesOutAndTheOtherIsStillRetrained) {
  env["POLL_TIMEOUT"] = "0.5";
  database->AddMisclassified(20, "department");
  database->AddMisclassified(10, "urgency");
  database->AddCorrectComplaints(100);
  Publication({{"owner/department", 30, 1, {}, false, "d2"}, {"owner/urgency", 15, 0, {}, true, ""}});
  RunResult run = RunOrchestrator();
  EXPECT_EQ(run.process.exit_code, 1);
  EXPECT_EQ(run.summary["status"], "failed");
  EXPECT_EQ(run.Label("department")["outcome"], "retrain_triggered");
  EXPECT_EQ(run.Label("urgency")["outcome"], "timeout");
  EXPECT_EQ(hub.Count("POST", "retrain_urgency"), 0);
}

TEST_P(EndToEnd, PrepareSpaceErrorFailsTheWaitAtOnce) {
  database->AddMisclassified(20, "department");
  database->AddCorrectComplaints(100);
  hub.SetStageAfterRestart("owner/prepare", {"BUILDING", "RUNTIME_ERROR"});
  RunResult run = RunOrchestrator();
  EXPECT_EQ(run.process.exit_code, 1);
  EXPECT_EQ(run.Label("department")["outcome"], "failed");
  EXPECT_NE(run.Label("department")["error"].get<std::string>().find("RUNTIME_ERROR"), std::string::npos);
}

TEST_P(EndToEnd, DryRunSendsNoPost) {
  database->AddMisclassified(20, "department");
  database->AddMisclassified(10, "urgency");
  database->AddCorrectComplaints(100);
  hub.PublishMetadata("owner/department", FakeHub::Metadata("d1", 5));
  RunResult run = RunOrchestrator({"--dry-run"});
  EXPECT_EQ(run.process.exit_code, 0) << run.process.err;
  EXPECT_EQ(run.summary["dry_run"], true);
  EXPECT_EQ(run.Label("department")["outcome"], "dry_run");
  EXPECT_EQ(run.Label("department")["baseline_version"], "d1");
  EXPECT_EQ(hub.Count("POST", ""), 0);
}

TEST_P(EndToEnd, FlakyHubIsRetriedAndStillCompletes) {
  database->AddMisclassified(20, "department");
  database->AddCorrectComplaints(100);
  hub.PublishMetadata("owner/department", FakeHub::Metadata("d1", 5));
  hub.InjectFault("owner/department", {FakeHub::Fault::Kind::kStatus, 503, 1, {}, 2, ""});
  hub.InjectFault("/restart", {FakeHub::Fault::Kind::kRetryAfter, 429, 0, {}, 1, ""});
  Publication({{"owner/department", 30, 1, {}, false, "d2"}});
  RunResult run = RunOrchestrator();
  EXPECT_EQ(run.process.exit_code, 0) << run.process.err;
  EXPECT_EQ(run.Label("department")["outcome"], "retrain_triggered");
  EXPECT_NE(run.process.err.find("retry"), std::string::npos);
}

TEST_P(EndToEnd, RefusedTokenIsReportedWithoutRevealingIt) {
  database->AddMisclassified(20, "department");
  database->AddCorrectComplaints(100);
  hub.SetToken("hf_the_right_one");
  RunResult run = RunOrchestrator();
  EXPECT_EQ(run.process.exit_code, 1);
  EXPECT_NE(run.Label("department")["error"].get<std::string>().find("401"), std::string::npos);
  EXPECT_EQ(hub.Count("POST", ""), 0);
}

TEST_P(EndToEnd, HostileLabelNamesAreRefusedBeforeAnyQuery) {
  for (std::string labels : {"department;drop table complaints", "Dept", "a b", "x\n::error::forged"}) {
    env["LABELS"] = labels;
    ProcessResult result = PassWorld::RunOrchestrator({}, 30s);
    EXPECT_EQ(result.exit_code, 2) << labels;
    EXPECT_NE(result.err.find("label"), std::string::npos) << result.err;
    EXPECT_EQ(result.err.find("\n::error::forged"), std::string::npos);
    EXPECT_TRUE(result.out.empty());
  }
  EXPECT_EQ(database->QueryInt("SELECT count(*) FROM complaints"), 0) << "tables untouched";
  EXPECT_TRUE(hub.Calls().empty());
}

TEST_P(EndToEnd, GithubActionsModeGroupsLabelsAndWritesTheStepSummary) {
  database->AddMisclassified(20, "department");
  database->AddCorrectComplaints(100);
  env["POLL_TIMEOUT"] = "0.2";
  env["GITHUB_ACTIONS"] = "true";
  env["GITHUB_STEP_SUMMARY"] = dir.File("step_summary.md");
  ProcessResult result = Subprocess::Run({ORCH_BINARY}, env, dir.path().string(), 60s);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("::group::department"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("::endgroup::"), std::string::npos);
  EXPECT_NE(result.err.find("::warning title=orchestrator: department::"), std::string::npos);
  EXPECT_NE(result.err.find(std::string("::add-mask::") + kToken), std::string::npos);
  std::string err_without_mask = result.err;
  err_without_mask.erase(err_without_mask.find(std::string("::add-mask::") + kToken), 12 + std::strlen(kToken));
  EXPECT_EQ(err_without_mask.find(kToken), std::string::npos) << "only the mask command names the token";
  std::string markdown = testing::ReadFile(dir.File("step_summary.md"));
  EXPECT_NE(markdown.find("| department |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("timeout"), std::string::npos);
}

TEST_P(EndToEnd, SummaryIsAlsoWrittenToAFile) {
  RunResult run = RunOrchestrator({"run", "--summary", dir.File("summary.json")});
  EXPECT_EQ(run.process.exit_code, 0) << run.process.err;
  EXPECT_EQ(nlohmann::json::parse(testing::ReadFile(dir.File("summary.json"))), run.summary);
}

INSTANTIATE_TEST_SUITE_P(Engines, EndToEnd, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace orch
