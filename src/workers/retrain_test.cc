#include "workers/retrain.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <random>
#include <sstream>

#include "hub/local_repository.h"
#include "support/dataset_repository.h"
#include "support/temp_dir.h"
#include "util/error.h"

namespace orch {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

constexpr const char* kLabels = R"({"Infrastructure": 0, "Education": 1, "Security": 2})";

// Three classes with words of their own among shared ones; `shuffle_labels` gives train and validation
// random labels (a dataset a model can learn nothing from), test keeps the true ones.
std::string SplitJsonl(size_t count, uint32_t seed, bool shuffle_labels) {
  const std::vector<std::vector<std::string>> own = {{"road", "pothole", "bridge", "सडक", "पुल"},
                                                     {"school", "teacher", "hospital", "विद्यालय", "अस्पताल"},
                                                     {"police", "theft", "fight", "प्रहरी", "चोरी"}};
  const std::vector<std::string> shared = {"please", "ward", "our", "हाम्रो", "समस्या", "help", "since", "days"};
  std::mt19937 random(seed);
  std::string jsonl;
  for (size_t i = 0; i < count; ++i) {
    int label = static_cast<int>(i % 3);
    std::string text;
    for (int word = 0; word < 6; ++word) {
      const std::vector<std::string>& pool = word % 2 == 0 ? own[label] : shared;
      text += (text.empty() ? "" : " ") + pool[random() % pool.size()];
    }
    int written = shuffle_labels ? static_cast<int>(random() % 3) : label;
    jsonl += nlohmann::json({{"grievance", text}, {"label", written}}).dump() + "\n";
  }
  return jsonl;
}

SearchSpace QuickSearch() {
  return {.word_ngrams = {1, 2},
          .learning_rates = {0.5},
          .epochs = {5},
          .dimension = 16,
          .buckets = 10000,
          .threads = 1,
          .seed = 3,
          .first_round_rows = 4000,
          .screening_validation_rows = 5000};
}

class RetrainTest : public ::testing::Test {
 protected:
  fs::path dataset_dir() const { return hub_.path() / "department"; }
  fs::path label_models() const { return models_.path() / "department"; }

  // Publishes a version as orchestrator prepare does; returns the commit its tag is on.
  std::string Publish(const std::string& version, bool shuffle_labels = false) {
    return testing::PublishVersion(dataset_dir(), version,
                                   {.labels_json = kLabels,
                                    .train = SplitJsonl(240, 1, shuffle_labels),
                                    .validation = SplitJsonl(30, 2, shuffle_labels),
                                    .test = SplitJsonl(60, 3, false)});
  }

  RetrainRequest Request(double threshold = 0.001) const {
    return {.label = "department",
            .dataset_dir = dataset_dir(),
            .models_dir = models_.path(),
            .version = std::nullopt,
            .decision_threshold = threshold,
            .search = QuickSearch(),
            .progress = {}};
  }

  std::vector<nlohmann::json> Decisions() const {
    std::vector<nlohmann::json> lines;
    std::istringstream text(ReadFile((label_models() / "decisions.jsonl").string()));
    for (std::string line; std::getline(text, line);) lines.push_back(nlohmann::json::parse(line));
    return lines;
  }

  std::string Current() const { return fs::read_symlink(label_models() / "current").string(); }

  TempDir hub_{"orch-retrain-hub"};
  TempDir models_{"orch-retrain-models"};
};

TEST_F(RetrainTest, TheFirstModelIsDeployed) {
  Publish("v20261126_101502");
  std::vector<std::string> progress;
  RetrainRequest request = Request();
  request.progress = [&progress](std::string_view message) { progress.emplace_back(message); };
  RetrainOutcome outcome = Retrain(request);

  EXPECT_TRUE(outcome.decision.accepted);
  EXPECT_EQ(outcome.decision.reason, "no model is deployed yet");
  EXPECT_GE(outcome.decision.new_scores.macro_f1, 0.9);
  EXPECT_EQ(Current(), outcome.decision.model_version);
  EXPECT_TRUE(fs::is_regular_file(label_models() / outcome.decision.model_version / "model.bin"));

  ModelCard card = ModelStore(models_.path(), "department").ReadCard(outcome.decision.model_version);
  EXPECT_EQ(card.dataset_version, "v20261126_101502");
  EXPECT_EQ(card.train_rows, 240);
  EXPECT_EQ(card.label_map.at(1), "Education");
  EXPECT_DOUBLE_EQ(card.metrics.macro_f1, outcome.decision.new_scores.macro_f1);
  EXPECT_EQ(card.search_trainings, 2);

  std::vector<nlohmann::json> decisions = Decisions();
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0], RetrainDecisionJson(outcome.decision));
  EXPECT_TRUE(decisions[0]["deployed"].is_null());
  EXPECT_FALSE(progress.empty());
}

