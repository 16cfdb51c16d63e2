// `orchestrator retrain`, `orchestrator predict` and `orchestrator rollback` as a user runs them: the
// real binary on a local dataset hub and models directory. Retrain deploys, predict answers with class
// names through its cache, a second retrain that does not clear DECISION_THRESHOLD is rejected but
// kept as a candidate, a version is never trained twice, rollback deploys a candidate again and
// predict follows, and a malformed hub leaves main and its decisions.jsonl as they were.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "hub/local_repository.h"
#include "support/dataset_repository.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"

namespace orch {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::ProcessResult;
using testing::ReadFile;
using testing::Subprocess;
using testing::TempDir;
using testing::WriteFile;
using Env = std::map<std::string, std::string>;

constexpr const char* kLabels =
    R"({"Infrastructure, Utilities & Natural Resources": 0, "Education, Health & Social Welfare": 1, "Security & Law Enforcement": 2})";

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

class RetrainCliTest : public ::testing::Test {
 protected:
  fs::path dataset_dir() const { return work_.path() / "hub" / "department"; }
  fs::path models_dir() const { return work_.path() / "models"; }
  fs::path label_models() const { return models_dir() / "department"; }

  // Publishes a version the way the prepare worker does: the data, then the metadata, then the tag.
  void Publish(const std::string& version, size_t train_rows = 240, std::optional<std::string> metadata = {}) {
    testing::PublishVersion(dataset_dir(), version,
                            {.labels_json = kLabels,
                             .train = testing::DepartmentSplitJsonl(train_rows, 1),
                             .validation = testing::DepartmentSplitJsonl(30, 2),
                             .test = testing::DepartmentSplitJsonl(30, 3),
                             .metadata_json = std::move(metadata)});
  }

  ProcessResult Run(std::vector<std::string> args, Env env = {}, std::optional<std::string> stdin_text = std::nullopt) {
    args.insert(args.begin(), ORCH_BINARY);
    ProcessResult result = Subprocess::Run(args, env, work_.path().string(), 120s, std::move(stdin_text));
    EXPECT_FALSE(result.timed_out);
    return result;
  }

  ProcessResult Retrain(Env env = {}, bool json = true) {
    std::vector<std::string> args = {
        "retrain", "--label", "department", "--dataset", dataset_dir().string(), "--models", models_dir().string()};
    if (json) args.push_back("--json");
    return Run(args, std::move(env));
  }

  // main's model.json (the directory holds main's files).
  nlohmann::json Deployed() const {
    return nlohmann::json::parse(ReadFile((label_models() / "model.json").string()), nullptr, false);
  }
  std::string Current() const { return Deployed().value("model_version", "(none)"); }
  std::string Main() const { return LocalRepository(label_models()).HeadOf("main").value_or("(none)"); }
  std::string Decisions() const { return ReadFile((label_models() / "decisions.jsonl").string()); }

  ProcessResult Predict(const std::vector<std::string>& texts, Env env = {}) {
    std::vector<std::string> args = {"predict", "--label", "department", "--models", models_dir().string()};
    args.insert(args.end(), texts.begin(), texts.end());
    return Run(args, std::move(env));
  }
  ProcessResult Rollback(std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"rollback", "--label", "department", "--models", models_dir().string()};
    args.insert(args.end(), more.begin(), more.end());
    return Run(args);
  }

  TempDir work_{"orch-retrain-cli"};
};

