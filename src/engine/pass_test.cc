#include "engine/pass.h"

#include <gtest/gtest.h>

#include <csignal>
#include <functional>
#include <map>

#include "support/engine_fakes.h"
#include "util/error.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using namespace orch::testing;

LabelConfig Label(const std::string& name, int64_t threshold) {
  LabelConfig label;
  label.name = name;
  label.threshold = threshold;
  label.retrain_target = "owner/retrain_" + name;
  label.metadata_url = "https://hub.test/datasets/owner/" + name + "/resolve/main/dataset_metadata.json";
  label.columns = LabelColumns::Defaults(name);
  return label;
}

class PassTest : public ::testing::Test {
 protected:
  PassTest() : hub(clock), trigger(clock) {
    config.prepare_target = "owner/prepare";
    config.poll_interval = 60;
    config.poll_timeout = 1800;
    config.labels = {Label("department", 100), Label("urgency", 50)};
  }
  std::string Url(const std::string& label) const {
    return "https://hub.test/datasets/owner/" + label + "/resolve/main/dataset_metadata.json";
  }
  Clock::TimePoint At(double seconds) const { return Clock::TimePoint{} + SecondsToDuration(seconds); }
  // After the prepare worker is started, `label` publishes `version` with `samples` rows `delay` seconds
  // later, saying it dropped `rows_dropped` counted rows.
  void PublishAfterPrepare(const std::string& label, const std::string& version, int64_t samples, double delay,
                           int64_t rows_dropped = 0) {
    publications.push_back({label, version, samples, delay, rows_dropped});
    trigger.on_start = [this](const StartRequest& request) {
      if (request.target != config.prepare_target) return;
      for (const auto& p : publications)
        hub.Publish(Url(p.label), p.version, p.samples, clock.Now() + SecondsToDuration(p.delay), p.rows_dropped);
    };
  }
  PassReport Run() {
    Pass pass(config, {database, hub, trigger, clock, log, state});
    return pass.Run();
  }
  const LabelReport& Of(const PassReport& report, const std::string& label) {
    for (const LabelReport& l : report.labels)
      if (l.label == label) return l;
    throw std::runtime_error("no label " + label);
  }

  struct Publication {
    std::string label, version;
    int64_t samples;
    double delay;
    int64_t rows_dropped;
  };
  std::vector<Publication> publications;
  Config config;
  FakeClock clock;
  FakeDatabase database;
  TimelineHub hub;
  FakeTrigger trigger;
  RecordingLog log;
  MemoryStateStore state;
};

TEST_F(PassTest, NothingAboveThresholdTouchesNeitherThePoolNorTheHub) {
  database.misclassified = {{"department", 10}, {"urgency", 3}};
  PassReport report = Run();
  EXPECT_EQ(report.exit_code(), 0);
  EXPECT_EQ(database.scans, 1);
  EXPECT_EQ(database.pool_scans, 0) << "10 + 5 < 100 and 3 + 1 < 50: the pool cannot change the decision";
  EXPECT_TRUE(trigger.started.empty());
  EXPECT_EQ(hub.reads(Url("department")), 0);
  const LabelReport& department = Of(report, "department");
  EXPECT_EQ(department.outcome, Outcome::kBelowThreshold);
  EXPECT_TRUE(department.upper_bound);
  EXPECT_EQ(department.dataset_len, 15);
  EXPECT_FALSE(department.prepare);
}

TEST_F(PassTest, PoolIsCountedOnlyForLabelsThatCouldReachTheirThreshold) {
  database.misclassified = {{"department", 80}, {"urgency", 3}};
  database.pool = {{"department", 1000}, {"urgency", 1000}};
  Run();
  EXPECT_EQ(database.pooled_labels, std::vector<std::string>{"department"});
}

TEST_F(PassTest, SmallPoolCapsTheSampleInsteadOfWaitingForever) {
  database.misclassified = {{"department", 90}, {"urgency", 0}};
  database.pool = {{"department", 10}};
  PublishAfterPrepare("department", "v2", 100, 30);
  PassReport report = Run();
  const LabelReport& department = Of(report, "department");
  EXPECT_EQ(department.sampled_correct, 10) << "floor(90 * 0.5) = 45 wanted, only 10 available";
  EXPECT_EQ(department.dataset_len, 100);
  EXPECT_FALSE(department.upper_bound);
  EXPECT_EQ(department.outcome, Outcome::kRetrainTriggered);
}

TEST_F(PassTest, BothLabelsAboveThresholdPrepareOnceAndRetrainEach) {
  database.misclassified = {{"department", 100}, {"urgency", 60}};
  database.pool = {{"department", 1000}, {"urgency", 1000}};
  hub.Publish(Url("department"), "v1", 50, At(0));
  hub.Publish(Url("urgency"), "v1", 40, At(0));
  PublishAfterPrepare("department", "v2", 150, 90);
  PublishAfterPrepare("urgency", "v2", 90, 90);
  PassReport report = Run();
  EXPECT_EQ(report.exit_code(), 0);
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 1);
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 1);
  EXPECT_EQ(trigger.StartsOf("owner/retrain_urgency"), 1);
  EXPECT_EQ(Of(report, "department").baseline_version, "v1");
  EXPECT_EQ(Of(report, "department").dataset_version, "v2");
  EXPECT_EQ(Of(report, "urgency").dataset_len, 90);
  EXPECT_TRUE(report.prepare_triggered);
}

TEST_F(PassTest, BaselineIsReadBeforeThePrepareWorkerStarts) {
  database.misclassified = {{"department", 100}, {"urgency", 0}};
  database.pool = {{"department", 1000}};
  hub.Publish(Url("department"), "v1", 10, At(0));
  int reads_before_prepare = -1;
  trigger.on_start = [&](const StartRequest& request) {
    if (request.target != "owner/prepare") return;
    reads_before_prepare = hub.reads(Url("department"));
    hub.Publish(Url("department"), "v2", 150, clock.Now());  // a fast worker: published at once
  };
  PassReport report = Run();
  EXPECT_EQ(reads_before_prepare, 1);
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kRetrainTriggered);
  EXPECT_EQ(Of(report, "department").dataset_version, "v2");
  EXPECT_EQ(trigger.Find("owner/retrain_department")->at_seconds, 0) << "seen on the first poll, no interval waited";
}

TEST_F(PassTest, ReadyLabelIsRetrainedAtOnceWithoutWaitingForTheOther) {
  database.misclassified = {{"department", 100}, {"urgency", 60}};
  database.pool = {{"department", 1000}, {"urgency", 1000}};
  PublishAfterPrepare("department", "d2", 150, 61);
  PublishAfterPrepare("urgency", "u2", 90, 1000);
  PassReport report = Run();
  EXPECT_EQ(report.exit_code(), 0);
  EXPECT_EQ(trigger.Find("owner/retrain_department")->at_seconds, 120);
  EXPECT_EQ(trigger.Find("owner/retrain_urgency")->at_seconds, 1020);
  EXPECT_LE(clock.Seconds(), 1000 + config.poll_interval) << "the slowest label plus at most one interval";
}

TEST_F(PassTest, EachPollRoundMayTakeOnlyTheTimeTheWaitHasLeft) {
  config.poll_timeout = 150;
  config.http.request_timeout = 20;
  database.misclassified = {{"department", 100}, {"urgency", 0}};
  database.pool = {{"department", 1000}};
  PublishAfterPrepare("department", "never", 1, 1e6);  // not within the wait
  PassReport report = Run();
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kTimeout);
  // The baseline read is no poll; the polls at 0, 60, 120 and the last look at 150 are.
  std::vector<TimeBudget> polls(hub.budgets().begin() + 1, hub.budgets().end());
  EXPECT_EQ(polls, (std::vector<TimeBudget>{150s, 90s, 30s, 20s}))
      << "until the deadline, and one HTTP_TIMEOUT for the last look";
  EXPECT_EQ(hub.budgets().front(), std::nullopt) << "the baseline read has its own HTTP limits only";
  // The look at the prepare worker after each poll has the same bound.
  std::vector<TimeBudget> looks;
  for (const auto& [target, budget] : trigger.inspected)
    if (target == "owner/prepare") looks.push_back(budget);
  EXPECT_EQ(looks, (std::vector<TimeBudget>{150s, 90s, 30s, 20s}));
}

