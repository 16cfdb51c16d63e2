#include "workers/earlier_models.h"

#include <gtest/gtest.h>

#include <sstream>

#include "hub/local_repository.h"
#include "support/dataset_repository.h"
#include "support/error_of.h"
#include "support/temp_dir.h"
#include "support/tiny_search.h"
#include "util/error.h"
#include "workers/decision_log.h"
#include "workers/retrain.h"
#include "workers/rollback.h"

namespace orch {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;
using testing::WorkerErrorOf;
using testing::WriteFile;

constexpr const char* kOldVersion = "m20251030_115250";

std::string Rows(size_t count) {
  std::string jsonl;
  for (size_t i = 0; i < count; ++i)
    jsonl += nlohmann::json({{"grievance", i % 2 ? "road pothole bridge" : "school teacher exam"}, {"label", i % 2}})
                 .dump() +
             "\n";
  return jsonl;
}

// MODELS/department as an earlier release left it: two version directories, `current` on the second,
// and a decision log.
class EarlierModelsTest : public ::testing::Test {
 protected:
  EarlierModelsTest() {
    std::vector<SplitRow> rows;
    for (int i = 0; i < 40; ++i) rows.push_back({i % 2 ? "road pothole bridge" : "school teacher exam", i % 2});
    const FastTextClassifier model = FastTextClassifier::Train(
        rows,
        {.epochs = 5, .learning_rate = 0.5, .word_ngrams = 1, .dimension = 8, .buckets = 0, .threads = 1, .seed = 1});
    for (const std::string version : {"m20251001_000000", kOldVersion}) {
      fs::create_directories(label_dir() / version);
      model.Save(label_dir() / version / "model.bin");
      ModelCard card;
      card.label = "department";
      card.model_version = version;
      card.dataset_version = "v20251030_115000";
      card.metrics = {.macro_f1 = 0.91, .accuracy = 0.92};
      card.label_map = {{0, "school"}, {1, "road"}};
      nlohmann::json json = ModelCardJson(card);
      json.erase("dataset_repository");  // as the earlier release wrote it
      json.erase("dataset_commit");
      WriteFile((label_dir() / version / "model.json").string(), json.dump(2));
    }
    fs::create_directory_symlink(kOldVersion, label_dir() / "current");
    WriteFile((label_dir() / "decisions.jsonl").string(), kEarlierLine);
  }

  fs::path models_dir() const { return work_.path() / "models"; }
  fs::path label_dir() const { return models_dir() / "department"; }

  static constexpr const char* kEarlierLine =
      R"({"time":"2025-10-30T11:52:50.000Z","label":"department","dataset_version":"v20251030_115000",)"
      R"("model_version":"m20251030_115250","decision":"accepted","new":{"macro_f1":0.91,"accuracy":0.92},)"
      R"("deployed":null,"deployed_version":null,"decision_threshold":0.001,"reason":"no model is deployed yet"})"
      "\n";

