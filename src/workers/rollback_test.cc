#include "workers/rollback.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <sstream>

#include "hub/local_repository.h"
#include "support/dataset_repository.h"
#include "support/error_of.h"
#include "support/interfering_repository.h"
#include "support/temp_dir.h"
#include "support/tiny_search.h"
#include "support/yaml_read_back.h"
#include "util/error.h"
#include "workers/retrain.h"

namespace orch {
namespace {

namespace fs = std::filesystem;
using testing::MessageOf;
using testing::ReadFile;
using testing::TempDir;
using testing::WorkerErrorOf;
using testing::WriteFile;

constexpr const char* kLabels = R"({"road": 0, "school": 1})";

// Two classes with words of their own; `seed` varies the rows, so each version trains its own model.
std::string SplitJsonl(size_t count, uint32_t seed) {
  const std::vector<std::vector<std::string>> own = {{"road", "pothole", "bridge"}, {"school", "teacher", "exam"}};
  const std::vector<std::string> shared = {"please", "ward", "our", "help", "since", "days"};
  std::mt19937 random(seed);
  std::string jsonl;
  for (size_t i = 0; i < count; ++i) {
    std::string text;
    for (int word = 0; word < 4; ++word) {
      const std::vector<std::string>& pool = word % 2 == 0 ? own[i % 2] : shared;
      text += (text.empty() ? "" : " ") + pool[random() % pool.size()];
    }
    jsonl += nlohmann::json({{"grievance", text}, {"label", i % 2}}).dump() + "\n";
  }
  return jsonl;
}

class RollbackTest : public ::testing::Test {
 protected:
  fs::path dataset_dir() const { return work_.path() / "hub" / "department"; }
  fs::path models_dir() const { return work_.path() / "models"; }
  fs::path label_models() const { return models_dir() / "department"; }

  // Publishes `version` and retrains on it with `threshold` (-1: the new model is always deployed).
  RetrainOutcome Train(const std::string& version, double threshold = -1) {
    const uint32_t seed = static_cast<uint32_t>(std::hash<std::string>{}(version));
    testing::PublishVersion(dataset_dir(), version,
                            {.labels_json = kLabels,
                             .train = SplitJsonl(60 + seed % 20, seed),
                             .validation = SplitJsonl(20, seed + 1),
                             .test = SplitJsonl(20, seed + 2)});
    return Retrain({.label = "department",
                    .dataset_dir = dataset_dir(),
                    .models_dir = models_dir(),
                    .version = std::nullopt,
                    .decision_threshold = threshold,
                    .search = testing::TinySearch(),
                    .progress = {}});
  }

  RollbackRequest Request(std::optional<std::string> to = std::nullopt, std::string reason = "") const {
    return {.label = "department", .models_dir = models_dir(), .to = std::move(to), .reason = std::move(reason)};
  }

  LocalRepository& Models() {
    if (!repository_) repository_.emplace(label_models());
    return *repository_;
  }
  std::string Head(const std::string& revision) { return Models().HeadOf(revision).value_or("(none)"); }
  std::string At(const std::string& revision, const std::string& path) {
    return Models().ReadFile(revision, path, 1 << 26).value_or("(missing)");
  }
  std::string Oid(const std::string& revision, const std::string& path) {
    for (const RepositoryFile& file : Models().ListFiles(revision))
      if (file.path == path) return file.oid;
    return "(missing)";
  }
  std::string DeployedVersion() { return ParseModelCard(At("main", "model.json"), "model.json").dataset_version; }
  nlohmann::json LastDecision() {
    std::istringstream lines(At("main", "decisions.jsonl"));
    std::string line, last;
    while (std::getline(lines, line)) last = line;
    return nlohmann::json::parse(last);
  }
  size_t DecisionCount() {
    const std::string text = At("main", "decisions.jsonl");
    return static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
  }