TEST_F(RetrainTest, AWorseModelIsNotDeployed) {
  Publish("v1");
  RetrainOutcome good = Retrain(Request());
  ASSERT_TRUE(good.decision.accepted);
  Publish("v2", /*shuffle_labels=*/true);
  RetrainOutcome worse = Retrain(Request());

  EXPECT_FALSE(worse.decision.accepted);
  EXPECT_EQ(worse.decision.dataset_version, "v2");
  EXPECT_EQ(worse.decision.deployed_version, good.decision.model_version);
  ASSERT_TRUE(worse.decision.deployed_scores.has_value());
  // The deployed model is scored on the new version's test split: as good as before.
  EXPECT_GE(worse.decision.deployed_scores->macro_f1, 0.9);
  EXPECT_LT(worse.decision.new_scores.macro_f1, 0.7);
  EXPECT_NE(worse.decision.reason.find("is not more than the threshold"), std::string::npos) << worse.decision.reason;
  EXPECT_EQ(Current(), good.decision.model_version);
  EXPECT_FALSE(fs::exists(label_models() / worse.decision.model_version));  // a rejected model is not kept
  std::vector<nlohmann::json> decisions = Decisions();
  ASSERT_EQ(decisions.size(), 2u);
  EXPECT_EQ(decisions[1]["decision"], "rejected");
  EXPECT_EQ(decisions[1]["deployed_version"], good.decision.model_version);
}

// A version is read at its tag: data committed to main since (a publication that never reached its
// metadata) is not what it trains on.
TEST_F(RetrainTest, TheVersionIsReadAtItsTagWhateverMainHoldsNow) {
  const std::string v1 = Publish("v1");
  LocalRepository repository(dataset_dir());
  CommitRequest newer;
  newer.summary = "data of a publication that stopped before its metadata";
  newer.parent_commit = v1;
  newer.additions = {FileAddition::FromBytes("data/train.jsonl", SplitJsonl(90, 4, false))};
  repository.Commit(newer);
  const RetrainOutcome outcome = Retrain(Request());
  EXPECT_EQ(outcome.decision.dataset_version, "v1");
  EXPECT_EQ(outcome.card.train_rows, 240);
  RetrainRequest chosen = Request();
  chosen.version = "v1";
  chosen.answer_decided = true;
  EXPECT_TRUE(Retrain(chosen).earlier_decision) << "v1 was decided, whichever way it was named";
}

TEST_F(RetrainTest, ABetterModelReplacesTheDeployedOne) {
  Publish("v1", /*shuffle_labels=*/true);
  RetrainOutcome poor = Retrain(Request());
  ASSERT_TRUE(poor.decision.accepted);  // nothing was deployed
  Publish("v2");
  RetrainOutcome better = Retrain(Request());

  EXPECT_TRUE(better.decision.accepted);
  EXPECT_NE(better.decision.model_version, poor.decision.model_version);
  EXPECT_EQ(better.decision.deployed_version, poor.decision.model_version);
  EXPECT_GT(better.decision.new_scores.macro_f1, better.decision.deployed_scores->macro_f1 + 0.2);
  EXPECT_NE(better.decision.reason.find("is more than the threshold"), std::string::npos) << better.decision.reason;
  EXPECT_EQ(Current(), better.decision.model_version);
  EXPECT_TRUE(fs::exists(label_models() / poor.decision.model_version));  // older versions stay
  EXPECT_EQ(Decisions().size(), 2u);
}