TEST_F(RetrainCliTest, RetrainDeploysAndPredictAnswers) {
  Publish("v20261126_101502");
  ProcessResult retrain = Retrain();
  ASSERT_EQ(retrain.exit_code, 0) << retrain.err;
  std::vector<std::string> out = Lines(retrain.out);
  ASSERT_EQ(out.size(), 1u) << retrain.out;  // --json: the decision line alone
  nlohmann::json decision = nlohmann::json::parse(out[0]);
  EXPECT_EQ(decision["decision"], "accepted");
  EXPECT_EQ(decision["label"], "department");
  EXPECT_EQ(decision["dataset_version"], "v20261126_101502");
  EXPECT_TRUE(decision["deployed"].is_null());
  EXPECT_EQ(decision["decision_threshold"], 0.001);
  EXPECT_GE(decision["new"]["macro_f1"].get<double>(), 0.9);
  EXPECT_EQ(Current(), decision["model_version"].get<std::string>());
  EXPECT_EQ(Deployed()["dataset_version"], "v20261126_101502");
  EXPECT_EQ(decision["candidate"], LocalRepository(label_models()).HeadOf("v20261126_101502").value_or(""));
  EXPECT_EQ(Decisions(), out[0] + "\n");
  EXPECT_TRUE(Contains(retrain.err, "search round 1")) << retrain.err;  // progress goes to stderr
  EXPECT_TRUE(Contains(retrain.err, "published the new model as the candidate tagged v20261126_101502")) << retrain.err;

  ProcessResult named = Run({"predict", "--label", "department", "--models", models_dir().string(),
                             "The ROAD near our ward has a pothole!", "<b>विद्यालय</b> शिक्षक https://example.org/x"});
  ASSERT_EQ(named.exit_code, 0) << named.err;
  EXPECT_EQ(Lines(named.out), (std::vector<std::string>{"Infrastructure, Utilities & Natural Resources",
                                                        "Education, Health & Social Welfare"}));

  ProcessResult piped = Run({"predict", "--label", "department", "--models", models_dir().string(), "--json"}, {},
                            "police theft\r\nbridge\n\n");
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  std::vector<std::string> answers = Lines(piped.out);
  ASSERT_EQ(answers.size(), 3u) << piped.out;  // one answer per line, the empty one included
  nlohmann::json police = nlohmann::json::parse(answers[0]);
  EXPECT_EQ(police["label"], "Security & Law Enforcement");
  EXPECT_EQ(police["id"], 2);
  EXPECT_GT(police["probability"].get<double>(), 0.5);
  EXPECT_LE(police["probability"].get<double>(), 1.0);
  EXPECT_EQ(nlohmann::json::parse(answers[1])["id"], 0);

  // A last line without its line break is a text too; a text over 1 MiB is refused, after the
  // answers before it.
  ProcessResult unterminated =
      Run({"predict", "--label", "department", "--models", models_dir().string()}, {}, "police theft\nbridge");
  EXPECT_EQ(Lines(unterminated.out).size(), 2u) << unterminated.out;
  const std::string exactly_max(1 << 20, 'x');
  ProcessResult largest =
      Run({"predict", "--label", "department", "--models", models_dir().string()}, {}, exactly_max + "\nbridge\n");
  EXPECT_EQ(largest.exit_code, 0) << largest.err;
  EXPECT_EQ(Lines(largest.out).size(), 2u);
  ProcessResult huge = Run({"predict", "--label", "department", "--models", models_dir().string()}, {},
                           "bridge\n" + exactly_max + "y\nroad\n");
  EXPECT_EQ(huge.exit_code, 1) << huge.err;
  EXPECT_EQ(Lines(huge.out).size(), 1u) << "the answer before the long line was printed";
  EXPECT_TRUE(Contains(huge.err, "line 2 of the standard input is longer than 1048576 bytes")) << huge.err;
}

TEST_F(RetrainCliTest, AModelThatDoesNotClearTheThresholdIsRejected) {
  Publish("v1");
  ProcessResult first = Retrain();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  std::string deployed = Current();
  Publish("v2");
  ProcessResult second = Retrain({{"DECISION_THRESHOLD", "0.99"}}, /*json=*/false);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_TRUE(Contains(second.out, "department: rejected the model trained on v2")) << second.out;
  EXPECT_TRUE(Contains(
      second.out, "kept " + deployed + " (trained on v1) deployed; the new model is kept as the candidate tagged v2"))
      << second.out;
  EXPECT_EQ(Current(), deployed);
  std::vector<std::string> decisions = Lines(Decisions());
  ASSERT_EQ(decisions.size(), 2u);
  nlohmann::json rejected = nlohmann::json::parse(decisions[1]);
  EXPECT_EQ(rejected["decision"], "rejected");
  EXPECT_EQ(rejected["decision_threshold"], 0.99);
  EXPECT_EQ(rejected["deployed_version"], deployed);
  EXPECT_TRUE(rejected["deployed"]["macro_f1"].is_number());
}

TEST_F(RetrainCliTest, AVersionIsNeverTrainedTwice) {
  Publish("v1");
  ProcessResult first = Retrain();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::string main = Main();
  ProcessResult repeat = Retrain();  // a resumed pass sends the same request again
  ASSERT_EQ(repeat.exit_code, 0) << repeat.err;
  EXPECT_TRUE(Contains(repeat.err,
                       "dataset v1 was trained and decided already (the candidate tagged v1); not "
                       "training it again"))
      << repeat.err;
  EXPECT_FALSE(Contains(repeat.err, "search round")) << repeat.err;
  EXPECT_EQ(nlohmann::json::parse(repeat.out), nlohmann::json::parse(first.out));
  EXPECT_EQ(Lines(Decisions()).size(), 1u);
  EXPECT_EQ(Main(), main);
  ProcessResult text = Retrain({}, /*json=*/false);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_TRUE(text.out.starts_with("already decided: {")) << text.out;
  // There is no way to train it again: --force is gone.
  ProcessResult forced = Run({"retrain", "--force", "--json", "--label", "department", "--dataset",
                              dataset_dir().string(), "--models", models_dir().string()});
  EXPECT_EQ(forced.exit_code, 2) << forced.err;
  EXPECT_EQ(Main(), main);
}

