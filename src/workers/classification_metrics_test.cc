#include "workers/classification_metrics.h"

#include <gtest/gtest.h>

#include <vector>

#include "util/error.h"

namespace orch {
namespace {

TEST(ClassificationMetrics, PerfectPredictionsScoreOne) {
  std::vector<int> truth = {0, 1, 2, 1};
  ClassificationScores scores = ScoreClassification(truth, truth);
  EXPECT_DOUBLE_EQ(scores.macro_f1, 1.0);
  EXPECT_DOUBLE_EQ(scores.accuracy, 1.0);
}

TEST(ClassificationMetrics, MacroF1AveragesClassesWithoutWeights) {
  // Class 0: TP 3, FN 1 (F1 6/7). Class 1: TP 0, FP 1 (F1 0). Accuracy 3/4.
  std::vector<int> truth = {0, 0, 0, 0};
  std::vector<int> predicted = {0, 0, 0, 1};
  ClassificationScores scores = ScoreClassification(truth, predicted);
  EXPECT_NEAR(scores.macro_f1, (6.0 / 7.0 + 0.0) / 2, 1e-12);
  EXPECT_DOUBLE_EQ(scores.accuracy, 0.75);
}

TEST(ClassificationMetrics, MatchesAWorkedExample) {
  // scikit-learn: f1_score([0,1,2,0,1,2], [0,2,1,0,0,1], average="macro") == 0.26666...
  std::vector<int> truth = {0, 1, 2, 0, 1, 2};
  std::vector<int> predicted = {0, 2, 1, 0, 0, 1};
  ClassificationScores scores = ScoreClassification(truth, predicted);
  EXPECT_NEAR(scores.macro_f1, 0.8 / 3, 1e-12);
  EXPECT_NEAR(scores.accuracy, 2.0 / 6, 1e-12);
}

TEST(ClassificationMetrics, ARareClassWeighsAsMuchAsACommonOne) {
  // 9 rows of class 0 all right, the single row of class 1 wrong: accuracy is high, macro-F1 is not.
  std::vector<int> truth = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  std::vector<int> predicted(10, 0);
  ClassificationScores scores = ScoreClassification(truth, predicted);
  EXPECT_DOUBLE_EQ(scores.accuracy, 0.9);
  EXPECT_NEAR(scores.macro_f1, (18.0 / 19.0) / 2, 1e-12);
}

TEST(ClassificationMetrics, RefusesMismatchedOrEmptyInput) {
  std::vector<int> two = {0, 1}, one = {0}, none;
  EXPECT_THROW(ScoreClassification(two, one), WorkerError);
  EXPECT_THROW(ScoreClassification(none, none), WorkerError);
}

}  // namespace
}  // namespace orch
