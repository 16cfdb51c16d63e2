#include "workers/predict.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "hub/local_repository.h"
#include "support/error_of.h"
#include "support/interfering_repository.h"
#include "support/temp_dir.h"
#include "util/error.h"
#include "workers/model_cache.h"
#include "workers/model_readme.h"
#include "workers/model_repository.h"

namespace orch {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;
using testing::WorkerErrorOf;
using testing::WriteFile;

const ClassNamesById kClasses = {{3, "Infrastructure, Utilities & Natural Resources"},
                                 {5, "Education, Health & Social Welfare"}};

class PredictTest : public ::testing::Test {
 protected:
  fs::path label_dir() const { return models_.path() / "department"; }
  fs::path cache() const { return cache_.path(); }

  // Deploys a model of two classes, ids 3 and 5, the way a retrain does: a candidate tagged
  // `version`, then main; `classes` names the ids. Returns main's new commit.
  std::string Deploy(const std::string& version, const ClassNamesById& classes = kClasses) {
    std::vector<SplitRow> rows;
    for (int i = 0; i < 60; ++i)
      rows.push_back(i % 2 ? SplitRow{"road pothole bridge सडक", 3} : SplitRow{"school teacher विद्यालय", 5});
    FastTextClassifier model = FastTextClassifier::Train(
        rows,
        {.epochs = 10, .learning_rate = 0.5, .word_ngrams = 1, .dimension = 8, .buckets = 0, .threads = 1, .seed = 1});
    ModelCard card;
    card.label = "department";
    card.model_version = "m_" + version;
    card.dataset_version = version;
    card.label_map = classes;
    const fs::path file = scratch_.path() / (version + ".bin");
    model.Save(file);
    LocalRepository repository(label_dir());
    repository.CreateIfMissing();
    ModelRepository models(repository, "department");
    models.PublishCandidate(file, card);
    return models.CommitToMain(models.ReadMain().commit, "Deploy " + version, "",
                               {FileAddition::FromFile(kModelPath, file),
                                FileAddition::FromBytes(kModelJsonPath, ModelCardJson(card).dump(2) + "\n"),
                                FileAddition::FromBytes(kModelCardPath, DeployedModelReadme("department", card, ""))});
  }

  // The stored file `path` of main's head, writable, to damage it.
  fs::path MainFile(const std::string& path) {
    LocalRepository repository(label_dir());
    const fs::path stored = repository.StoredFile(repository.HeadOf("main").value(), path);
    fs::permissions(stored, fs::perms::owner_write, fs::perm_options::add);
    return stored;
  }

  std::set<std::string> CacheEntries() {
    std::set<std::string> names;
    for (const fs::directory_entry& key : fs::directory_iterator(cache()))
      for (const fs::directory_entry& entry : fs::directory_iterator(key.path()))
        names.insert(key.path().filename().string() + "/" + entry.path().filename().string());
    return names;
  }

