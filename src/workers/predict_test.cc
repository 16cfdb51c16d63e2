#include "workers/predict.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/temp_dir.h"
#include "util/error.h"
#include "workers/model_store.h"

namespace orch {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

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

TEST_F(PredictTest, ADamagedDeployedModelIsNamedAndTheNextRetrainReplacesIt) {
  Deploy();
  const fs::path version = models_.path() / "department" / "m20261126_102000";
  auto load_error = [&] {
    try {
      DeployedClassifier::Load(models_.path(), "department");
    } catch (const WorkerError& error) {
      return std::string(error.what());
    }
    return std::string("(loaded)");
  };
  const std::string replaced =
      ". The next accepted retrain replaces it: run `orchestrator retrain --label department "
      "--dataset HUB/department --models " +
      models_.path().string() + "`";
  const std::string model = (version / "model.bin").string();
  const std::string bytes = ReadFile(model);
  WriteFile(model, bytes.substr(0, 100));
  EXPECT_EQ(load_error(), "the deployed model of department (m20261126_102000) cannot be used: " + model +
                              " is truncated: its 100 bytes end inside dictionary entry 1 of " +
                              std::to_string(static_cast<unsigned char>(bytes[64])) +
                              ", so the model was not completely written, or a count before that point is damaged" +
                              replaced);

  fs::remove(model);
  fs::create_directory(model);
  EXPECT_EQ(load_error(), "the deployed model of department (m20261126_102000) cannot be used: the model file " +
                              model + " is a directory, not a regular file" + replaced);

  fs::remove(model);
  WriteFile(model, bytes);
  WriteFile((version / "model.json").string(), R"({"label_map": {"a": 0}, "train_rows": "many"})");
  EXPECT_EQ(load_error(), "the deployed model of department (m20261126_102000) cannot be used: the model card " +
                              (version / "model.json").string() +
                              " has a \"train_rows\" that is not an integer from -2147483648 to 9223372036854775807: "
                              "the model version is damaged" +
                              replaced);
}

TEST_F(PredictTest, JsonHasLabelIdAndProbability) {
  nlohmann::ordered_json json = LabelPredictionJson({.name = "URGENT", .id = 1, .probability = 0.819979190826416});
  EXPECT_EQ(json.dump(), R"({"label":"URGENT","id":1,"probability":0.819979})");
}

}  // namespace
}  // namespace orch
