#include "engine/decision.h"

#include <gtest/gtest.h>

#include <limits>

namespace orch {
namespace {

using namespace std::chrono_literals;

TEST(Decision, SampleIsHalfTheMisclassifiedRoundedDown) {
  EXPECT_EQ(WantedCorrectRows(101, 0.5), 50);
  EXPECT_EQ(WantedCorrectRows(0, 0.5), 0);
  EXPECT_EQ(WantedCorrectRows(10, 0), 0);
  EXPECT_EQ(WantedCorrectRows(10, 2.5), 25);
}

TEST(Decision, PoolCountIsNeededOnlyWhenTheLargestDatasetReachesTheThreshold) {
  EXPECT_FALSE(NeedsPoolCount(26, 0.5, 40));  // 26 + 13 = 39
  EXPECT_TRUE(NeedsPoolCount(27, 0.5, 40));   // 27 + 13 = 40
}

TEST(Decision, ThresholdIsARowCountReachedInclusively) {
  Decision at = Decide(30, 100, 0.5, 45);
  EXPECT_EQ(at.dataset_len, 45);
  EXPECT_TRUE(at.prepare);
  EXPECT_FALSE(Decide(29, 100, 0.5, 45).prepare);  // 29 + 14 = 43
}

TEST(Decision, SampleIsCappedByTheAvailablePool) {
  Decision decision = Decide(100, 7, 0.5, 10);
  EXPECT_EQ(decision.sampled_correct, 7);
  EXPECT_EQ(decision.dataset_len, 107);
  EXPECT_FALSE(decision.upper_bound);
}

TEST(Decision, WithoutAPoolCountTheLengthIsAnUpperBound) {
  Decision decision = Decide(10, std::nullopt, 0.5, 1000);
  EXPECT_TRUE(decision.upper_bound);
  EXPECT_EQ(decision.dataset_len, 15);
  EXPECT_FALSE(decision.prepare);
}

TEST(Decision, NewDatasetNeedsANewVersionAndEnoughSamples) {
  EXPECT_TRUE(IsNewDataset({"v2", 150}, std::string("v1"), 150));
  EXPECT_FALSE(IsNewDataset({"v2", 149}, std::string("v1"), 150));
  EXPECT_FALSE(IsNewDataset({"v1", 500}, std::string("v1"), 150));
  EXPECT_TRUE(IsNewDataset({"v1", 500}, std::nullopt, 150)) << "no dataset before: the first one is new";
}

TEST(Decision, RowsTheWorkerDroppedCountTowardsTheLengthAskedFor) {
  EXPECT_TRUE(IsNewDataset({"v2", 147, 3}, std::string("v1"), 150)) << "3 counted rows had no text after cleaning";
  EXPECT_FALSE(IsNewDataset({"v2", 147, 2}, std::string("v1"), 150));
  EXPECT_FALSE(IsNewDataset({"v1", 147, 3}, std::string("v1"), 150)) << "still not a new version";
  EXPECT_EQ(RowsShort({"v2", 147, 2}, 150), 1);
  EXPECT_EQ(RowsShort({"v2", 200, 0}, 150), 0);
  const int64_t most = std::numeric_limits<int64_t>::max();
  EXPECT_TRUE(IsNewDataset({"v2", most, most}, std::nullopt, 150)) << "no overflow on absurd counts";
  EXPECT_EQ(RowsShort({"v2", 0, 0}, most), most);
}

MetadataRead Published(const std::string& version, int64_t samples, int64_t dropped = 0) {
  MetadataRead read;
  read.status = MetadataRead::Status::kOk;
  read.metadata = DatasetMetadata{version, samples, dropped};
  return read;
}

TEST(Decision, SaysWhyAPublishedVersionIsNotTheDatasetAskedFor) {
  EXPECT_EQ(WhyNotTheDataset(Published("v2", 148, 0), std::string("v1"), 150),
            "the latest version, v2, has 148 samples and 0 rows dropped: 2 short of the 150 asked for");
  EXPECT_EQ(WhyNotTheDataset(Published("v1", 500), std::string("v1"), 150), "no version other than v1 was published");
  EXPECT_EQ(WhyNotTheDataset(Published("v2", 147, 3), std::string("v1"), 150), "") << "it is the one";
  MetadataRead missing;
  missing.status = MetadataRead::Status::kNotFound;
  missing.detail = "HTTP 404";
  EXPECT_EQ(WhyNotTheDataset(missing, std::nullopt, 150),
            "its dataset_metadata.json could not be read (not_found: HTTP 404)");
}

LabelState Retrained(int64_t misclassified) {
  LabelState state;
  state.label = "department";
  state.last_retrained_version = "v2";
  state.dataset_version = "v2";
  state.required_len = misclassified + misclassified / 2;
  state.last_retrained_misclassified = misclassified;
  state.last_retrained_at = WallTime{} + std::chrono::hours(100);
  return state;
}

LabelConfig WithEvidence(int64_t min_new_rows, double cooldown) {
  LabelConfig label;
  label.name = "department";
  label.threshold = 40;
  label.min_new_rows = min_new_rows;
  label.retrain_cooldown = cooldown;
  return label;
}

TEST(Evidence, BeforeTheFirstRetrainEveryCorrectionIsNew) {
  LabelState never;
  const Evidence evidence = Weigh(Decide(50, 100, 0.5, 40), never, 50, WithEvidence(1000, 0), WallTime{});
  EXPECT_EQ(evidence.new_rows, 50);
  EXPECT_EQ(evidence.hold, Hold::kNone) << "MIN_NEW_ROWS weighs only against a retrained dataset";
}

TEST(Evidence, TooFewNewCorrectionsHoldALabelAtItsThreshold) {
  const WallTime now = WallTime{} + std::chrono::hours(200);
  EXPECT_EQ(Weigh(Decide(59, 100, 0.5, 40), Retrained(50), 59, WithEvidence(10, 0), now).hold, Hold::kUpToDate);
  EXPECT_EQ(Weigh(Decide(60, 100, 0.5, 40), Retrained(50), 60, WithEvidence(10, 0), now).hold, Hold::kNone);
  const Evidence below = Weigh(Decide(5, 100, 0.5, 40), Retrained(50), 5, WithEvidence(10, 0), now);
  EXPECT_EQ(below.hold, Hold::kNone) << "below its threshold, nothing needs holding";
  EXPECT_EQ(below.new_rows, 0);
}

TEST(Evidence, TheCooldownRunsFromTheLastRetrain) {
  const LabelState state = Retrained(50);
  const WallTime retrained = *state.last_retrained_at;
  const Evidence inside = Weigh(Decide(80, 100, 0.5, 40), state, 80, WithEvidence(1, 3600), retrained + 3599s);
  EXPECT_EQ(inside.hold, Hold::kCoolingDown);
  EXPECT_EQ(inside.cooldown_until, retrained + 3600s);
  const Evidence after = Weigh(Decide(80, 100, 0.5, 40), state, 80, WithEvidence(1, 3600), retrained + 3600s);
  EXPECT_EQ(after.hold, Hold::kNone);
  EXPECT_EQ(after.cooldown_until, std::nullopt);
}

TEST(Evidence, APauseHoldsAnIdleLabelWhateverItsCountsButNotItsCycle) {
  LabelState state = Retrained(50);
  state.paused_at = WallTime{};
  EXPECT_EQ(Weigh(Decide(1, 100, 0.5, 40), state, 1, WithEvidence(1, 0), WallTime{}).hold, Hold::kPaused);
  state.phase = Phase::kPreparing;
  state.prepare_requested_at = WallTime{};
  EXPECT_EQ(Weigh(Decide(90, 100, 0.5, 40), state, 90, WithEvidence(1, 0), WallTime{}).hold, Hold::kNone);
}

}  // namespace
}  // namespace orch