  TempDir work_{"orch-rollback"};
  std::optional<LocalRepository> repository_;
};

TEST_F(RollbackTest, GoesBackToTheModelDeployedBeforeAndRecordsWhy) {
  Train("v1");
  Train("v2");
  const RetrainOutcome v3 = Train("v3");
  ASSERT_EQ(DeployedVersion(), "v3");
  const RollbackOutcome outcome = Rollback(Request(std::nullopt, "v3 misroutes water complaints"));

  EXPECT_TRUE(outcome.changed);
  EXPECT_EQ(outcome.decision.kind, DecisionKind::kRolledBack);
  EXPECT_EQ(outcome.decision.dataset_version, "v2");
  EXPECT_EQ(outcome.decision.deployed_dataset_version, "v3");
  EXPECT_EQ(outcome.decision.deployed_version, v3.decision.model_version);
  EXPECT_EQ(outcome.decision.candidate, Head("v2"));
  EXPECT_EQ(outcome.main_commit, Head("main"));
  // main holds v2's files again, byte for byte.
  EXPECT_EQ(DeployedVersion(), "v2");
  EXPECT_EQ(Oid("main", "model.bin"), Oid("v2", "model.bin"));
  EXPECT_EQ(At("main", "model.json"), At("v2", "model.json"));
  // The decision history and the card say what happened and why.
  EXPECT_EQ(DecisionCount(), 4u);
  const nlohmann::json line = LastDecision();
  EXPECT_EQ(line, ModelDecisionJson(outcome.decision));
  EXPECT_EQ(line["decision"], "rolled_back");
  EXPECT_EQ(line["reason"], "v3 misroutes water complaints");
  const std::string readme = At("main", "README.md");
  EXPECT_NE(readme.find("| rolled_back | `v2` |"), std::string::npos) << readme;
  EXPECT_NE(readme.find("| v3 misroutes water complaints |"), std::string::npos) << readme;
  const nlohmann::json yaml = testing::ReadYaml(readme, /*front_matter=*/true);
  const ModelCard v2 = ParseModelCard(At("v2", "model.json"), "v2");
  EXPECT_DOUBLE_EQ(yaml["model-index"][0]["results"][0]["metrics"][0]["value"].get<double>(), v2.metrics.macro_f1);
  EXPECT_EQ(yaml["model-index"][0]["results"][0]["dataset"]["name"], "department v2");
  // The next retrain weighs its model against the one rolled back to.
  EXPECT_EQ(Train("v4", 0.001).decision.deployed_dataset_version, "v2");
}

// Each rollback without a version undoes one more deployment, until there is nothing left; --to
// still deploys any candidate, and the next rollback undoes that.
TEST_F(RollbackTest, ASecondRollbackGoesFurtherBackNotForth) {
  Train("v1");
  Train("v2");
  Train("v3");
  EXPECT_EQ(Rollback(Request()).decision.dataset_version, "v2");
  EXPECT_EQ(Rollback(Request()).decision.dataset_version, "v1");
  const std::string main = Head("main");
  const std::string nothing = WorkerErrorOf([&] { Rollback(Request()); });
  EXPECT_NE(nothing.find("nothing to roll back to: no model of department deployed before the one trained on v1"),
            std::string::npos)
      << nothing;
  EXPECT_NE(nothing.find("name one with --to VERSION (candidates, newest last: v1, v2, v3)"), std::string::npos)
      << nothing;
  EXPECT_EQ(Head("main"), main);
  EXPECT_EQ(Rollback(Request("v3")).decision.dataset_version, "v3");
  EXPECT_EQ(DeployedVersion(), "v3");
  Train("v4");
  EXPECT_EQ(Rollback(Request()).decision.dataset_version, "v3") << "v3 was deployed again before v4";
  EXPECT_EQ(Rollback(Request()).decision.dataset_version, "v1");
  // A rollback by name to a model deployed before undoes the deployments after it.
  Train("v5");
  Train("v6");
  EXPECT_EQ(Rollback(Request("v1")).decision.dataset_version, "v1");
  EXPECT_NE(WorkerErrorOf([&] { Rollback(Request()); }).find("nothing to roll back to"), std::string::npos);
}

TEST_F(RollbackTest, ToARejectedCandidateDeploysIt) {
  Train("v1");
  const RetrainOutcome rejected = Train("v2", /*threshold=*/2);
  ASSERT_FALSE(rejected.decision.accepted());
  ASSERT_EQ(DeployedVersion(), "v1");
  const RollbackOutcome outcome = Rollback(Request("v2", "reviewers prefer it"));
  EXPECT_EQ(DeployedVersion(), "v2");
  EXPECT_EQ(Oid("main", "model.bin"), Oid("v2", "model.bin"));
  EXPECT_EQ(outcome.decision.candidate, rejected.candidate_commit);
  // And back to v1, the one deployed before it.
  EXPECT_EQ(Rollback(Request()).decision.dataset_version, "v1");
}

TEST_F(RollbackTest, ToTheDeployedModelChangesNothing) {
  Train("v1");
  Train("v2");
  const std::string main = Head("main");
  const RollbackOutcome outcome = Rollback(Request("v2"));
  EXPECT_FALSE(outcome.changed);
  EXPECT_EQ(outcome.main_commit, main);
  EXPECT_EQ(Head("main"), main);
  EXPECT_EQ(DecisionCount(), 2u);
}

TEST_F(RollbackTest, UnknownVersionsLabelsAndNothingDeployedAreClearErrors) {
  const std::string no_models = MessageOf<ConfigError>([&] { Rollback(Request()); });
  EXPECT_NE(no_models.find("the label department has no models in " + models_dir().string()), std::string::npos)
      << no_models;
  EXPECT_NE(no_models.find(models_dir().string() + " holds no label's models): check --label and --models"),
            std::string::npos)
      << no_models;
  EXPECT_FALSE(fs::exists(label_models())) << "nothing made for a label without models";

  Train("v1");
  const std::string other = MessageOf<ConfigError>(
      [&] { Rollback({.label = "urgency", .models_dir = models_dir(), .to = std::nullopt, .reason = ""}); });
  EXPECT_NE(other.find("labels with models there: department"), std::string::npos) << other;
  EXPECT_THROW(Rollback({.label = "Urgency!", .models_dir = models_dir(), .to = std::nullopt, .reason = ""}),
               ConfigError);

  const std::string unknown = MessageOf<ConfigError>([&] { Rollback(Request("v9")); });
  EXPECT_EQ(unknown, "no model of department was trained on the dataset version v9: " + label_models().string() +
                         " has no candidate tagged v9 (candidates, newest last: v1)");
  EXPECT_THROW(Rollback(Request("../v1")), ConfigError);
  const std::string alone = WorkerErrorOf([&] { Rollback(Request()); });
  EXPECT_NE(alone.find("nothing to roll back to"), std::string::npos) << alone;
  EXPECT_EQ(DecisionCount(), 1u);
}

TEST_F(RollbackTest, ADamagedCandidateIsNotDeployed) {
  Train("v1");
  Train("v2");
  const std::string main = Head("main");
  const fs::path stored = Models().StoredFile(Head("v1"), "model.bin");
  fs::permissions(stored, fs::perms::owner_write, fs::perm_options::add);
  WriteFile(stored.string(), ReadFile(stored.string()).substr(0, 80));
  const std::string error = WorkerErrorOf([&] { Rollback(Request()); });
  EXPECT_NE(error.find("the candidate tagged v1 cannot be deployed: "), std::string::npos) << error;
  EXPECT_NE(error.find(" is truncated: its 80 bytes end inside "), std::string::npos) << error;
  EXPECT_EQ(Head("main"), main);
}

// A deployed model that cannot be read is a reason to roll back, not an obstacle: the history says
// which model it is.
TEST_F(RollbackTest, ADamagedDeployedModelIsRolledBackFrom) {
  Train("v1");
  Train("v2");
  const fs::path stored = Models().StoredFile(Head("main"), "model.json");
  fs::permissions(stored, fs::perms::owner_write, fs::perm_options::add);
  WriteFile(stored.string(), "{");
  const RollbackOutcome outcome = Rollback(Request());
  EXPECT_EQ(outcome.decision.dataset_version, "v1");
  EXPECT_EQ(outcome.decision.deployed_dataset_version, "v2");
  EXPECT_FALSE(outcome.decision.deployed_version.has_value());
  EXPECT_EQ(DeployedVersion(), "v1");
}

TEST_F(RollbackTest, AMainThatMovesMeanwhileIsReadAgainOnce) {
  Train("v1");
  Train("v2");
  LocalRepository local(label_models());
  const auto another_commit = [&] {
    CommitRequest other;
    other.summary = "another writer's commit";
    other.additions = {FileAddition::FromBytes("NOTES.md", "a note\n")};
    local.Commit(other);
  };
  testing::InterferingRepository once(local);
  once.InterfereWithCommits("main", 1, another_commit);
  ModelRepository moving(once, "department");
  EXPECT_EQ(RollbackIn(moving, Request()).decision.dataset_version, "v1");
  EXPECT_EQ(once.commits_to("main"), 2);
  EXPECT_EQ(At("main", "NOTES.md"), "a note\n");
  EXPECT_EQ(DeployedVersion(), "v1");

  testing::InterferingRepository twice(local);
  twice.InterfereWithCommits("main", 2, another_commit);
  ModelRepository stuck(twice, "department");
  const std::string error = WorkerErrorOf([&] { RollbackIn(stuck, Request("v2")); });
  EXPECT_NE(error.find("moved twice while the rollback was being committed, so nothing was rolled back"),
            std::string::npos)
      << error;
  EXPECT_EQ(DeployedVersion(), "v1");
}

}  // namespace
}  // namespace orch