TEST_F(RetrainCliTest, AMalformedHubLeavesTheDeployedModelAlone) {
  Publish("v1");
  ASSERT_EQ(Retrain().exit_code, 0);
  std::string deployed = Current();
  std::string decisions = Decisions();
  const std::string main = Main();

  testing::PublishVersion(dataset_dir(), "v2",
                          {.labels_json = kLabels,
                           .train = testing::DepartmentSplitJsonl(240, 1).substr(
                               0, testing::DepartmentSplitJsonl(240, 1).size() - 15),  // cut short
                           .validation = testing::DepartmentSplitJsonl(30, 2),
                           .test = testing::DepartmentSplitJsonl(30, 3),
                           .metadata_json = R"({"dataset_name": "department", "version_tag": "v2"})"});
  ProcessResult truncated = Retrain();
  EXPECT_EQ(truncated.exit_code, 1);
  EXPECT_EQ(truncated.out, "");
  EXPECT_TRUE(Contains(truncated.err, dataset_dir().string() + "@v2/data/train.jsonl line 240: the line is cut short"))
      << truncated.err;

  ProcessResult missing = Run({"retrain", "--json", "--label", "department", "--dataset",
                               dataset_dir().string() + "@v3", "--models", models_dir().string()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(Contains(missing.err, "version v3 of the department dataset does not exist in " + dataset_dir().string() +
                                        " (the latest is v2)"))
      << missing.err;

  EXPECT_EQ(Current(), deployed);
  EXPECT_EQ(Decisions(), decisions);
  EXPECT_EQ(Main(), main);
  ProcessResult predict = Run({"predict", "--label", "department", "--models", models_dir().string(), "pothole"});
  EXPECT_EQ(predict.exit_code, 0) << predict.err;
}

TEST_F(RetrainCliTest, AVersionIsNamedAfterTheRepositoryAndReadAtItsTag) {
  Publish("v1", 150);
  Publish("v2");
  ProcessResult result = Run({"retrain", "--json", "--label", "department", "--dataset", dataset_dir().string() + "@v1",
                              "--models", models_dir().string()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(nlohmann::json::parse(result.out)["dataset_version"], "v1");
  EXPECT_TRUE(Contains(result.err, "dataset v1: 150 train, 30 validation, 30 test rows")) << result.err;

  ProcessResult both = Run({"retrain", "--label", "department", "--dataset", dataset_dir().string() + "@v1",
                            "--version", "v2", "--models", models_dir().string()});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_TRUE(Contains(both.err, "names the version v1, and --version v2")) << both.err;
}

TEST_F(RetrainCliTest, AHubOfAnEarlierReleaseSaysToPublishAgain) {
  fs::create_directories(dataset_dir() / "v20251030_115250");
  WriteFile((dataset_dir() / "v20251030_115250" / "eval.jsonl").string(), testing::DepartmentSplitJsonl(30, 2));
  WriteFile((dataset_dir() / "dataset_metadata.json").string(), R"({"version_tag": "v20251030_115250"})");
  ProcessResult result = Retrain();
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(Contains(result.err, "holds no dataset repository")) << result.err;
  EXPECT_TRUE(Contains(result.err, "run orchestrator prepare")) << result.err;
  EXPECT_FALSE(fs::exists(label_models()));
}

TEST_F(RetrainCliTest, PredictWithoutAModelSaysToRetrainFirst) {
  ProcessResult result = Run({"predict", "--label", "department", "--models", models_dir().string(), "road"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_EQ(result.out, "");
  EXPECT_TRUE(Contains(result.err, "run `orchestrator retrain --label department")) << result.err;
}

TEST_F(RetrainCliTest, BadUsageExitsTwo) {
  Publish("v1");
  EXPECT_EQ(
      Run({"retrain", "--label", "Department!", "--dataset", dataset_dir().string(), "--models", models_dir().string()})
          .exit_code,
      2);
  EXPECT_EQ(Run({"retrain", "--label", "department", "--dataset", dataset_dir().string(), "--models",
                 models_dir().string(), "--version", "../v1"})
                .exit_code,
            2);
  EXPECT_EQ(Retrain({{"DECISION_THRESHOLD", "lots"}}).exit_code, 2);
  EXPECT_FALSE(fs::exists(label_models()));
}

// Predict reads main once per commit into its cache ($XDG_CACHE_HOME/orchestrator/models or
// --cache), and follows a new deployment: here a rollback, which the decision history records.
TEST_F(RetrainCliTest, RollbackRedeploysACandidateAndPredictFollows) {
  Publish("v1");
  ASSERT_EQ(Retrain().exit_code, 0);
  const std::string v1_model = Current();
  Publish("v2", 90);
  ASSERT_EQ(Retrain({{"DECISION_THRESHOLD", "0.99"}}).exit_code, 0);
  ASSERT_EQ(Current(), v1_model) << "v2 was rejected";

  const fs::path cache = work_.path() / "cache";
  const Env env = {{"XDG_CACHE_HOME", cache.string()}};
  const std::string v1_main = Main();
  ProcessResult before = Predict({"pothole"}, env);
  ASSERT_EQ(before.exit_code, 0) << before.err;
  const fs::path entries = cache / "orchestrator" / "models";
  ASSERT_TRUE(fs::is_directory(entries));
  const fs::path key = fs::directory_iterator(entries)->path();
  EXPECT_TRUE(fs::is_regular_file(key / v1_main / "model.bin")) << "cached by main's commit";

  ProcessResult rolled = Rollback({"--to", "v2", "--reason", "reviewers prefer v2", "--json"});
  ASSERT_EQ(rolled.exit_code, 0) << rolled.err;
  const nlohmann::json line = nlohmann::json::parse(rolled.out);
  EXPECT_EQ(line["decision"], "rolled_back");
  EXPECT_EQ(line["dataset_version"], "v2");
  EXPECT_EQ(line["deployed_dataset_version"], "v1");
  EXPECT_EQ(line["reason"], "reviewers prefer v2");
  EXPECT_EQ(nlohmann::json::parse(Lines(Decisions()).back()), line);
  EXPECT_EQ(Deployed()["dataset_version"], "v2");
  EXPECT_TRUE(Contains(ReadFile((label_models() / "README.md").string()), "| rolled_back | `v2` |"));

  ProcessResult after = Predict({"pothole"}, env);
  ASSERT_EQ(after.exit_code, 0) << after.err;
  EXPECT_TRUE(fs::is_regular_file(key / Main() / "model.bin")) << "the new commit is read";
  EXPECT_FALSE(fs::exists(key / v1_main)) << "and the replaced one's entry went";
  ProcessResult elsewhere = Predict({"--cache", (work_.path() / "other-cache").string(), "pothole"});
  ASSERT_EQ(elsewhere.exit_code, 0) << elsewhere.err;
  EXPECT_TRUE(fs::is_directory(work_.path() / "other-cache" / key.filename() / Main()));

  // Without --to: back to the model deployed before, with the text summary.
  ProcessResult back = Rollback({"--reason", "v2 misroutes schools"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  EXPECT_TRUE(Contains(back.out, "department: rolled back to the model trained on v1 (" + v1_model)) << back.out;
  EXPECT_TRUE(Contains(back.out, "replaced the model trained on v2")) << back.out;
  EXPECT_TRUE(Contains(back.out, "reason: v2 misroutes schools")) << back.out;
  EXPECT_EQ(Current(), v1_model);
  ProcessResult same = Rollback({"--to", "v1"});
  EXPECT_EQ(same.exit_code, 0) << same.err;
  EXPECT_TRUE(Contains(same.out, "is deployed already; nothing changed")) << same.out;
  const size_t decisions = Lines(Decisions()).size();

  ProcessResult nothing = Rollback();
  EXPECT_EQ(nothing.exit_code, 1);
  EXPECT_TRUE(Contains(nothing.err, "nothing to roll back to")) << nothing.err;
  ProcessResult unknown = Rollback({"--to", "v9"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(Contains(unknown.err, "has no candidate tagged v9 (candidates, newest last: v1, v2)")) << unknown.err;
  ProcessResult label = Run({"rollback", "--label", "urgency", "--models", models_dir().string()});
  EXPECT_EQ(label.exit_code, 2);
  EXPECT_TRUE(Contains(label.err, "the label urgency has no models in " + models_dir().string())) << label.err;
  EXPECT_TRUE(Contains(label.err, "labels with models there: department")) << label.err;
  EXPECT_EQ(Lines(Decisions()).size(), decisions) << "errors change nothing";
  EXPECT_EQ(Current(), v1_model);
}

}  // namespace
}  // namespace orch