TEST_F(PassTest, ALabelNeverPublishedTimesOutAloneAndFailsThePass) {
  database.misclassified = {{"department", 100}, {"urgency", 60}};
  database.pool = {{"department", 1000}, {"urgency", 1000}};
  PublishAfterPrepare("department", "d2", 150, 10);
  PassReport report = Run();
  EXPECT_EQ(report.exit_code(), 1);
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kRetrainTriggered);
  EXPECT_EQ(Of(report, "urgency").outcome, Outcome::kTimeout);
  EXPECT_NE(Of(report, "urgency").error->find("POLL_TIMEOUT=1800"), std::string::npos);
  EXPECT_DOUBLE_EQ(*Of(report, "urgency").waited_seconds, 1800);
  EXPECT_EQ(clock.Seconds(), 1800) << "gives up at the deadline, not an interval later";
  EXPECT_EQ(trigger.StartsOf("owner/retrain_urgency"), 0);
}

TEST_F(PassTest, NewVersionWithTooFewSamplesIsNotTheDatasetAskedFor) {
  database.misclassified = {{"department", 100}, {"urgency", 0}};
  database.pool = {{"department", 1000}};
  PublishAfterPrepare("department", "v2", 120, 10);  // needs 150
  config.poll_timeout = 300;
  PassReport report = Run();
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kTimeout);
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 0);
}

TEST_F(PassTest, SameVersionAsBaselineIsNeverRetrained) {
  database.misclassified = {{"department", 100}, {"urgency", 0}};
  database.pool = {{"department", 1000}};
  hub.Publish(Url("department"), "v1", 5000, At(0));  // large enough, but not new
  config.poll_timeout = 600;
  PassReport report = Run();
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kTimeout);
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 0);
}

TEST_F(PassTest, FailedPrepareWorkerEndsTheWaitAtOnce) {
  database.misclassified = {{"department", 100}, {"urgency", 60}};
  database.pool = {{"department", 1000}, {"urgency", 1000}};
  trigger.states["owner/prepare"] = {WorkerState::Health::kFailed, "stage RUNTIME_ERROR"};
  PassReport report = Run();
  EXPECT_EQ(report.exit_code(), 1);
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kFailed);
  EXPECT_NE(Of(report, "department").error->find("RUNTIME_ERROR"), std::string::npos);
  EXPECT_EQ(clock.Seconds(), 0) << "no waiting out the timeout";
}

TEST_F(PassTest, FailedPrepareRestartFailsEveryWaitingLabel) {
  database.misclassified = {{"department", 100}, {"urgency", 60}};
  database.pool = {{"department", 1000}, {"urgency", 1000}};
  trigger.results["owner/prepare"] = {false, "Space owner/prepare: not found (404)"};
  PassReport report = Run();
  EXPECT_EQ(report.exit_code(), 1);
  EXPECT_FALSE(report.prepare_triggered);
  EXPECT_NE(Of(report, "urgency").error->find("404"), std::string::npos);
  EXPECT_EQ(trigger.started.size(), 1u);
}

TEST_F(PassTest, FailedRetrainRestartFailsThatLabel) {
  database.misclassified = {{"department", 100}, {"urgency", 0}};
  database.pool = {{"department", 1000}};
  PublishAfterPrepare("department", "v2", 150, 0);
  trigger.results["owner/retrain_department"] = {false, "HTTP 500"};
  PassReport report = Run();
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kFailed);
  EXPECT_NE(Of(report, "department").error->find("owner/retrain_department"), std::string::npos);
}

TEST_F(PassTest, ARetrainThatCanNeverBeSentEndsItsCycleAfterStaleAfter) {
  config.stale_after = 7200;
  database.misclassified = {{"department", 100}, {"urgency", 0}};
  database.pool = {{"department", 1000}};
  PublishAfterPrepare("department", "v2", 150, 0);
  trigger.results["owner/retrain_department"] = {false, "Space owner/retrain_department: not found (404)"};
  EXPECT_EQ(Of(Run(), "department").outcome, Outcome::kFailed);
  EXPECT_EQ(state.labels["department"].phase, Phase::kRetraining);
  clock.SleepUntil(clock.Now() + 3600s);  // younger than STALE_AFTER: sent again, kept
  EXPECT_EQ(Of(Run(), "department").outcome, Outcome::kFailed);
  EXPECT_EQ(state.labels["department"].phase, Phase::kRetraining);
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 2);

  clock.SleepUntil(clock.Now() + 3600s);  // STALE_AFTER since the prepare restart: one last try, then idle
  PassReport stale = Run();
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 3);
  EXPECT_EQ(Of(stale, "department").outcome, Outcome::kFailed);
  EXPECT_NE(Of(stale, "department").error->find("more than STALE_AFTER=7200 s ago"), std::string::npos)
      << *Of(stale, "department").error;
  EXPECT_NE(Of(stale, "department").error->find("not found (404)"), std::string::npos) << "says why";
  EXPECT_EQ(state.labels["department"].phase, Phase::kIdle);
  EXPECT_NE(state.labels["department"].last_retrained_version, std::optional<std::string>("v2"));
  EXPECT_TRUE(std::any_of(log.lines.begin(), log.lines.end(), [](const RecordingLog::Line& line) {
    return line.message.starts_with("abandoning a stale retrain");
  }));

  trigger.results.clear();  // the Space is back: the next pass prepares anew and retrains
  PublishAfterPrepare("department", "v3", 160, 0);
  EXPECT_EQ(Of(Run(), "department").outcome, Outcome::kRetrainTriggered);
  EXPECT_EQ(state.labels["department"].last_retrained_version, std::optional<std::string>("v3"));
}

TEST_F(PassTest, ARetrainWhoseWorkerCannotBeAskedEndsItsCycleAfterStaleAfter) {
  config.stale_after = 7200;
  database.misclassified = {{"department", 100}, {"urgency", 0}};
  database.pool = {{"department", 1000}};
  PublishAfterPrepare("department", "v2", 150, 0);
  trigger.results["owner/retrain_department"] = {false, "Space owner/retrain_department: no answer", true};
  Run();
  trigger.states["owner/retrain_department"] = {WorkerState::Health::kUnknown,
                                                "Space owner/retrain_department: HTTP 403"};
  clock.SleepUntil(clock.Now() + 3600s);
  Run();
  EXPECT_EQ(state.labels["department"].phase, Phase::kRetraining) << "asked again next pass, never sent blind";
  clock.SleepUntil(clock.Now() + 3600s);
  PassReport stale = Run();
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 1) << "a restart that may have happened is not repeated";
  EXPECT_EQ(state.labels["department"].phase, Phase::kIdle);
  EXPECT_NE(Of(stale, "department").error->find("HTTP 403"), std::string::npos) << *Of(stale, "department").error;
}

TEST_F(PassTest, UnreadableBaselineFailsTheLabelWithoutPreparing) {
  database.misclassified = {{"department", 100}, {"urgency", 0}};
  database.pool = {{"department", 1000}};
  MetadataRead refused;
  refused.status = MetadataRead::Status::kRefused;
  refused.detail = "metadata: the Hub refused HF_TOKEN (401)";
  hub.Set(Url("department"), refused, At(0));
  PassReport report = Run();
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kFailed);
  EXPECT_TRUE(trigger.started.empty()) << "no label left to prepare for";
}