TEST_F(RetrainTest, AVersionAlreadyDecidedIsAnsweredWithoutTraining) {
  Publish("v1");
  const RetrainOutcome first = Retrain(Request());
  ASSERT_TRUE(first.decision.accepted);
  RetrainRequest repeat = Request();
  repeat.answer_decided = true;
  const RetrainOutcome again = Retrain(repeat);
  ASSERT_TRUE(again.earlier_decision);
  EXPECT_NE(again.earlier_decision->find("\"dataset_version\":\"v1\""), std::string::npos) << *again.earlier_decision;
  EXPECT_EQ(Decisions().size(), 1u) << "nothing trained, nothing appended";
  EXPECT_EQ(Current(), first.decision.model_version);
}

TEST_F(RetrainTest, TheThresholdIsAGainToBeat) {
  Publish("v1");
  ASSERT_TRUE(Retrain(Request()).decision.accepted);
  // The same data and seed give the same model: a gain of 0, which no threshold >= 0 lets through.
  RetrainOutcome same = Retrain(Request(0.0));
  EXPECT_FALSE(same.decision.accepted);
  EXPECT_DOUBLE_EQ(same.decision.new_scores.macro_f1, same.decision.deployed_scores->macro_f1);
  EXPECT_EQ(same.decision.decision_threshold, 0.0);

  ClassificationScores deployed{.macro_f1 = 0.8, .accuracy = 0.8};
  EXPECT_TRUE(ShouldDeploy({.macro_f1 = 0.1, .accuracy = 0.1}, std::nullopt, 0.001));
  EXPECT_TRUE(ShouldDeploy({.macro_f1 = 0.8015, .accuracy = 0}, deployed, 0.001));
  EXPECT_FALSE(ShouldDeploy({.macro_f1 = 0.8005, .accuracy = 1}, deployed, 0.001));
  EXPECT_FALSE(ShouldDeploy({.macro_f1 = 0.7, .accuracy = 1}, deployed, 0.001));
}

TEST_F(RetrainTest, AMalformedDatasetChangesNothing) {
  Publish("v1");
  RetrainOutcome deployed = Retrain(Request());
  std::string decisions_before = ReadFile((label_models() / "decisions.jsonl").string());
  const std::string train = SplitJsonl(240, 1, false);
  testing::PublishVersion(dataset_dir(), "v2",
                          {.labels_json = kLabels,
                           .train = train.substr(0, train.size() - 9),  // cut short
                           .validation = SplitJsonl(30, 2, false),
                           .test = SplitJsonl(60, 3, false),
                           .metadata_json = R"({"version_tag": "v2"})"});

  try {
    Retrain(Request());
    FAIL() << "a truncated train split was accepted";
  } catch (const WorkerError& error) {
    EXPECT_NE(std::string(error.what()).find("train.jsonl line 240"), std::string::npos) << error.what();
  }
  EXPECT_EQ(Current(), deployed.decision.model_version);
  EXPECT_EQ(ReadFile((label_models() / "decisions.jsonl").string()), decisions_before);
}

TEST_F(RetrainTest, ADatasetOfOneClassIsRefused) {
  std::string rows = R"({"grievance": "road", "label": 0})"
                     "\n";
  testing::PublishVersion(dataset_dir(), "v1",
                          {.labels_json = kLabels, .train = rows + rows + rows, .validation = rows, .test = rows});
  try {
    Retrain(Request());
    FAIL() << "a single class was accepted";
  } catch (const WorkerError& error) {
    EXPECT_NE(std::string(error.what())
                  .find(dataset_dir().string() + "@v1/data/train.jsonl holds only the class \"Infrastructure\""),
              std::string::npos)
        << error.what();
  }
  EXPECT_FALSE(fs::exists(label_models()));  // a run that fails on its data leaves no trace
}

// Ways a deployed model can be damaged, each with what the decision's reason must say about it.
struct Damage {
  std::string name;
  std::function<void(const fs::path& version_dir)> apply;
  std::string problem;  // after the file's path
};

