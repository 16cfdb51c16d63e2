// A pass that takes over a cycle and cannot read its metadata acts as if the dataset might be out:
// it neither abandons the cycle nor sends its prepare restart again, and the next pass, which can
// read it, retrains the dataset once.
#include <gtest/gtest.h>

#include "engine/pass.h"
#include "support/engine_fakes.h"

namespace orch {
namespace {

using namespace orch::testing;

constexpr char kUrl[] = "https://hub.test/datasets/owner/department/resolve/main/dataset_metadata.json";

class UnansweredLookTest : public ::testing::Test {
 protected:
  UnansweredLookTest() : hub(clock), trigger(clock) {
    config.prepare_target = "owner/prepare";
    config.poll_interval = 60;
    config.poll_timeout = 1800;  // stale after 3600 s
    LabelConfig label;
    label.name = "department";
    label.threshold = 100;
    label.retrain_target = "owner/retrain_department";
    label.metadata_url = kUrl;
    label.columns = LabelColumns::Defaults("department");
    config.labels = {label};
    database.misclassified = {{"department", 100}};
    database.pool = {{"department", 1000}};
  }
  // An earlier pass asked for a department dataset `age` seconds ago, baseline v1, and then died.
  void EarlierPassPrepared(double age, bool confirmed) {
    LabelState earlier;
    earlier.label = "department";
    earlier.phase = Phase::kPreparing;
    earlier.baseline_version = "v1";
    earlier.required_len = 150;
    earlier.requested_misclassified = 100;
    earlier.prepare_requested_at = clock.WallNow() - std::chrono::seconds(static_cast<long long>(age));
    earlier.prepare_confirmed = confirmed;
    state.labels["department"] = earlier;
  }
  void MetadataGetsNoAnswer() {
    MetadataRead unanswered;
    unanswered.status = MetadataRead::Status::kUnavailable;
    unanswered.detail = "HTTP 503 after 3 attempts";
    hub.Set(kUrl, unanswered, clock.Now());
  }
  PassReport Run() {
    Pass pass(config, {database, hub, trigger, clock, log, state});
    return pass.Run();
  }

  Config config;
  FakeClock clock;
  FakeDatabase database;
  TimelineHub hub;
  FakeTrigger trigger;
  RecordingLog log;
  MemoryStateStore state;
};

TEST_F(UnansweredLookTest, AStaleCycleWhoseLastLookGetsNoAnswerIsNotAbandoned) {
  EarlierPassPrepared(4000, /*confirmed=*/true);
  MetadataGetsNoAnswer();
  PassReport first = Run();
  ASSERT_EQ(first.labels.size(), 1u);
  EXPECT_EQ(first.labels[0].outcome, Outcome::kFailed);
  ASSERT_TRUE(first.labels[0].error);
  EXPECT_NE(first.labels[0].error->find("the next pass looks again"), std::string::npos) << *first.labels[0].error;
  EXPECT_EQ(log.Count("department", "abandoning a stale prepare cycle"), 0);
  EXPECT_EQ(state.labels.at("department").phase, Phase::kPreparing);
  EXPECT_TRUE(trigger.started.empty());

  // The dataset was out all along: the next pass sees it and retrains it, rather than take it for
  // the baseline of a new cycle.
  hub.Publish(kUrl, "v2", 150, clock.Now());
  PassReport second = Run();
  EXPECT_EQ(second.labels[0].outcome, Outcome::kRetrainTriggered);
  EXPECT_EQ(second.labels[0].dataset_version, "v2");
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 0);
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 1);
  EXPECT_EQ(state.labels.at("department").last_retrained_version, "v2");
}

TEST_F(UnansweredLookTest, AnUnconfirmedPrepareRestartIsNotSentAgainWhileTheMetadataGetsNoAnswer) {
  EarlierPassPrepared(10, /*confirmed=*/false);
  MetadataGetsNoAnswer();
  hub.Publish(kUrl, "v2", 150, clock.Now() + std::chrono::seconds(60));
  // The worker may have published and paused itself: its stage cannot tell.
  trigger.states["owner/prepare"] = {WorkerState::Health::kFinished, "stage PAUSED"};
  PassReport report = Run();
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 0) << "not prepared twice";
  EXPECT_EQ(log.Count("", "could not tell whether the recorded prepare restart happened; waiting without resending"),
            1);
  EXPECT_EQ(report.labels[0].outcome, Outcome::kRetrainTriggered) << "the wait went on";
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 1);
}

TEST_F(UnansweredLookTest, AnUnconfirmedPrepareRestartIsConfirmedByARunningWorkerWhileTheMetadataGetsNoAnswer) {
  EarlierPassPrepared(10, /*confirmed=*/false);
  MetadataGetsNoAnswer();
  trigger.states["owner/prepare"] = {WorkerState::Health::kActive, "stage RUNNING"};
  Run();
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 0);
  EXPECT_TRUE(state.labels.at("department").prepare_confirmed);
}

}  // namespace
}  // namespace orch