TEST_F(PassTest, MalformedMetadataWhileWaitingFailsThatLabelOnly) {
  database.misclassified = {{"department", 100}, {"urgency", 60}};
  database.pool = {{"department", 1000}, {"urgency", 1000}};
  MetadataRead invalid;
  invalid.status = MetadataRead::Status::kInvalid;
  invalid.detail = "dataset_metadata.json is not valid JSON";
  trigger.on_start = [&](const StartRequest& request) {
    if (request.target != "owner/prepare") return;
    hub.Set(Url("department"), invalid, clock.Now() + 60s);
    hub.Publish(Url("urgency"), "u2", 90, clock.Now() + 120s);
  };
  PassReport report = Run();
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kFailed);
  EXPECT_EQ(Of(report, "urgency").outcome, Outcome::kRetrainTriggered);
}

TEST_F(PassTest, UnavailableMetadataKeepsWaiting) {
  database.misclassified = {{"department", 100}, {"urgency", 0}};
  database.pool = {{"department", 1000}};
  MetadataRead unavailable;
  unavailable.status = MetadataRead::Status::kUnavailable;
  unavailable.detail = "HTTP 503";
  trigger.on_start = [&](const StartRequest& request) {
    if (request.target != "owner/prepare") return;
    hub.Set(Url("department"), unavailable, clock.Now());
    hub.Publish(Url("department"), "v2", 150, clock.Now() + 200s);
  };
  PassReport report = Run();
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kRetrainTriggered);
}

TEST_F(PassTest, DryRunStartsNothingAndReportsTheCurrentVersion) {
  config.dry_run = true;
  database.misclassified = {{"department", 100}, {"urgency", 60}};
  database.pool = {{"department", 1000}, {"urgency", 1000}};
  hub.Publish(Url("department"), "v7", 50, At(0));
  PassReport report = Run();
  EXPECT_EQ(report.exit_code(), 0);
  EXPECT_TRUE(trigger.started.empty());
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kDryRun);
  EXPECT_EQ(Of(report, "department").baseline_version, "v7");
  EXPECT_EQ(clock.sleeps, 0);
}

TEST_F(PassTest, ADryRunOfAnIdleLabelNamesTheLengthOfTheCycleItWouldStart) {
  config.dry_run = true;
  database.misclassified = {{"department", 100}, {"urgency", 0}};
  database.pool = {{"department", 1000}};
  LabelState finished;  // the previous cycle asked for 120 rows and is over
  finished.label = "department";
  finished.required_len = 120;
  finished.last_retrained_version = "v3";
  state.labels["department"] = finished;
  Run();
  for (const RecordingLog::Line& line : log.lines) {
    if (line.label != "department" || !line.message.starts_with("dry run: would wait")) continue;
    const auto field =
        std::find_if(line.fields.begin(), line.fields.end(), [](const Field& f) { return f.key == "required_len"; });
    ASSERT_NE(field, line.fields.end());
    EXPECT_EQ(field->value, 150) << "100 misclassified + 50 sampled: the new cycle's length, not the last one's";
    return;
  }
  ADD_FAILURE() << "no dry-run line for department";
}

TEST_F(PassTest, DatabaseFailureEndsThePassWithAnError) {
  database.fail = true;
  PassReport report = Run();
  EXPECT_EQ(report.exit_code(), 1);
  ASSERT_TRUE(report.error);
  EXPECT_NE(report.error->find("connection lost"), std::string::npos);
  EXPECT_TRUE(trigger.started.empty());
}

TEST_F(PassTest, ConfiguredQueriesReplaceTheBuiltInCounts) {
  config.labels[0].misclassified_sql = "SELECT 120";
  config.labels[0].pool_sql = "SELECT 7";
  database.query_results = {{"SELECT 120", 120}, {"SELECT 7", 7}};
  database.misclassified = {{"urgency", 0}};
  config.dry_run = true;
  PassReport report = Run();
  EXPECT_EQ(database.queries, 2);
  EXPECT_EQ(Of(report, "department").misclassified, 120);
  EXPECT_EQ(Of(report, "department").sampled_correct, 7);
  EXPECT_EQ(database.pool_scans, 0);
}

TEST_F(PassTest, LogsEveryPollWithCurrentAndRequiredLength) {
  database.misclassified = {{"department", 100}, {"urgency", 0}};
  database.pool = {{"department", 1000}};
  hub.Publish(Url("department"), "v1", 10, At(0));
  PublishAfterPrepare("department", "v2", 150, 150);
  Run();
  EXPECT_EQ(log.Count("department", "poll"), 4) << "at 0, 60, 120 and 180 s";
  EXPECT_EQ(log.Count("", "prepare restart requested"), 1);
  EXPECT_EQ(log.Count("department", "retrain restart requested"), 1);
}

TEST_F(PassTest, ManyLabelsAreWaitedForTogether) {
  config.labels.clear();
  database.misclassified.clear();
  for (int i = 0; i < 1000; ++i) {
    std::string name = "l" + std::to_string(i);
    config.labels.push_back(Label(name, 10));
    database.misclassified[name] = 10;
    database.pool[name] = 100;
    publications.push_back({name, "v2", 15, static_cast<double>(i % 300), 0});
  }
  PublishAfterPrepare("l0", "v2", 15, 0);
  PassReport report = Run();
  EXPECT_EQ(report.exit_code(), 0);
  EXPECT_EQ(database.scans, 1);
  EXPECT_EQ(database.pool_scans, 1);
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 1);
  EXPECT_LE(clock.Seconds(), 299 + config.poll_interval);
}

}  // namespace
}  // namespace orch

namespace orch {
namespace {

// ---- state: resuming, exactly once, cancelling ------------------------------------------------

class StatefulPassTest : public PassTest {
 protected:
  StatefulPassTest() {
    database.misclassified = {{"department", 100}, {"urgency", 0}};
    database.pool = {{"department", 1000}};
  }
  // An earlier pass asked for a department dataset `age` seconds ago and then died.
  void EarlierPassPrepared(double age, bool confirmed = true) {
    LabelState earlier;
    earlier.label = "department";
    earlier.phase = Phase::kPreparing;
    earlier.baseline_version = "v1";
    earlier.required_len = 150;
    earlier.prepare_requested_at = clock.WallNow() - std::chrono::seconds(static_cast<long long>(age));
    earlier.prepare_confirmed = confirmed;
    state.labels["department"] = earlier;
  }
  // An earlier pass recorded a retrain restart for `version` and died before confirming it.
  void EarlierPassRetraining(const std::string& version) {
    EarlierPassPrepared(100);
    LabelState& earlier = state.labels["department"];
    earlier.phase = Phase::kRetraining;
    earlier.dataset_version = version;
    earlier.retrain_requested_at = clock.WallNow();
  }
};

TEST_F(StatefulPassTest, StateIsRecordedBeforeEachRestartAndConfirmedAfter) {
  PublishAfterPrepare("department", "v2", 150, 30);
  std::vector<Phase> phases_seen_by_workers;
  trigger.on_start = [&, previous = trigger.on_start](const StartRequest& request) {
    phases_seen_by_workers.push_back(state.labels.at("department").phase);
    if (previous) previous(request);
  };
  Run();
  EXPECT_EQ(phases_seen_by_workers, (std::vector<Phase>{Phase::kPreparing, Phase::kRetraining}));
  const LabelState& after = state.labels.at("department");
  EXPECT_EQ(after.phase, Phase::kIdle);
  EXPECT_EQ(after.last_retrained_version, "v2");
  EXPECT_TRUE(after.retrain_confirmed);
  EXPECT_EQ(after.baseline_version, std::nullopt) << "no dataset before this cycle";
}

TEST_F(StatefulPassTest, AFreshPreparingCycleIsResumedWithoutAnotherPrepareRestart) {
  EarlierPassPrepared(600);
  hub.Publish(Url("department"), "v1", 50, At(0));
  hub.Publish(Url("department"), "v2", 150, At(120));
  PassReport report = Run();
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 0);
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 1);
  EXPECT_TRUE(Of(report, "department").resumed);
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kRetrainTriggered);
  EXPECT_EQ(state.labels.at("department").last_retrained_version, "v2");
}

