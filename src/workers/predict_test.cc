#include "workers/predict.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/temp_dir.h"
#include "util/error.h"
#include "workers/model_store.h"

namespace orch {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

class PredictTest : public ::testing::Test {
 protected:
  // Deploys a model of two classes, ids 3 and 5, the way a retrain does.
  void Deploy() {
    std::vector<SplitRow> rows;
    for (int i = 0; i < 60; ++i)
      rows.push_back(i % 2 ? SplitRow{"road pothole bridge सडक", 3} : SplitRow{"school teacher विद्यालय", 5});
    FastTextClassifier model = FastTextClassifier::Train(
        rows,
        {.epochs = 10, .learning_rate = 0.5, .word_ngrams = 1, .dimension = 8, .buckets = 0, .threads = 1, .seed = 1});
    ModelCard card;
    card.label = "department";
    card.model_version = "m20261126_102000";
    card.label_map = {{3, "Infrastructure, Utilities & Natural Resources"}, {5, "Education, Health & Social Welfare"}};
    ModelStore store(models_.path(), "department");
    store.Store(model, card);
    store.MakeCurrent(card.model_version);
  }

  TempDir models_{"orch-predict"};
};

TEST_F(PredictTest, AnswersWithClassNames) {
  Deploy();
  DeployedClassifier classifier = DeployedClassifier::Load(models_.path(), "department");
  EXPECT_EQ(classifier.model_version(), "m20261126_102000");
  LabelPrediction road = classifier.Predict("the road has a pothole");
  EXPECT_EQ(road.name, "Infrastructure, Utilities & Natural Resources");
  EXPECT_EQ(road.id, 3);
  EXPECT_GT(road.probability, 0.5);
  EXPECT_LE(road.probability, 1.0);
  EXPECT_EQ(classifier.Predict("विद्यालय").id, 5);
}

TEST_F(PredictTest, CleansTextLikeThePrepareWorker) {
  Deploy();
  DeployedClassifier classifier = DeployedClassifier::Load(models_.path(), "department");
  LabelPrediction clean = classifier.Predict("school teacher");
  LabelPrediction noisy = classifier.Predict("<p>school</p>\n  http://example.org/x   teacher ");
  EXPECT_EQ(noisy.id, clean.id);
  EXPECT_DOUBLE_EQ(noisy.probability, clean.probability);
}

TEST_F(PredictTest, WithoutADeployedModelSaysToRetrainFirst) {
  try {
    DeployedClassifier::Load(models_.path(), "department");
    FAIL() << "loaded a model that does not exist";
  } catch (const WorkerError& error) {
    EXPECT_NE(std::string(error.what()).find("run `orchestrator retrain --label department"), std::string::npos)
        << error.what();
  }
  EXPECT_THROW(DeployedClassifier::Load(models_.path(), "Bad Label"), ConfigError);
}

TEST_F(PredictTest, JsonHasLabelIdAndProbability) {
  nlohmann::ordered_json json = LabelPredictionJson({.name = "URGENT", .id = 1, .probability = 0.819979190826416});
  EXPECT_EQ(json.dump(), R"({"label":"URGENT","id":1,"probability":0.819979})");
}

}  // namespace
}  // namespace orch