  TempDir work_{"orch-earlier-models"};
};

TEST_F(EarlierModelsTest, TheDeployedModelBecomesMainsFirstCommitAndIsNeverLost) {
  LocalRepository repository(label_dir());
  ModelRepository models(repository, "department");
  const std::optional<std::string> said = ImportEarlierLayout(models, label_dir(), std::chrono::system_clock::now());
  ASSERT_TRUE(said.has_value());
  EXPECT_NE(said->find("imported the deployed model m20251030_115250 of an earlier release into " +
                       label_dir().string() + " (main, tagged v20251030_115000)"),
            std::string::npos)
      << *said;

  const MainSnapshot main = models.ReadMain();
  ASSERT_TRUE(main.commit.has_value());
  EXPECT_TRUE(main.has_model);
  EXPECT_EQ(repository.HeadOf("v20251030_115000"), main.commit) << "a rollback can come back to it";
  EXPECT_EQ(models.ReadCard(*main.commit, "main").model_version, kOldVersion);
  EXPECT_EQ(ReadFile((label_dir() / "model.bin").string()),
            ReadFile((label_dir() / kOldVersion / "model.bin").string()));
  // The earlier lines first, then the import.
  std::istringstream lines(main.decisions);
  std::string first, second, none;
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_EQ(first + "\n", kEarlierLine);
  EXPECT_EQ(nlohmann::json::parse(second)["decision"], "imported");
  EXPECT_FALSE(std::getline(lines, none));
  EXPECT_FALSE(fs::exists(fs::symlink_status(label_dir() / "current")));
  EXPECT_TRUE(fs::exists(label_dir() / "m20251001_000000" / "model.bin")) << "version directories stay";
  EXPECT_EQ(ImportEarlierLayout(models, label_dir(), std::chrono::system_clock::now()), std::nullopt);
}

// A run stopped after the import's commit (before `current` went) is finished, not done twice.
TEST_F(EarlierModelsTest, AnImportStoppedHalfwayIsFinished) {
  LocalRepository repository(label_dir());
  ModelRepository models(repository, "department");
  ImportEarlierLayout(models, label_dir(), std::chrono::system_clock::now());
  const std::string main = repository.HeadOf("main").value();
  fs::create_directory_symlink(kOldVersion, label_dir() / "current");
  const std::optional<std::string> said = ImportEarlierLayout(models, label_dir(), std::chrono::system_clock::now());
  ASSERT_TRUE(said.has_value());
  EXPECT_TRUE(said->starts_with("finished importing the deployed model m20251030_115250")) << *said;
  EXPECT_EQ(repository.HeadOf("main"), main);
  EXPECT_FALSE(fs::exists(fs::symlink_status(label_dir() / "current")));

  // `current` naming another model than main's is left alone: it is not main's to remove.
  fs::create_directory_symlink("m20251001_000000", label_dir() / "current");
  EXPECT_EQ(ImportEarlierLayout(models, label_dir(), std::chrono::system_clock::now()), std::nullopt);
  EXPECT_TRUE(fs::is_symlink(label_dir() / "current"));
  EXPECT_EQ(repository.HeadOf("main"), main);
}

TEST_F(EarlierModelsTest, ADeployedModelThatCannotBeReadIsNotImported) {
  LocalRepository repository(label_dir());
  ModelRepository models(repository, "department");
  WriteFile((label_dir() / kOldVersion / "model.json").string(), "{");
  const std::string error = WorkerErrorOf([&] { ImportEarlierLayout(models, label_dir(), {}); });
  EXPECT_NE(error.find(label_dir().string() + "/m20251030_115250/model.json is not valid JSON"), std::string::npos)
      << error;
  EXPECT_FALSE(fs::exists(label_dir() / ".repo")) << "nothing made";

  fs::remove(label_dir() / "current");
  fs::create_directory_symlink("../elsewhere", label_dir() / "current");
  const std::string pointing = WorkerErrorOf([&] { ImportEarlierLayout(models, label_dir(), {}); });
  EXPECT_EQ(pointing, (label_dir() / "current").string() + " does not point to a model version in " +
                          label_dir().string() + ": point it at the one deployed (ln -sfn <model_version> " +
                          (label_dir() / "current").string() +
                          "); MODELS/<label> of an earlier release is imported into a model repository by the "
                          "label's next retrain or rollback; to start afresh instead, move " +
                          label_dir().string() + " aside and retrain");
}

// The first retrain of the new release imports, then weighs its model against the imported one.
TEST_F(EarlierModelsTest, TheFirstRetrainImportsThenWeighsAgainstTheImportedModel) {
  testing::PublishVersion(
      work_.path() / "hub" / "department", "v1",
      {.labels_json = R"({"school": 0, "road": 1})", .train = Rows(60), .validation = Rows(20), .test = Rows(20)});
  std::vector<std::string> progress;
  const RetrainOutcome outcome = Retrain({.label = "department",
                                          .dataset_dir = work_.path() / "hub" / "department",
                                          .models_dir = models_dir(),
                                          .version = std::nullopt,
                                          .decision_threshold = 0.001,
                                          .search = testing::TinySearch(),
                                          .progress = [&](std::string_view line) { progress.emplace_back(line); }});
  EXPECT_EQ(outcome.decision.deployed_version, kOldVersion);
  ASSERT_TRUE(outcome.decision.deployed_scores.has_value()) << outcome.decision.reason;
  EXPECT_GE(outcome.decision.deployed_scores->macro_f1, 0.9);
  EXPECT_EQ(std::count_if(progress.begin(), progress.end(),
                          [](const std::string& line) { return line.starts_with("imported the deployed model"); }),
            1);
  const std::string log = ReadFile((label_dir() / "decisions.jsonl").string());
  EXPECT_EQ(std::count(log.begin(), log.end(), '\n'), 3) << log;
  // And the imported model can be rolled back to when the new one replaced it.
  if (outcome.decision.accepted()) {
    EXPECT_EQ(Rollback({.label = "department", .models_dir = models_dir(), .to = std::nullopt, .reason = "x"})
                  .decision.dataset_version,
              "v20251030_115000");
  }
}

// A version the earlier release decided (a rejected one: no candidate of it was kept) is answered from
// the imported decisions.jsonl, not trained again.
TEST_F(EarlierModelsTest, AVersionTheEarlierReleaseDecidedIsNotTrainedAgain) {
  const std::string rejected =
      R"({"time":"2025-10-31T09:00:00.000Z","label":"department","dataset_version":"v1","model_version":"m1",)"
      R"("decision":"rejected","new":{"macro_f1":0.5,"accuracy":0.5},"deployed":{"macro_f1":0.9,"accuracy":0.9},)"
      R"("deployed_version":"m20251030_115250","decision_threshold":0.001,"reason":"worse"})";
  WriteFile((label_dir() / "decisions.jsonl").string(), std::string(kEarlierLine) + rejected + "\n");
  testing::PublishVersion(
      work_.path() / "hub" / "department", "v1",
      {.labels_json = R"({"school": 0, "road": 1})", .train = Rows(60), .validation = Rows(20), .test = Rows(20)});
  std::vector<std::string> progress;
  RetrainRequest request{.label = "department",
                         .dataset_dir = work_.path() / "hub" / "department",
                         .models_dir = models_dir(),
                         .version = std::nullopt,
                         .decision_threshold = 0.001,
                         .search = {},
                         .progress = [&](std::string_view line) { progress.emplace_back(line); }};
  const RetrainOutcome outcome = Retrain(request);
  EXPECT_EQ(outcome.earlier_decision, rejected);
  EXPECT_EQ(std::count_if(progress.begin(), progress.end(),
                          [](const std::string& line) { return line.starts_with("search round"); }),
            0);
  EXPECT_EQ(LocalRepository(label_dir()).HeadOf("v1"), std::nullopt) << "nothing published";
}

}  // namespace
}  // namespace orch