TEST_F(StatefulPassTest, AResumedWaitEndsWhenTheCycleGoesStale) {
  EarlierPassPrepared(3000);  // stale after 2 x 1800 = 3600 s: 600 s left
  PassReport report = Run();
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kTimeout);
  EXPECT_EQ(clock.Seconds(), 600);
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 0);
}

TEST_F(StatefulPassTest, AStaleCycleIsAbandonedAndPreparedAnew) {
  EarlierPassPrepared(4000);
  PublishAfterPrepare("department", "v2", 150, 30);
  PassReport report = Run();
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 1);
  EXPECT_FALSE(Of(report, "department").resumed);
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kRetrainTriggered);
  EXPECT_EQ(log.Count("department", "abandoning a stale prepare cycle"), 1);
}

TEST_F(StatefulPassTest, ADatasetPublishedAfterAStaleCycleGaveUpIsStillRetrained) {
  EarlierPassPrepared(4000);
  hub.Publish(Url("department"), "v2", 150, At(0));  // the worker was slower than every wait
  PassReport report = Run();
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 0);
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 1);
  EXPECT_EQ(Of(report, "department").dataset_version, "v2");
  EXPECT_EQ(state.labels.at("department").last_retrained_version, "v2");
}

TEST_F(StatefulPassTest, AnUnconfirmedPrepareRestartIsConfirmedByARunningWorker) {
  EarlierPassPrepared(10, /*confirmed=*/false);
  trigger.states["owner/prepare"] = {WorkerState::Health::kActive, "stage BUILDING"};
  hub.Publish(Url("department"), "v2", 150, At(0));
  Run();
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 0);
  EXPECT_TRUE(state.labels.at("department").prepare_confirmed);
}

TEST_F(StatefulPassTest, AnUnconfirmedPrepareRestartThatDidNotHappenIsSentOnce) {
  EarlierPassPrepared(10, /*confirmed=*/false);
  trigger.states["owner/prepare"] = {WorkerState::Health::kFinished, "stage PAUSED"};
  hub.Publish(Url("department"), "v2", 150, At(60));
  Run();
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 1);
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 1);
}

TEST_F(StatefulPassTest, AnUnconfirmedPrepareRestartWhoseDatasetIsOutIsNotSentAgain) {
  EarlierPassPrepared(10, /*confirmed=*/false);
  // The worker ran, published and paused itself before this pass: its stage alone would say
  // the restart never happened.
  trigger.states["owner/prepare"] = {WorkerState::Health::kFinished, "stage PAUSED"};
  hub.Publish(Url("department"), "v2", 150, At(0));
  PassReport report = Run();
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 0) << "a second run would publish a version nobody retrains";
  EXPECT_EQ(Of(report, "department").dataset_version, "v2");
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 1);
}

TEST_F(StatefulPassTest, AnUnconfirmedRetrainIsConfirmedByARunningWorker) {
  EarlierPassRetraining("v2");
  trigger.states["owner/retrain_department"] = {WorkerState::Health::kActive, "stage BUILDING"};
  PassReport report = Run();
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 0);
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kRetrainTriggered);
  EXPECT_EQ(state.labels.at("department").last_retrained_version, "v2");
  EXPECT_EQ(state.labels.at("department").phase, Phase::kIdle);
}

TEST_F(StatefulPassTest, AnUnconfirmedRetrainThatDidNotHappenIsSentOnce) {
  EarlierPassRetraining("v2");
  trigger.states["owner/retrain_department"] = {WorkerState::Health::kFinished, "stage PAUSED"};
  Run();
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 1);
  EXPECT_EQ(state.labels.at("department").last_retrained_version, "v2");
}

TEST_F(StatefulPassTest, AnUnconfirmedRetrainIsNotSentAgainWhenTheWorkerCannotBeAsked) {
  EarlierPassRetraining("v2");
  trigger.states["owner/retrain_department"] = {WorkerState::Health::kUnknown, "HTTP 503"};
  PassReport report = Run();
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 0);
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kFailed);
  EXPECT_EQ(state.labels.at("department").phase, Phase::kRetraining) << "asked again next pass";
  trigger.states["owner/retrain_department"] = {WorkerState::Health::kFinished, "stage PAUSED"};
  Run();
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 1);
}

TEST_F(StatefulPassTest, AnUnconfirmedPrepareRestartIsNotSentAgainWhenTheWorkerCannotBeAsked) {
  EarlierPassPrepared(10, /*confirmed=*/false);
  trigger.states["owner/prepare"] = {WorkerState::Health::kUnknown, "HTTP 503"};
  hub.Publish(Url("department"), "v2", 150, At(60));
  Run();
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 0);
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 1) << "the wait went on";
}

TEST_F(StatefulPassTest, ARetrainRestartCertainlyNotSentIsSentByTheNextPassWithoutAskingTheWorker) {
  PublishAfterPrepare("department", "v2", 150, 30);
  trigger.results["owner/retrain_department"] = {false, "HTTP 503 after 3 attempts", /*maybe_started=*/false};
  PassReport first = Run();
  EXPECT_EQ(Of(first, "department").outcome, Outcome::kFailed);
  EXPECT_NE(Of(first, "department").error->find("the next pass sends it again"), std::string::npos);
  const LabelState& recorded = state.labels.at("department");
  EXPECT_EQ(recorded.phase, Phase::kRetraining);
  EXPECT_EQ(recorded.dataset_version, "v2");
  EXPECT_EQ(recorded.retrain_requested_at, std::nullopt) << "recorded as not sent";

  // The Space is still busy with an earlier version's run: its stage says nothing about v2.
  trigger.results.clear();
  trigger.on_start = nullptr;
  trigger.states["owner/retrain_department"] = {WorkerState::Health::kActive, "stage RUNNING"};
  PassReport second = Run();
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 2);
  EXPECT_EQ(Of(second, "department").outcome, Outcome::kRetrainTriggered);
  EXPECT_EQ(state.labels.at("department").last_retrained_version, "v2");
  EXPECT_EQ(log.Count("department", "sending the retrain restart an earlier pass could not send"), 1);
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 1);
}

TEST_F(StatefulPassTest, ARetrainRestartThatMayHaveArrivedIsConfirmedByAskingTheWorker) {
  PublishAfterPrepare("department", "v2", 150, 30);
  trigger.results["owner/retrain_department"] = {false, "connection reset after the request was sent",
                                                 /*maybe_started=*/true};
  PassReport first = Run();
  EXPECT_NE(Of(first, "department").error->find("asks the worker before sending it again"), std::string::npos);
  EXPECT_NE(state.labels.at("department").retrain_requested_at, std::nullopt);

  trigger.results.clear();
  trigger.on_start = nullptr;
  trigger.states["owner/retrain_department"] = {WorkerState::Health::kActive, "stage BUILDING"};
  PassReport second = Run();
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 1) << "the restart that arrived is not repeated";
  EXPECT_EQ(state.labels.at("department").last_retrained_version, "v2");
}

