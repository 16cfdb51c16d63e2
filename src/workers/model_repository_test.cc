#include "workers/model_repository.h"

#include <gtest/gtest.h>

#include <set>

#include "hub/local_repository.h"
#include "support/error_of.h"
#include "support/interfering_repository.h"
#include "support/temp_dir.h"
#include "support/yaml_read_back.h"
#include "util/error.h"

namespace orch {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::WorkerErrorOf;

class ModelRepositoryTest : public ::testing::Test {
 protected:
  ModelRepositoryTest() {
    std::vector<SplitRow> rows;
    for (int i = 0; i < 30; ++i) rows.push_back({i % 2 ? "road pothole bridge" : "school teacher", i % 2});
    FastTextClassifier::Train(
        rows,
        {.epochs = 5, .learning_rate = 0.5, .word_ngrams = 1, .dimension = 8, .buckets = 0, .threads = 1, .seed = 1})
        .Save(model_file());
    local_.CreateIfMissing();
  }

  fs::path model_file() const { return scratch_.path() / "model.bin"; }
  ModelCard Card(const std::string& dataset_version) const {
    ModelCard card;
    card.label = "department";
    card.model_version = "m_" + dataset_version;
    card.dataset_version = dataset_version;
    card.label_map = {{0, "school"}, {1, "road"}};
    return card;
  }
  std::set<std::string> Paths(const std::string& revision) {
    std::set<std::string> paths;
    for (const RepositoryFile& file : local_.ListFiles(revision)) paths.insert(file.path);
    return paths;
  }

  TempDir dir_{"orch-model-repository"};
  TempDir scratch_{"orch-model-repository-scratch"};
  LocalRepository local_{dir_.path() / "department"};
  ModelRepository models_{local_, "department"};
};

TEST_F(ModelRepositoryTest, TheFirstCandidateMakesMainAndTheCandidatesBranch) {
  EXPECT_FALSE(models_.ReadMain().commit.has_value());
  const std::string commit = models_.PublishCandidate(model_file(), Card("v1"));
  EXPECT_EQ(local_.HeadOf("v1"), commit);
  EXPECT_EQ(local_.HeadOf("candidates"), commit);
  EXPECT_EQ(Paths("v1"), (std::set<std::string>{"README.md", "model.bin", "model.json"}));

  // main: the card of a repository without a model, and nothing deployed.
  const MainSnapshot main = models_.ReadMain();
  ASSERT_TRUE(main.commit.has_value());
  EXPECT_FALSE(main.has_model);
  EXPECT_EQ(main.decisions, "");
  EXPECT_EQ(Paths("main"), std::set<std::string>{"README.md"});
  const nlohmann::json yaml = testing::ReadYaml(local_.ReadFile("main", "README.md", 1 << 20).value(), true);
  EXPECT_EQ(yaml["library_name"], "fasttext");
  EXPECT_FALSE(yaml.contains("model-index"));

  EXPECT_EQ(models_.ReadCard(commit, "v1").model_version, "m_v1");
  EXPECT_EQ(models_.LoadModel(commit, "v1").Predict("road").label, 1);
  EXPECT_EQ(models_.CandidateCommit("v1"), commit);
  EXPECT_EQ(models_.CandidateCommit("v2"), std::nullopt);
  EXPECT_EQ(models_.CandidateCommit("main"), std::nullopt) << "a branch is no candidate";
}

TEST_F(ModelRepositoryTest, ACandidateHoldsItselfAloneAndIsPublishedOnce) {
  // main with more files than a candidate has: candidates starts from it, a candidate drops them.
  models_.CommitToMain(std::nullopt, "a main of its own", "",
                       {FileAddition::FromBytes("decisions.jsonl", "{}\n"), FileAddition::FromBytes("notes.txt", "x")});
  const std::string v1 = models_.PublishCandidate(model_file(), Card("v1"));
  EXPECT_EQ(Paths("v1"), (std::set<std::string>{"README.md", "model.bin", "model.json"}));
  const std::string v2 = models_.PublishCandidate(model_file(), Card("v2"));
  EXPECT_NE(v2, v1);
  EXPECT_EQ(local_.HeadOf("candidates"), v2);
  EXPECT_EQ(local_.HeadOf("v1"), v1) << "tags never move";

  const std::string again = WorkerErrorOf([&] { models_.PublishCandidate(model_file(), Card("v1")); });
  EXPECT_NE(again.find("a model trained on v1 was published in " + local_.Name() + " meanwhile (the tag v1 exists)"),
            std::string::npos)
      << again;
  EXPECT_EQ(local_.HeadOf("v1"), v1);
  EXPECT_THROW(models_.PublishCandidate(model_file(), Card("candidates")), WorkerError);
  EXPECT_THROW(models_.PublishCandidate(model_file(), Card("../v3")), WorkerError);
}

TEST_F(ModelRepositoryTest, ACandidatesBranchThatMovesIsReadAgainOnce) {
  models_.PublishCandidate(model_file(), Card("v1"));
  const auto another_candidate = [&] {
    CommitRequest other;
    other.branch = "candidates";
    other.summary = "another writer's candidate";
    other.additions = {FileAddition::FromBytes("README.md", "other\n")};
    local_.Commit(other);
  };
  testing::InterferingRepository once(local_);
  once.InterfereWithCommits("candidates", 1, another_candidate);
  ModelRepository moving(once, "department");
  const std::string v2 = moving.PublishCandidate(model_file(), Card("v2"));
  EXPECT_EQ(once.commits_to("candidates"), 2);
  EXPECT_EQ(local_.HeadOf("v2"), v2);

  testing::InterferingRepository twice(local_);
  twice.InterfereWithCommits("candidates", 2, another_candidate);
  ModelRepository stuck(twice, "department");
  EXPECT_THROW(stuck.PublishCandidate(model_file(), Card("v3")), StaleParentError);
  EXPECT_EQ(local_.HeadOf("v3"), std::nullopt);
}

TEST_F(ModelRepositoryTest, MissingFilesAreNamedAsTheRepositorysFiles) {
  EXPECT_EQ(models_.Where("main", "model.bin"), local_.Name() + "/model.bin");
  EXPECT_EQ(models_.Where("v1", "model.bin"), local_.Name() + "@v1/model.bin");
  const std::string main =
      models_.CommitToMain(std::nullopt, "no model", "", {FileAddition::FromBytes("README.md", "")});
  EXPECT_EQ(WorkerErrorOf([&] { models_.ReadCard(main, "main"); }), local_.Name() + "/model.json is missing (commit " +
                                                                        main.substr(0, 12) +
                                                                        " has no model.json): the model is incomplete");
  EXPECT_EQ(WorkerErrorOf([&] { models_.LoadModel(main, "main"); }), local_.Name() + "/model.bin is missing (commit " +
                                                                         main.substr(0, 12) +
                                                                         " has no model.bin): the model is incomplete");
  EXPECT_THROW(models_.DownloadModel(main, "main", scratch_.path() / "copy.bin"), WorkerError);
  EXPECT_THROW(models_.CommitToMain(std::string(40, '0'), "stale", "", {}), StaleParentError);
}

}  // namespace
}  // namespace orch