  TempDir models_{"orch-predict"};
  TempDir cache_{"orch-predict-cache"};
  TempDir scratch_{"orch-predict-scratch"};
};

TEST_F(PredictTest, AnswersWithClassNamesFromMain) {
  const std::string main = Deploy("v1");
  DeployedClassifier classifier = DeployedClassifier::Load(models_.path(), "department", cache());
  EXPECT_EQ(classifier.model_version(), "m_v1");
  EXPECT_EQ(classifier.commit(), main);
  LabelPrediction road = classifier.Predict("the road has a pothole");
  EXPECT_EQ(road.name, "Infrastructure, Utilities & Natural Resources");
  EXPECT_EQ(road.id, 3);
  EXPECT_GT(road.probability, 0.5);
  EXPECT_LE(road.probability, 1.0);
  EXPECT_EQ(classifier.Predict("विद्यालय").id, 5);
}

TEST_F(PredictTest, CleansTextLikeThePrepareWorker) {
  Deploy("v1");
  DeployedClassifier classifier = DeployedClassifier::Load(models_.path(), "department", cache());
  LabelPrediction clean = classifier.Predict("school teacher");
  LabelPrediction noisy = classifier.Predict("<p>school</p>\n  http://example.org/x   teacher ");
  EXPECT_EQ(noisy.id, clean.id);
  EXPECT_DOUBLE_EQ(noisy.probability, clean.probability);
}

// main's files are read from the repository once per commit: a second load of the same commit reads
// the cache, a new deployment is read anew, and the entry of the commit it replaced goes.
TEST_F(PredictTest, ReadsEachCommitOfMainOnceThroughTheCache) {
  const std::string first = Deploy("v1");
  LocalRepository local(label_dir());
  testing::InterferingRepository repository(local);
  EXPECT_EQ(DeployedClassifier::Load(repository, "department", cache(), "MODELS").commit(), first);
  EXPECT_EQ(repository.downloads(), 2) << "model.bin and model.json";
  const std::string key = ModelCacheKey(local.Name());
  EXPECT_EQ(CacheEntries(), std::set<std::string>{key + "/" + first});
  EXPECT_EQ(DeployedClassifier::Load(repository, "department", cache(), "MODELS").commit(), first);
  EXPECT_EQ(repository.downloads(), 2) << "the same commit is read from the cache";

  // The new model names the ids the other way round: answers prove which model answered.
  const std::string second =
      Deploy("v2", {{3, "Education, Health & Social Welfare"}, {5, "Infrastructure, Utilities & Natural Resources"}});
  const DeployedClassifier deployed = DeployedClassifier::Load(repository, "department", cache(), "MODELS");
  EXPECT_EQ(deployed.commit(), second);
  EXPECT_EQ(deployed.model_version(), "m_v2");
  EXPECT_EQ(deployed.Predict("road pothole").name, "Education, Health & Social Welfare");
  EXPECT_EQ(repository.downloads(), 4);
  EXPECT_EQ(CacheEntries(), std::set<std::string>{key + "/" + second}) << "the replaced commit's entry went";

  // A damaged copy in the cache is read again from the repository.
  WriteFile((cache() / key / second / "model.bin").string(), "not a model");
  EXPECT_EQ(DeployedClassifier::Load(repository, "department", cache(), "MODELS").Predict("road pothole").id, 3);
  EXPECT_EQ(repository.downloads(), 6);
}

TEST_F(PredictTest, WithoutADeployedModelSaysToRetrainFirst) {
  const std::string none = WorkerErrorOf([&] { DeployedClassifier::Load(models_.path(), "department", cache()); });
  EXPECT_NE(none.find("no model of department is deployed in " + models_.path().string()), std::string::npos) << none;
  EXPECT_NE(none.find("run `orchestrator retrain --label department"), std::string::npos) << none;
  EXPECT_THROW(DeployedClassifier::Load(models_.path(), "Bad Label", cache()), ConfigError);

  // A repository whose main holds no model yet (a first retrain that stopped after its candidate).
  LocalRepository repository(label_dir());
  repository.CreateIfMissing();
  CommitRequest first;
  first.summary = "Create the model repository of department";
  first.additions = {FileAddition::FromBytes("README.md", "# department\n")};
  repository.Commit(first);
  const std::string empty = WorkerErrorOf([&] { DeployedClassifier::Load(models_.path(), "department", cache()); });
  EXPECT_NE(empty.find("is deployed in " + label_dir().string() + " yet (main holds no model): run "),
            std::string::npos)
      << empty;
}

TEST_F(PredictTest, ADamagedDeployedModelIsNamedAndTheNextRetrainReplacesIt) {
  const std::string main = Deploy("v1");
  auto load_error = [&] {
    TempDir fresh("orch-predict-cache");  // nothing read before: the repository's files are
    return WorkerErrorOf([&] { DeployedClassifier::Load(models_.path(), "department", fresh.path()); });
  };
  const std::string start =
      "the deployed model of department (main at commit " + main.substr(0, 12) + ") cannot be used: ";
  const std::string replaced =
      ". The next accepted retrain replaces it: run `orchestrator retrain --label department "
      "--dataset HUB/department --models " +
      models_.path().string() +
      "`, or deploy the model before it with `orchestrator rollback --label department --models " +
      models_.path().string() + "`";
  const fs::path model = MainFile("model.bin");
  const std::string bytes = ReadFile(model.string());
  WriteFile(model.string(), bytes.substr(0, 100));
  EXPECT_EQ(load_error(),
            start + label_dir().string() + "/model.bin is truncated: its 100 bytes end inside dictionary entry 1 of " +
                std::to_string(static_cast<unsigned char>(bytes[64])) +
                ", so the model was not completely written, or a count before that point is damaged" + replaced);

  WriteFile(model.string(), bytes);
  const fs::path card = MainFile("model.json");
  WriteFile(card.string(), R"({"label_map": {"a": 0}, "train_rows": "many"})");
  EXPECT_EQ(load_error(), start + label_dir().string() +
                              "/model.json has a \"train_rows\" that is not an integer from -2147483648 to "
                              "9223372036854775807: the model is damaged" +
                              replaced);

  fs::remove(card);
  EXPECT_EQ(load_error(), start + label_dir().string() +
                              "/model.json is missing: main holds model.bin without it, so the model is incomplete" +
                              replaced);
}

// MODELS/<label> of an earlier release (`current` and version directories) answers as before until a
// retrain or a rollback imports it.
TEST_F(PredictTest, AnEarlierReleasesDeployedModelAnswersUntilItIsImported) {
  std::vector<SplitRow> rows;
  for (int i = 0; i < 60; ++i) rows.push_back(i % 2 ? SplitRow{"road pothole", 3} : SplitRow{"school teacher", 5});
  const FastTextClassifier model = FastTextClassifier::Train(
      rows,
      {.epochs = 10, .learning_rate = 0.5, .word_ngrams = 1, .dimension = 8, .buckets = 0, .threads = 1, .seed = 1});
  fs::create_directories(label_dir() / "m20251030_115250");
  model.Save(label_dir() / "m20251030_115250" / "model.bin");
  ModelCard card;
  card.label_map = kClasses;
  WriteFile((label_dir() / "m20251030_115250" / "model.json").string(), ModelCardJson(card).dump());
  fs::create_directory_symlink("m20251030_115250", label_dir() / "current");
  const DeployedClassifier classifier = DeployedClassifier::Load(models_.path(), "department", cache());
  EXPECT_EQ(classifier.model_version(), "m20251030_115250");
  EXPECT_EQ(classifier.commit(), "");
  EXPECT_EQ(classifier.Predict("pothole").name, "Infrastructure, Utilities & Natural Resources");
}

TEST_F(PredictTest, JsonHasLabelIdAndProbability) {
  nlohmann::ordered_json json = LabelPredictionJson({.name = "URGENT", .id = 1, .probability = 0.819979190826416});
  EXPECT_EQ(json.dump(), R"({"label":"URGENT","id":1,"probability":0.819979})");
}

}  // namespace
}  // namespace orch