TEST_F(StatefulPassTest, APrepareRestartThatMayHaveArrivedIsNotSentAgainOnceItsDatasetIsOut) {
  trigger.results["owner/prepare"] = {false, "connection reset after the request was sent", /*maybe_started=*/true};
  PassReport first = Run();
  EXPECT_EQ(Of(first, "department").outcome, Outcome::kFailed);
  EXPECT_EQ(state.labels.at("department").phase, Phase::kPreparing);
  EXPECT_FALSE(state.labels.at("department").prepare_confirmed);

  trigger.results.clear();
  trigger.states["owner/prepare"] = {WorkerState::Health::kFinished, "stage PAUSED"};
  hub.Publish(Url("department"), "v2", 150, At(0));  // the restart did arrive, and the worker ran
  PassReport second = Run();
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 1);
  EXPECT_EQ(Of(second, "department").outcome, Outcome::kRetrainTriggered);
}

TEST_F(StatefulPassTest, APrepareRestartCertainlyNotSentEndsTheCycle) {
  trigger.results["owner/prepare"] = {false, "Space owner/prepare answered HTTP 503", /*maybe_started=*/false};
  Run();
  EXPECT_EQ(state.labels.at("department").phase, Phase::kIdle);
  trigger.results.clear();
  PublishAfterPrepare("department", "v2", 150, 30);
  PassReport second = Run();
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 2) << "decided afresh and sent";
  EXPECT_EQ(Of(second, "department").outcome, Outcome::kRetrainTriggered);
}

TEST_F(StatefulPassTest, AResentPrepareRestartCertainlyNotSentEndsTheCycle) {
  EarlierPassPrepared(10, /*confirmed=*/false);
  trigger.states["owner/prepare"] = {WorkerState::Health::kFinished, "stage PAUSED"};
  trigger.results["owner/prepare"] = {false, "Space owner/prepare answered HTTP 503", /*maybe_started=*/false};
  PassReport report = Run();
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kFailed);
  EXPECT_EQ(state.labels.at("department").phase, Phase::kIdle);
  EXPECT_EQ(clock.Seconds(), 0) << "nothing to wait for";
}

TEST_F(StatefulPassTest, AVersionAlreadyRetrainedIsNeverRetrainedAgain) {
  EarlierPassRetraining("v2");
  state.labels["department"].last_retrained_version = "v2";
  trigger.states["owner/retrain_department"] = {WorkerState::Health::kFinished, "stage PAUSED"};
  Run();
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 0);
}

TEST_F(StatefulPassTest, TheNextPassDoesNotRetrainTheSameVersion) {
  PublishAfterPrepare("department", "v2", 150, 30);
  Run();
  trigger.on_start = nullptr;  // the worker publishes nothing new this time
  config.poll_timeout = 300;
  database.misclassified["department"] += 1;  // enough new data for a new cycle
  trigger.states["owner/retrain_department"] = {WorkerState::Health::kFinished, "stage PAUSED"};  // v2's run is over
  PassReport second = Run();
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 2);
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 1);
  EXPECT_EQ(Of(second, "department").baseline_version, "v2");
  EXPECT_EQ(Of(second, "department").outcome, Outcome::kTimeout);
}

TEST_F(StatefulPassTest, ATimedOutCycleIsResumedByTheNextPass) {
  config.poll_timeout = 300;
  PublishAfterPrepare("department", "v2", 150, 400);  // after this pass gives up
  PassReport first = Run();
  EXPECT_EQ(Of(first, "department").outcome, Outcome::kTimeout);
  EXPECT_EQ(state.labels.at("department").phase, Phase::kPreparing);
  trigger.on_start = nullptr;
  PassReport second = Run();
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 1) << "resumed, not prepared again";
  EXPECT_EQ(Of(second, "department").outcome, Outcome::kRetrainTriggered);
  EXPECT_EQ(Of(second, "department").dataset_version, "v2");
}

TEST_F(StatefulPassTest, ALabelNeedingDataWhileACycleIsInFlightIsDeferred) {
  EarlierPassPrepared(60);
  database.misclassified["urgency"] = 60;
  database.pool["urgency"] = 1000;
  hub.Publish(Url("department"), "v2", 150, At(0));
  PassReport report = Run();
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 0) << "restarting it would kill the run in flight";
  EXPECT_EQ(Of(report, "urgency").outcome, Outcome::kDeferred);
  EXPECT_EQ(report.exit_code(), 0);
}

TEST_F(StatefulPassTest, AFailedPrepareWorkerEndsTheCycle) {
  trigger.states["owner/prepare"] = {WorkerState::Health::kFailed, "stage BUILD_ERROR"};
  Run();
  EXPECT_EQ(state.labels.at("department").phase, Phase::kIdle);
}

TEST_F(StatefulPassTest, AStateStoreThatGoesAwayFailsThePassCleanly) {
  trigger.on_start = [&](const StartRequest&) { state.fail = true; };
  PassReport report = Run();
  EXPECT_EQ(report.exit_code(), 1);
  ASSERT_TRUE(report.error);
  EXPECT_NE(report.error->find("server closed the connection"), std::string::npos);
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kFailed);
}

TEST_F(StatefulPassTest, ACancelledPassStopsWaitingAndLeavesTheCycleResumable) {
  Cancellation cancellation;
  trigger.on_start = [&](const StartRequest&) { cancellation.Cancel(SIGTERM); };
  Pass pass(config, {database, hub, trigger, clock, log, state, nullptr, &cancellation});
  PassReport report = pass.Run();
  EXPECT_EQ(report.exit_code(), 143);
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kCancelled);
  EXPECT_EQ(state.labels.at("department").phase, Phase::kPreparing);
  EXPECT_EQ(clock.sleeps, 0) << "stopped before sleeping";
}

}  // namespace
}  // namespace orch