std::vector<Damage> Damages() {
  auto model = [](const fs::path& dir) { return dir / "model.bin"; };
  return {
      {"truncated",
       [&](const fs::path& dir) {
         std::string bytes = ReadFile(model(dir).string());
         WriteFile(model(dir).string(), bytes.substr(0, bytes.size() / 2));
       },
       "model.bin is truncated: its "},
      {"a flipped byte in the dictionary's size",
       [&](const fs::path& dir) {
         std::string bytes = ReadFile(model(dir).string());
         bytes[65] = static_cast<char>(bytes[65] ^ 0x40);  // the dictionary's entry count, second byte
         WriteFile(model(dir).string(), bytes);
       },
       "model.bin is damaged: its dictionary says it holds "},
      {"a flipped byte in the dimension",
       [&](const fs::path& dir) {
         std::string bytes = ReadFile(model(dir).string());
         bytes[11] = static_cast<char>(bytes[11] ^ 0x80);
         WriteFile(model(dir).string(), bytes);
       },
       "model.bin is damaged: its dimension is -"},
      {"a directory",
       [&](const fs::path& dir) {
         fs::remove(model(dir));
         fs::create_directory(model(dir));
       },
       "model.bin is a directory, not a regular file"},
      {"a FIFO",
       [&](const fs::path& dir) {
         fs::remove(model(dir));
         ASSERT_EQ(mkfifo(model(dir).c_str(), 0600), 0);
       },
       "model.bin is a FIFO (named pipe), not a regular file"},
      {"a symlink loop",
       [&](const fs::path& dir) {
         fs::remove(model(dir));
         fs::create_symlink("model.bin", model(dir));
       },
       "model.bin is a loop of symlinks, not a regular file"},
      {"a model card that does not parse",
       [](const fs::path& dir) { WriteFile((dir / "model.json").string(), "{\n  \"label_map\": {\"a\": 0,\n}"); },
       "model.json is not valid JSON (line 3, column 1: "},
      {"a removed version", [](const fs::path& dir) { fs::remove_all(dir); },
       "model.json is missing: the model version "},
  };
}

TEST_F(RetrainTest, ADamagedDeployedModelIsReportedAndReplaced) {
  Publish("v1");
  std::string deployed = Retrain(Request()).decision.model_version;
  for (const Damage& damage : Damages()) {
    SCOPED_TRACE(damage.name);
    const fs::path damaged_dir = label_models() / deployed;
    damage.apply(damaged_dir);
    std::vector<std::string> progress;
    RetrainRequest request = Request();
    request.progress = [&progress](std::string_view message) { progress.emplace_back(message); };
    const RetrainOutcome outcome = Retrain(request);

    const std::string reason_start =
        "the deployed model " + deployed + " is damaged or unreadable, so only the new model was scored (";
    EXPECT_EQ(outcome.decision.reason.substr(0, reason_start.size()), reason_start) << outcome.decision.reason;
    EXPECT_NE(outcome.decision.reason.find(damaged_dir.string() + "/" + damage.problem), std::string::npos)
        << outcome.decision.reason;
    EXPECT_TRUE(outcome.decision.accepted);
    EXPECT_FALSE(outcome.decision.deployed_scores.has_value());
    EXPECT_EQ(outcome.decision.deployed_version, deployed);
    EXPECT_EQ(Current(), outcome.decision.model_version);
    const std::string said = "the deployed model " + deployed +
                             " is damaged or unreadable: only the new model is "
                             "scored, and replaces it when it trains (";
    EXPECT_EQ(std::count_if(progress.begin(), progress.end(),
                            [&](const std::string& line) {
                              return line.starts_with(said) && line.find(damage.problem) != std::string::npos;
                            }),
              1);

    const nlohmann::json recorded = Decisions().back();
    EXPECT_EQ(recorded["decision"], "accepted");
    EXPECT_TRUE(recorded["deployed"].is_null());
    EXPECT_EQ(recorded["deployed_version"], deployed);
    EXPECT_EQ(recorded["reason"], outcome.decision.reason);
    deployed = outcome.decision.model_version;
  }
  EXPECT_EQ(Decisions().size(), Damages().size() + 1);
  // The model that replaced the last damaged one is scored like any deployed model.
  const RetrainOutcome next = Retrain(Request());
  ASSERT_TRUE(next.decision.deployed_scores.has_value());
  EXPECT_GE(next.decision.deployed_scores->macro_f1, 0.9);
}

