#include "engine/decision.h"

#include <gtest/gtest.h>

namespace orch {
namespace {

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

}  // namespace
}  // namespace orch