namespace orch {
namespace {

class LocalWorkersPassTest : public PassTest {
 protected:
  LocalWorkersPassTest() {
    config.prepare_target = "command:orchestrator prepare --hub /srv/hub";
    config.labels = {Label("department", 100)};
    config.labels[0].retrain_target = "command:orchestrator retrain --label department";
    database.misclassified = {{"department", 100}};
    database.pool = {{"department", 1000}};
  }
  // What the trigger of a command worker reports: the process itself, whose exit is certain.
  static WorkerState Process(WorkerState::Health health, std::string detail, std::string decision = "") {
    return {health, std::move(detail), std::move(decision), WorkerState::Evidence::kProcess};
  }
  PassReport RunWaiting() {
    Pass pass(config, {database, hub, trigger, clock, log, state});
    pass.set_wait_for_retrains(true);
    return pass.Run();
  }
};

TEST_F(LocalWorkersPassTest, APrepareCommandThatEndsWithoutPublishingFailsTheLabelAtOnce) {
  trigger.states[config.prepare_target] = Process(WorkerState::Health::kFinished, "pid 12 exited with status 0");
  PassReport report = Run();
  const LabelReport& department = Of(report, "department");
  EXPECT_EQ(department.outcome, Outcome::kFailed);
  ASSERT_TRUE(department.error);
  EXPECT_NE(department.error->find("finished without publishing"), std::string::npos) << *department.error;
  EXPECT_LT(clock.Seconds(), 2 * config.poll_interval + 1) << "one more look at the metadata, not POLL_TIMEOUT";
}

TEST_F(LocalWorkersPassTest, APrepareCommandThatFailsEndsTheWaitWithItsLog) {
  trigger.states[config.prepare_target] =
      Process(WorkerState::Health::kFailed, "pid 12 exited with status 2; last lines: no such table");
  PassReport report = Run();
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kFailed);
  EXPECT_NE(Of(report, "department").error->find("no such table"), std::string::npos);
  EXPECT_EQ(report.exit_code(), 1);
}

TEST_F(LocalWorkersPassTest, WaitingForTheRetrainPutsTheWorkersDecisionInTheReport) {
  PublishAfterPrepare("department", "v2", 150, 30);  // 100 + floor(100 * 0.5)
  const std::string retrain = config.labels[0].retrain_target;
  trigger.on_start = [this, retrain, previous = trigger.on_start](const StartRequest& request) {
    if (previous) previous(request);
    if (request.target == retrain)
      trigger.states[retrain] = Process(WorkerState::Health::kFinished, "pid 13 exited with status 0",
                                        R"({"decision":"accepted","new":{"macro_f1":0.91}})");
  };
  PassReport report = RunWaiting();
  const LabelReport& department = Of(report, "department");
  EXPECT_EQ(department.outcome, Outcome::kRetrainTriggered);
  EXPECT_EQ(department.retrain_result, "finished");
  EXPECT_EQ(department.retrain_decision, R"({"decision":"accepted","new":{"macro_f1":0.91}})");
  const FakeTrigger::Started* started = trigger.Find(retrain);
  ASSERT_NE(started, nullptr);
  EXPECT_EQ(started->request.dataset_version, "v2");
  EXPECT_EQ(started->request.idempotency_key, IdempotencyKey("department", "v2"));
}

TEST_F(LocalWorkersPassTest, ARetrainWorkerThatFailsFailsThePass) {
  PublishAfterPrepare("department", "v2", 150, 30);  // 100 + floor(100 * 0.5)
  const std::string retrain = config.labels[0].retrain_target;
  trigger.states[retrain] =
      Process(WorkerState::Health::kFailed, "pid 13 exited with status 1; last lines: empty split");
  PassReport report = RunWaiting();
  const LabelReport& department = Of(report, "department");
  EXPECT_EQ(department.outcome, Outcome::kFailed);
  EXPECT_EQ(department.retrain_result, "failed");
  EXPECT_NE(department.error->find("empty split"), std::string::npos);
  EXPECT_EQ(report.exit_code(), 1);
  EXPECT_EQ(state.labels["department"].last_retrained_version, "v2") << "the request was made: never resent";
}

TEST_F(LocalWorkersPassTest, AWebhookRetrainIsNotWaitedFor) {
  config.labels[0].retrain_target = "webhook:https://airflow.example/hook";
  PublishAfterPrepare("department", "v2", 150, 30);  // 100 + floor(100 * 0.5)
  trigger.states[config.labels[0].retrain_target] = {WorkerState::Health::kFinished, "cannot be asked", "",
                                                     WorkerState::Evidence::kNone};
  PassReport report = RunWaiting();
  EXPECT_EQ(Of(report, "department").retrain_result, "not waitable");
  EXPECT_EQ(report.exit_code(), 0);
  const FakeTrigger::Started* started = trigger.Find(config.labels[0].retrain_target);
  ASSERT_NE(started, nullptr);
  EXPECT_EQ(clock.Seconds(), started->at_seconds) << "no time spent waiting for a receiver that cannot be asked";
}

TEST_F(LocalWorkersPassTest, ASpaceCountsAsFinishedOnlyOnceItWasSeenRunning) {
  config.labels[0].retrain_target = "owner/retrain_department";
  PublishAfterPrepare("department", "v2", 150, 30);  // 100 + floor(100 * 0.5)
  const std::string retrain = config.labels[0].retrain_target;
  trigger.states[retrain] = {WorkerState::Health::kFinished, "stage PAUSED"};  // the old stage, before the restart
  double ready_at = 0;
  trigger.on_start = [&, retrain, previous = trigger.on_start](const StartRequest& request) {
    if (previous) previous(request);
    if (request.target != retrain) return;
    // The Space runs for ten minutes, then pauses itself.
    trigger.states[retrain] = {WorkerState::Health::kActive, "stage RUNNING"};
    ready_at = clock.Seconds() + 600;
  };
  trigger.on_inspect = [&, retrain] {
    if (ready_at > 0 && clock.Seconds() >= ready_at)
      trigger.states[retrain] = {WorkerState::Health::kFinished, "stage PAUSED"};
  };
  PassReport report = RunWaiting();
  EXPECT_EQ(Of(report, "department").retrain_result, "finished");
  EXPECT_GE(clock.Seconds(), ready_at);
}

}  // namespace
}  // namespace orch

namespace orch {
namespace {

TEST_F(PassTest, ALockLostAtAWriteStopsThePassAndSendsNothingMore) {
  config.labels = {Label("department", 100)};
  database.misclassified = {{"department", 100}};
  database.pool = {{"department", 1000}};
  PublishAfterPrepare("department", "v2", 150, 30);
  const auto publish = trigger.on_start;
  trigger.on_start = [&, publish](const StartRequest& request) {
    publish(request);
    state.lock_lost = true;  // while the prepare restart was on its way, another pass took the lease
  };
  const PassReport report = Run();
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kCancelled) << "resumable by whoever holds the lock now";
  ASSERT_TRUE(report.error.has_value());
  EXPECT_NE(report.error->find("was lost"), std::string::npos) << *report.error;
  EXPECT_EQ(report.exit_code(), 1);
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 0) << "nothing is sent once the lock is lost";
  EXPECT_EQ(state.labels["department"].phase, Phase::kPreparing) << "what was recorded before stays";
  EXPECT_FALSE(state.labels["department"].prepare_confirmed);
}

TEST_F(PassTest, ARetrainedDatasetIsNotPreparedAgainUntilMoreDataArrives) {
  config.labels = {Label("department", 100)};
  database.misclassified = {{"department", 100}};
  database.pool = {{"department", 1000}};
  PublishAfterPrepare("department", "v2", 150, 30);
  ASSERT_EQ(Of(Run(), "department").outcome, Outcome::kRetrainTriggered);
  ASSERT_EQ(trigger.started.size(), 2u);

  PassReport same = Run();
  EXPECT_EQ(Of(same, "department").outcome, Outcome::kUpToDate);
  EXPECT_EQ(Of(same, "department").evidence.new_rows, 0);
  EXPECT_EQ(same.exit_code(), 0);
  EXPECT_EQ(trigger.started.size(), 2u) << "the same data is neither prepared nor retrained twice";

  database.misclassified = {{"department", 101}};
  publications.clear();
  PublishAfterPrepare("department", "v3", 151, 30);
  trigger.states["owner/retrain_department"] = {WorkerState::Health::kFinished, "stage PAUSED"};  // v2's run is over
  EXPECT_EQ(Of(Run(), "department").outcome, Outcome::kRetrainTriggered);
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 2);
}

TEST_F(PassTest, ForcePreparesAndRetrainsAnUpToDateLabelOnPurpose) {
  config.labels = {Label("department", 100)};
  database.misclassified = {{"department", 100}};
  database.pool = {{"department", 1000}};
  PublishAfterPrepare("department", "v2", 150, 30);
  ASSERT_EQ(Of(Run(), "department").outcome, Outcome::kRetrainTriggered);
  trigger.states["owner/retrain_department"] = {WorkerState::Health::kFinished, "stage PAUSED"};

  publications.clear();
  PublishAfterPrepare("department", "v3", 150, 30);
  Pass forced(config, {database, hub, trigger, clock, log, state});
  forced.set_force(true);
  const PassReport report = forced.Run();
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kRetrainTriggered);
  EXPECT_EQ(Of(report, "department").evidence.hold, Hold::kUpToDate) << "held, and prepared on purpose";
  EXPECT_EQ(Of(report, "department").dataset_version, "v3");
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 2);
  EXPECT_EQ(log.Count("department", "counts"), 2);
}