TEST_F(RetrainTest, ADamagedDecisionLogIsNamedWithItsLine) {
  Publish("v1");
  const RetrainOutcome deployed = Retrain(Request());
  const fs::path log = label_models() / "decisions.jsonl";
  WriteFile(log.string(), ReadFile(log.string()) + "{\"dataset_version\": \"v0\", oops}\n");
  RetrainRequest repeat = Request();
  repeat.answer_decided = true;
  try {
    Retrain(repeat);
    FAIL() << "a damaged decision log was read";
  } catch (const WorkerError& error) {
    EXPECT_NE(std::string(error.what()).find(log.string() + " line 2 is not valid JSON (column 27: "),
              std::string::npos)
        << error.what();
    EXPECT_NE(std::string(error.what()).find("--force"), std::string::npos) << error.what();
  }
  EXPECT_EQ(Current(), deployed.decision.model_version);
  // --force does not read it, and adds its decision as a line of its own.
  EXPECT_TRUE(Retrain(Request()).decision.deployed_scores.has_value());
  const std::string text = ReadFile(log.string());
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
}

TEST_F(RetrainTest, ABadLabelNameIsAConfigError) {
  RetrainRequest request = Request();
  request.label = "Department;";
  EXPECT_THROW(Retrain(request), ConfigError);
}

TEST(SettingsSearch, HalvesTheFieldEachRound) {
  std::vector<SplitRow> train, validation;
  for (int i = 0; i < 270; ++i) train.push_back({i % 2 ? "road pothole" : "school teacher", i % 2});
  for (int i = 0; i < 20; ++i) validation.push_back({i % 2 ? "pothole" : "teacher", i % 2});
  SearchSpace space = {.word_ngrams = {1},
                       .learning_rates = {0.1, 1.0},
                       .epochs = {1, 3},
                       .dimension = 8,
                       .buckets = 1000,
                       .threads = 1,
                       .seed = 1,
                       .first_round_rows = 30,
                       .screening_validation_rows = 5000};
  // 4 settings on 30 rows, the best 2 (a third, rounded up) on 90, the best one on all 270: 7 trainings.
  std::vector<std::string> progress;
  SearchResult result =
      SearchSettings(train, validation, space, [&](std::string_view line) { progress.emplace_back(line); });
  EXPECT_EQ(result.trainings, 7);
  EXPECT_DOUBLE_EQ(result.validation_scores.macro_f1, 1.0);
  ASSERT_EQ(progress.size(), 4u);
  EXPECT_EQ(progress[0], "search round 1: 4 setting(s) on 30 train rows");
  EXPECT_EQ(progress[1], "search round 2: 2 setting(s) on 90 train rows");
  EXPECT_EQ(progress[2].substr(0, 9), "training ");
  EXPECT_EQ(progress[3].substr(0, 5), "chose");

  // When the first round already has every row, it is the only one, and its best model is kept.
  space.first_round_rows = 1000;
  EXPECT_EQ(SearchSettings(train, validation, space).trainings, 4);
}

TEST(SettingsSearch, SettingsThatCannotTrainDropOut) {
  std::vector<SplitRow> train, validation;
  for (int i = 0; i < 60; ++i) train.push_back({i % 2 ? "road pothole" : "school teacher", i % 2});
  validation = train;
  // A learning rate of 1e30 makes fastText's weights overflow: that setting fails, the other wins.
  SearchSpace space = {.word_ngrams = {1},
                       .learning_rates = {1e30, 0.5},
                       .epochs = {2},
                       .dimension = 8,
                       .buckets = 1000,
                       .threads = 2,
                       .seed = 1,
                       .first_round_rows = 1000,
                       .screening_validation_rows = 5000};
  SearchResult result = SearchSettings(train, validation, space);
  EXPECT_EQ(result.trainings, 1);
  EXPECT_DOUBLE_EQ(result.model.settings().learning_rate, 0.5);
  space.learning_rates = {1e30};
  EXPECT_THROW(SearchSettings(train, validation, space), WorkerError);
}

TEST(SettingsSearch, SmallDatasetsGetFewBuckets) {
  std::vector<SplitRow> train, validation;
  for (int i = 0; i < 40; ++i) train.push_back({i % 2 ? "road pothole bridge" : "school teacher", i % 2});
  validation = train;
  SearchSpace space = {.word_ngrams = {2},
                       .learning_rates = {0.5},
                       .epochs = {2},
                       .dimension = 8,
                       .buckets = 200000,
                       .threads = 1,
                       .seed = 1,
                       .first_round_rows = 4000,
                       .screening_validation_rows = 5000};
  EXPECT_EQ(SearchSettings(train, validation, space).model.settings().buckets,
            1024);  // the floor: 2 x 100 words < 1024
}

}  // namespace
}  // namespace orch