// Paying only for new evidence: MIN_NEW_ROWS, RETRAIN_COOLDOWN and `label pause`.
class EvidencePassTest : public PassTest {
 protected:
  // department retrains v2 at 100 corrections, and its retrain worker is done with it.
  void RetrainOnce() {
    config.labels = {Label("department", 100)};
    config.labels[0].min_new_rows = min_new_rows;
    config.labels[0].retrain_cooldown = cooldown;
    database.misclassified = {{"department", 100}};
    database.pool = {{"department", 1000}};
    PublishAfterPrepare("department", "v2", 150, 30);
    ASSERT_EQ(Of(Run(), "department").outcome, Outcome::kRetrainTriggered);
    ASSERT_EQ(state.labels["department"].last_retrained_misclassified, 100);
    trigger.states["owner/retrain_department"] = {WorkerState::Health::kFinished, "stage PAUSED"};
    publications.clear();
  }
  int64_t min_new_rows = 1;
  double cooldown = 0;
};

TEST_F(EvidencePassTest, ALabelIsPreparedAgainOnlyOnceMinNewRowsCorrectionsAreNew) {
  min_new_rows = 10;
  RetrainOnce();
  database.misclassified = {{"department", 109}};
  const PassReport nine = Run();
  EXPECT_EQ(Of(nine, "department").outcome, Outcome::kUpToDate);
  EXPECT_EQ(Of(nine, "department").evidence.new_rows, 9);
  EXPECT_EQ(NewRowsText(Of(nine, "department").evidence), "9 new of 10");
  EXPECT_EQ(nine.exit_code(), 0);
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 1) << "nine new corrections buy no new dataset";

  database.misclassified = {{"department", 110}};
  PublishAfterPrepare("department", "v3", 165, 30);
  const PassReport ten = Run();
  EXPECT_EQ(Of(ten, "department").outcome, Outcome::kRetrainTriggered);
  EXPECT_EQ(Of(ten, "department").evidence.new_rows, 10);
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 2);
  EXPECT_EQ(state.labels["department"].last_retrained_misclassified, 110);
}

TEST_F(EvidencePassTest, DeletedCorrectionsCountAsNoNewOnes) {
  RetrainOnce();
  database.misclassified = {{"department", 95}};  // reviewers took five corrections back
  const PassReport report = Run();
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kUpToDate);
  EXPECT_EQ(Of(report, "department").evidence.new_rows, 0) << "95 - 100: never negative";
}

TEST_F(EvidencePassTest, TheCooldownHoldsANewPrepareUntilItHasPassed) {
  cooldown = 3600;
  RetrainOnce();
  database.misclassified = {{"department", 150}};
  const PassReport early = Run();
  EXPECT_EQ(Of(early, "department").outcome, Outcome::kCoolingDown);
  ASSERT_TRUE(Of(early, "department").evidence.cooldown_until.has_value());
  EXPECT_EQ(early.exit_code(), 0);
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 1);

  clock.SleepUntil(clock.Now() + 3600s);
  PublishAfterPrepare("department", "v3", 225, 30);
  EXPECT_EQ(Of(Run(), "department").outcome, Outcome::kRetrainTriggered);
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 2);
}

TEST_F(EvidencePassTest, ForceOverridesTheCooldown) {
  cooldown = 3600;
  RetrainOnce();
  database.misclassified = {{"department", 150}};
  PublishAfterPrepare("department", "v3", 225, 30);
  Pass forced(config, {database, hub, trigger, clock, log, state});
  forced.set_force(true);
  EXPECT_EQ(Of(forced.Run(), "department").outcome, Outcome::kRetrainTriggered);
}

TEST_F(EvidencePassTest, APausedLabelIsCountedButNeverPreparedEvenWhenForced) {
  RetrainOnce();
  state.labels["department"].paused_at = clock.WallNow();
  state.labels["department"].paused_reason = "relabelling";
  database.misclassified = {{"department", 500}};
  Pass forced(config, {database, hub, trigger, clock, log, state});
  forced.set_force(true);
  const PassReport report = forced.Run();
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kPaused);
  EXPECT_EQ(Of(report, "department").misclassified, 500) << "counted";
  EXPECT_EQ(report.exit_code(), 0);
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 1);
}

TEST_F(EvidencePassTest, APauseLetsTheCycleInFlightEnd) {
  config.labels = {Label("department", 100)};
  database.misclassified = {{"department", 100}};
  database.pool = {{"department", 1000}};
  LabelState preparing;  // an earlier pass asked for a dataset, then the label was paused
  preparing.label = "department";
  preparing.phase = Phase::kPreparing;
  preparing.required_len = 150;
  preparing.requested_misclassified = 100;
  preparing.prepare_requested_at = clock.WallNow();
  preparing.prepare_confirmed = true;
  preparing.paused_at = clock.WallNow();
  state.labels["department"] = preparing;
  hub.Publish(Url("department"), "v2", 150, At(30));
  EXPECT_EQ(Of(Run(), "department").outcome, Outcome::kRetrainTriggered) << "its published dataset is not forgotten";
  EXPECT_EQ(Of(Run(), "department").outcome, Outcome::kPaused);
}

TEST_F(EvidencePassTest, ACycleRecordedWithoutCountsKeepsTheDatasetLengthRule) {
  config.labels = {Label("department", 100)};
  database.pool = {{"department", 1000}};
  LabelState retrained;  // as an orchestrator that did not record the counts left it
  retrained.label = "department";
  retrained.required_len = 150;
  retrained.dataset_version = "v2";
  retrained.last_retrained_version = "v2";
  retrained.last_retrained_at = clock.WallNow();
  state.labels["department"] = retrained;
  trigger.states["owner/retrain_department"] = {WorkerState::Health::kFinished, "stage PAUSED"};
  database.misclassified = {{"department", 100}};
  const PassReport same = Run();
  EXPECT_EQ(Of(same, "department").outcome, Outcome::kUpToDate);
  EXPECT_EQ(Of(same, "department").evidence.new_rows, std::nullopt);
  database.misclassified = {{"department", 101}};
  PublishAfterPrepare("department", "v3", 151, 30);
  EXPECT_EQ(Of(Run(), "department").outcome, Outcome::kRetrainTriggered);
}

// v2 was retrained by a first pass; enough new data for v3 has arrived since.
class NextCyclePassTest : public PassTest {
 protected:
  void SetUp() override {
    config.labels = {Label("department", 100)};
    database.misclassified = {{"department", 100}};
    database.pool = {{"department", 1000}};
    PublishAfterPrepare("department", "v2", 150, 30);
    ASSERT_EQ(Of(Run(), "department").outcome, Outcome::kRetrainTriggered);
    database.misclassified = {{"department", 120}};
    publications.clear();
    PublishAfterPrepare("department", "v3", 180, 30);
  }
};

TEST_F(NextCyclePassTest, WaitsForTheRetrainWorkerStillRunningTheLastOne) {
  trigger.states["owner/retrain_department"] = {WorkerState::Health::kActive, "stage RUNNING"};
  PassReport busy = Run();
  EXPECT_EQ(Of(busy, "department").outcome, Outcome::kDeferred);
  EXPECT_NE(Of(busy, "department").error->find("still running the retrain of v2"), std::string::npos);
  EXPECT_EQ(busy.exit_code(), 0);
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 1) << "v2's run is not interrupted";

  trigger.states["owner/retrain_department"] = {WorkerState::Health::kFinished, "stage PAUSED"};
  EXPECT_EQ(Of(Run(), "department").outcome, Outcome::kRetrainTriggered);
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 2);
  EXPECT_EQ(state.labels.at("department").last_retrained_version, "v3");
}

TEST_F(NextCyclePassTest, ADryRunSaysItWouldWaitForTheRetrainWorker) {
  trigger.states["owner/retrain_department"] = {WorkerState::Health::kActive, "stage RUNNING"};
  config.dry_run = true;
  PassReport report = Run();
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kDeferred);
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 1) << "only the first pass's";
  trigger.states["owner/retrain_department"] = {WorkerState::Health::kFinished, "stage PAUSED"};
  EXPECT_EQ(Of(Run(), "department").outcome, Outcome::kDryRun);
}

TEST_F(NextCyclePassTest, IsNotHeldBackByARetrainWorkerActiveLongAfterItsRestart) {
  // A Space that serves an app once it has trained stays RUNNING.
  clock.SleepUntil(clock.Now() + SecondsToDuration(StaleAfter(config) + 1));
  trigger.states["owner/retrain_department"] = {WorkerState::Health::kActive, "stage RUNNING"};
  EXPECT_EQ(Of(Run(), "department").outcome, Outcome::kRetrainTriggered);
  EXPECT_EQ(trigger.StartsOf("owner/prepare"), 2);
}

}  // namespace
}  // namespace orch

namespace orch {
namespace {

// ---- no label stuck: every cycle completes or ends ----------------------------------------------

TEST_F(StatefulPassTest, ADatasetShortOnlyByTheRowsItsWorkerDroppedIsTheOneAskedFor) {
  PublishAfterPrepare("department", "v2", 147, 30, /*rows_dropped=*/3);  // 150 counted, 3 cleaned to nothing
  PassReport report = Run();
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kRetrainTriggered);
  EXPECT_EQ(Of(report, "department").dataset_version, "v2");
  EXPECT_EQ(Of(report, "department").dataset_samples, 147);
  EXPECT_EQ(log.FieldOf("department", "poll", "rows_dropped"), 3);
  EXPECT_EQ(state.labels.at("department").phase, Phase::kIdle);
  EXPECT_EQ(report.exit_code(), 0);
}

TEST_F(StatefulPassTest, ADatasetShortByMoreThanItsWorkerDroppedTimesOutSayingHowManyRowsShort) {
  config.poll_timeout = 300;
  PublishAfterPrepare("department", "v2", 146, 30, /*rows_dropped=*/3);
  PassReport report = Run();
  const LabelReport& department = Of(report, "department");
  EXPECT_EQ(department.outcome, Outcome::kTimeout);
  ASSERT_TRUE(department.error);
  EXPECT_NE(department.error->find("the latest version, v2, has 146 samples and 3 rows dropped: 1 short of the 150"),
            std::string::npos)
      << *department.error;
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 0);
}

TEST_F(StatefulPassTest, AStaleCycleWhoseDatasetWasTooSmallIsAbandonedSayingHowManyRowsShort) {
  EarlierPassPrepared(4000);
  hub.Publish(Url("department"), "v2", 140, At(0));  // published for the cycle, 10 rows short
  PublishAfterPrepare("department", "v3", 150, 30);
  PassReport report = Run();
  EXPECT_EQ(log.Count("department", "abandoning a stale prepare cycle"), 1);
  EXPECT_EQ(log.FieldOf("department", "abandoning a stale prepare cycle", "reason"),
            "the latest version, v2, has 140 samples and 0 rows dropped: 10 short of the 150 asked for");
  EXPECT_EQ(Of(report, "department").outcome, Outcome::kRetrainTriggered) << "prepared anew at once";
  EXPECT_EQ(Of(report, "department").baseline_version, "v2");
  EXPECT_EQ(Of(report, "department").dataset_version, "v3");
}

TEST_F(StatefulPassTest, AStaleCycleWithNothingPublishedIsAbandonedSayingSo) {
  EarlierPassPrepared(4000);
  hub.Publish(Url("department"), "v1", 5000, At(0));  // still the baseline
  config.poll_timeout = 300;
  Run();
  EXPECT_EQ(log.FieldOf("department", "abandoning a stale prepare cycle", "reason"),
            "no version other than v1 was published");
}

// The earlier pass could not read the baseline, and the version the metadata then showed is the one
// the label retrained before.
void PreparingForAVersionAlreadyRetrained(MemoryStateStore& state) {
  LabelState& earlier = state.labels.at("department");
  earlier.baseline_version.reset();
  earlier.requested_misclassified = 100;
  earlier.last_retrained_version = "v2";
  earlier.last_retrained_misclassified = 100;
  earlier.last_retrained_at = *earlier.prepare_requested_at - std::chrono::hours(24);
}

TEST_F(StatefulPassTest, ACycleWhoseDatasetWasAlreadyRetrainedEndsAtOnceAndTheNextPassDoesNotFail) {
  EarlierPassPrepared(600);
  PreparingForAVersionAlreadyRetrained(state);
  hub.Publish(Url("department"), "v2", 150, At(0));
  trigger.states["owner/retrain_department"] = {WorkerState::Health::kFinished, "stage PAUSED"};
  PassReport first = Run();
  const LabelReport& department = Of(first, "department");
  EXPECT_EQ(department.outcome, Outcome::kFailed);
  ASSERT_TRUE(department.error);
  EXPECT_NE(department.error->find("v2, was already retrained"), std::string::npos) << *department.error;
  EXPECT_NE(department.error->find("the label is idle again"), std::string::npos) << *department.error;
  EXPECT_EQ(log.Count("department", "ending the cycle: its dataset was already retrained"), 1);
  EXPECT_EQ(state.labels.at("department").phase, Phase::kIdle);
  EXPECT_EQ(state.labels.at("department").last_retrained_version, "v2");
  EXPECT_EQ(trigger.StartsOf("owner/retrain_department"), 0) << "never retrained twice";
  EXPECT_EQ(clock.Seconds(), 0) << "at once, not at the timeout";

  PassReport second = Run();  // nothing new: the label rests instead of failing again
  EXPECT_EQ(Of(second, "department").outcome, Outcome::kUpToDate);
  EXPECT_EQ(second.exit_code(), 0);
  EXPECT_EQ(trigger.started.size(), 0u);

  database.misclassified["department"] = 110;  // new corrections: a new cycle, with v2 as its baseline
  PublishAfterPrepare("department", "v3", 165, 30);
  PassReport third = Run();
  EXPECT_EQ(Of(third, "department").outcome, Outcome::kRetrainTriggered);
  EXPECT_EQ(Of(third, "department").baseline_version, "v2");
  EXPECT_EQ(state.labels.at("department").last_retrained_version, "v3");
}

TEST_F(StatefulPassTest, AStaleCycleWhoseDatasetWasAlreadyRetrainedEndsOnceToo) {
  EarlierPassPrepared(4000);
  PreparingForAVersionAlreadyRetrained(state);
  hub.Publish(Url("department"), "v2", 150, At(0));
  EXPECT_EQ(Of(Run(), "department").outcome, Outcome::kFailed);
  EXPECT_EQ(state.labels.at("department").phase, Phase::kIdle);
  PassReport next = Run();
  EXPECT_EQ(Of(next, "department").outcome, Outcome::kUpToDate);
  EXPECT_EQ(next.exit_code(), 0);
  EXPECT_EQ(trigger.started.size(), 0u);
}

TEST_F(LocalWorkersPassTest, APrepareCommandThatPublishedTooSmallADatasetSaysHowManyRowsShort) {
  trigger.on_start = [this](const StartRequest& request) {
    if (request.target == config.prepare_target) hub.Publish(Url("department"), "v2", 140, clock.Now(), 2);
  };
  trigger.states[config.prepare_target] = Process(WorkerState::Health::kFinished, "pid 12 exited with status 0");
  PassReport report = Run();
  const LabelReport& department = Of(report, "department");
  EXPECT_EQ(department.outcome, Outcome::kFailed);
  ASSERT_TRUE(department.error);
  EXPECT_NE(department.error->find("has 140 samples and 2 rows dropped: 8 short of the 150 asked for"),
            std::string::npos)
      << *department.error;
}

}  // namespace
}  // namespace orch
