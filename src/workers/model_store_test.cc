#include "workers/model_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <set>
#include <sstream>

#include "support/error_of.h"
#include "support/temp_dir.h"
#include "util/error.h"
#include "workers/json_text.h"

namespace orch {
namespace {

using testing::WorkerErrorOf;

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

FastTextClassifier SmallModel() {
  std::vector<SplitRow> rows;
  for (int i = 0; i < 30; ++i) rows.push_back({i % 2 ? "road pothole bridge" : "school teacher", i % 2});
  return FastTextClassifier::Train(
      rows,
      {.epochs = 5, .learning_rate = 0.5, .word_ngrams = 1, .dimension = 8, .buckets = 0, .threads = 1, .seed = 1});
}

ModelCard Card(const std::string& version) {
  ModelCard card;
  card.label = "department";
  card.model_version = version;
  card.dataset_version = "v20261126_101502";
  card.created_at = "2026-11-26T10:20:00.000Z";
  card.metrics = {.macro_f1 = 0.75, .accuracy = 0.8};
  card.validation_metrics = {.macro_f1 = 0.7, .accuracy = 0.78};
  card.label_map = {{0, "Education"}, {1, "Infrastructure"}};
  card.hyperparameters = {
      .epochs = 5, .learning_rate = 0.5, .word_ngrams = 1, .dimension = 8, .buckets = 0, .threads = 1, .seed = 1};
  card.search_trainings = 3;
  card.train_rows = 30;
  return card;
}

std::set<std::string> Entries(const fs::path& dir) {
  std::set<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

std::vector<nlohmann::json> Lines(const fs::path& file) {
  std::vector<nlohmann::json> lines;
  std::istringstream text(ReadFile(file.string()));
  for (std::string line; std::getline(text, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

class ModelStoreTest : public ::testing::Test {
 protected:
  TempDir models_{"orch-models"};
  ModelStore store_{models_.path(), "department"};
};

TEST_F(ModelStoreTest, NothingIsDeployedAtFirst) {
  EXPECT_EQ(store_.CurrentVersion(), std::nullopt);
  EXPECT_EQ(store_.directory(), models_.path() / "department");
  EXPECT_FALSE(fs::exists(store_.directory()));  // reading creates nothing
}

TEST_F(ModelStoreTest, StoresAModelAndMovesCurrentToIt) {
  FastTextClassifier model = SmallModel();
  store_.Store(model, Card("m20261126_102000"));
  EXPECT_EQ(store_.CurrentVersion(), std::nullopt);  // stored is not deployed
  store_.MakeCurrent("m20261126_102000");
  EXPECT_EQ(store_.CurrentVersion(), "m20261126_102000");
  EXPECT_EQ(fs::read_symlink(store_.directory() / "current"), fs::path("m20261126_102000"));

  ModelCard card = store_.ReadCard("m20261126_102000");
  EXPECT_EQ(card.model_version, "m20261126_102000");
  EXPECT_EQ(card.dataset_version, "v20261126_101502");
  EXPECT_EQ(card.label_map, (ClassNamesById{{0, "Education"}, {1, "Infrastructure"}}));
  EXPECT_DOUBLE_EQ(card.metrics.macro_f1, 0.75);
  EXPECT_DOUBLE_EQ(card.validation_metrics.accuracy, 0.78);
  EXPECT_EQ(card.hyperparameters.epochs, 5);
  EXPECT_EQ(card.search_trainings, 3);
  EXPECT_EQ(card.train_rows, 30);
  EXPECT_EQ(store_.LoadModel("m20261126_102000").Predict("road").label, model.Predict("road").label);

  // The card on disk has the contract's fields, with the label map as name -> id.
  nlohmann::json json =
      nlohmann::json::parse(ReadFile((store_.VersionDirectory("m20261126_102000") / "model.json").string()));
  for (const char* key : {"label", "model_version", "dataset_version", "created_at", "metrics", "label_map",
                          "hyperparameters", "train_rows"})
    EXPECT_TRUE(json.contains(key)) << key;
  EXPECT_EQ(json["label_map"]["Infrastructure"], 1);
  EXPECT_EQ(json["metrics"]["macro_f1"], 0.75);
  EXPECT_EQ(json["validation_metrics"]["macro_f1"], 0.7);
  // A card of an earlier release names the split "eval".
  json["eval_metrics"] = json["validation_metrics"];
  json.erase("validation_metrics");
  EXPECT_DOUBLE_EQ(ParseModelCard(json.dump(), "old card").validation_metrics.accuracy, 0.78);
}

TEST_F(ModelStoreTest, CurrentMovesWithoutLeavingAnythingBehind) {
  FastTextClassifier model = SmallModel();
  store_.Store(model, Card("m1"));
  store_.Store(model, Card("m2"));
  store_.MakeCurrent("m1");
  store_.MakeCurrent("m2");
  EXPECT_EQ(store_.CurrentVersion(), "m2");
  EXPECT_EQ(Entries(store_.directory()), (std::set<std::string>{"m1", "m2", "current"}));
  EXPECT_EQ(Entries(store_.VersionDirectory("m2")), (std::set<std::string>{"model.bin", "model.json"}));
}

TEST_F(ModelStoreTest, AnExistingVersionIsNeverReplaced) {
  FastTextClassifier model = SmallModel();
  store_.Store(model, Card("m1"));
  std::string before = ReadFile((store_.VersionDirectory("m1") / "model.json").string());
  ModelCard other = Card("m1");
  other.dataset_version = "v2";
  EXPECT_THROW(store_.Store(model, other), WorkerError);
  EXPECT_EQ(ReadFile((store_.VersionDirectory("m1") / "model.json").string()), before);
  EXPECT_EQ(Entries(store_.directory()), (std::set<std::string>{"m1"}));  // no staging directory left
  EXPECT_THROW(store_.Store(model, Card("../escape")), WorkerError);
}

TEST_F(ModelStoreTest, VersionNamesComeFromTheTimeAndAvoidExistingOnes) {
  auto time = std::chrono::sys_days{std::chrono::year{2026} / 11 / 26} + std::chrono::hours{10} +
              std::chrono::minutes{15} + std::chrono::seconds{2};
  EXPECT_EQ(ModelVersionAt(time), "m20261126_101502");
  EXPECT_EQ(store_.UnusedVersion(time), "m20261126_101502");
  fs::create_directories(store_.VersionDirectory("m20261126_101502"));
  fs::create_directories(store_.VersionDirectory("m20261126_101502_2"));
  EXPECT_EQ(store_.UnusedVersion(time), "m20261126_101502_3");
}

RetrainDecision DecisionOn(const std::string& dataset_version) {
  return {.time = "2026-11-26T10:20:00.000Z",
          .label = "department",
          .dataset_version = dataset_version,
          .model_version = "m1",
          .accepted = true,
          .new_scores = {.macro_f1 = 0.8, .accuracy = 0.85},
          .deployed_scores = std::nullopt,
          .deployed_version = std::nullopt,
          .decision_threshold = 0.001,
          .reason = "no model is deployed yet"};
}

TEST_F(ModelStoreTest, DecisionsAreAppendedOnePerLine) {
  RetrainDecision first = DecisionOn("v1");
  RetrainDecision second = first;
  second.model_version = "m2";
  second.accepted = false;
  second.deployed_scores = ClassificationScores{.macro_f1 = 0.9, .accuracy = 0.91};
  second.deployed_version = "m1";
  store_.AppendDecision(first);
  store_.AppendDecision(second);
  std::vector<nlohmann::json> lines = Lines(store_.directory() / "decisions.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["decision"], "accepted");
  EXPECT_TRUE(lines[0]["deployed"].is_null());
  EXPECT_TRUE(lines[0]["deployed_version"].is_null());
  EXPECT_EQ(lines[0]["new"]["macro_f1"], 0.8);
  EXPECT_EQ(lines[1]["decision"], "rejected");
  EXPECT_EQ(lines[1]["deployed"]["accuracy"], 0.91);
  EXPECT_EQ(lines[1]["deployed_version"], "m1");
  EXPECT_EQ(lines[1]["decision_threshold"], 0.001);
  std::vector<std::string> keys;
  nlohmann::ordered_json json = RetrainDecisionJson(second);
  for (const auto& [key, value] : json.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"time", "label", "dataset_version", "model_version", "decision", "new",
                                            "deployed", "deployed_version", "decision_threshold", "reason"}));
}

TEST_F(ModelStoreTest, OneRetrainOfALabelAtATime) {
  {
    ModelStore::RetrainLock held = store_.LockForRetrain();
    ModelStore same(models_.path(), "department");
    try {
      same.LockForRetrain();
      FAIL() << "a second lock was granted";
    } catch (const WorkerError& error) {
      EXPECT_NE(std::string(error.what()).find("another retrain of department is running"), std::string::npos);
    }
    ModelStore other(models_.path(), "urgency");
    EXPECT_NO_THROW(other.LockForRetrain());  // labels do not block each other
  }
  EXPECT_NO_THROW(store_.LockForRetrain());  // released with its holder
}

TEST_F(ModelStoreTest, ABadCurrentIsReported) {
  fs::create_directories(store_.directory() / "current");
  EXPECT_THROW(store_.CurrentVersion(), WorkerError);
  fs::remove(store_.directory() / "current");
  fs::create_directory_symlink("/etc", store_.directory() / "current");
  EXPECT_THROW(store_.CurrentVersion(), WorkerError);
  fs::remove(store_.directory() / "current");
  fs::create_directory_symlink("m9", store_.directory() / "current");  // dangling: named, then not found
  EXPECT_EQ(store_.CurrentVersion(), "m9");
  EXPECT_THROW(store_.ReadCard("m9"), WorkerError);
  EXPECT_THROW(store_.LoadModel("m9"), WorkerError);
}

TEST(ModelCardTest, DamagedCardsAreRefused) {
  auto card_error = [](const std::string& text) {
    return WorkerErrorOf([&] { ParseModelCard(text, "x/model.json"); });
  };
  const std::string damaged = ": the model version is damaged";
  EXPECT_EQ(card_error("not json"),
            "the model card x/model.json is not valid JSON (line 1, column 2: syntax error while parsing value - "
            "invalid literal)" +
                damaged);
  EXPECT_EQ(card_error("{\n  \"label_map\": {},\n  \"label\": department\n}"),
            "the model card x/model.json is not valid JSON (line 3, column 12: syntax error while parsing value - "
            "invalid literal)" +
                damaged);
  EXPECT_EQ(card_error(R"({"label_map": {}, "train_rows": 1e999})"),
            "the model card x/model.json is not valid JSON (a number too large to be read)" + damaged);
  EXPECT_EQ(card_error("[]"), "the model card x/model.json is not a JSON object" + damaged);
  EXPECT_EQ(card_error(R"({"label": "department"})"),
            "the model card x/model.json has no \"label_map\" object" + damaged);
  EXPECT_EQ(card_error(R"({"label_map": [0]})"),
            "the model card x/model.json has a \"label_map\" that is not an object" + damaged);
  EXPECT_EQ(card_error(R"({"label_map": {"a": -1}})"),
            "the model card x/model.json gives the class \"a\" no valid id" + damaged);
  // Members of the wrong type or out of range: nothing of them is taken for a value.
  EXPECT_EQ(card_error(R"({"label_map": {}, "label": 5})"),
            "the model card x/model.json has a \"label\" that is not a string" + damaged);
  EXPECT_EQ(card_error(R"({"label_map": {}, "metrics": {"macro_f1": "high"}})"),
            "the model card x/model.json has a \"macro_f1\" that is not a number" + damaged);
  EXPECT_EQ(
      card_error(R"({"label_map": {}, "hyperparameters": {"epoch": 1e300}})"),
      "the model card x/model.json has a \"epoch\" that is not an integer from -2147483648 to 2147483647" + damaged);
  EXPECT_EQ(
      card_error(R"({"label_map": {}, "hyperparameters": {"dim": 4294967296}})"),
      "the model card x/model.json has a \"dim\" that is not an integer from -2147483648 to 2147483647" + damaged);
  EXPECT_EQ(card_error(R"({"label_map": {}, "hyperparameters": 3})"),
            "the model card x/model.json has a \"hyperparameters\" that is not an object" + damaged);
  EXPECT_EQ(card_error(R"({"label_map": {}, "train_rows": 18446744073709551615})"),
            "the model card x/model.json has a \"train_rows\" that is not an integer from -2147483648 to "
            "9223372036854775807" +
                damaged);
  EXPECT_EQ(ParseModelCard(R"({"label_map": {"a": 3}})", "x/model.json").label_map, (ClassNamesById{{3, "a"}}));
  EXPECT_EQ(ParseModelCard(R"({"label_map": {"a": 3}, "label": null, "train_rows": 7})", "x").train_rows, 7);
  EXPECT_EQ(ModelCardJson(ParseModelCard(ModelCardJson(Card("m1")).dump(), "x")), ModelCardJson(Card("m1")));
}

TEST_F(ModelStoreTest, ACardThatIsNotARegularFileIsRefused) {
  store_.Store(SmallModel(), Card("m1"));
  const fs::path card = store_.VersionDirectory("m1") / "model.json";
  const std::string named = "the model card " + card.string();
  const std::string damaged = "; the model version is damaged";
  fs::remove(card);
  fs::create_directory(card);
  EXPECT_EQ(WorkerErrorOf([&] { store_.ReadCard("m1"); }), named + " is a directory, not a regular file" + damaged);
  fs::remove(card);
  ASSERT_EQ(mkfifo(card.c_str(), 0600), 0);
  EXPECT_EQ(WorkerErrorOf([&] { store_.ReadCard("m1"); }),
            named + " is a FIFO (named pipe), not a regular file" + damaged);
  fs::remove(card);
  fs::create_symlink("model.json", card);
  EXPECT_EQ(WorkerErrorOf([&] { store_.ReadCard("m1"); }),
            named + " is a loop of symlinks, not a regular file" + damaged);
  fs::remove(card);
  WriteFile(card.string(), "{}");
  fs::resize_file(card, kMaxJsonDocumentBytes + 1);
  EXPECT_EQ(WorkerErrorOf([&] { store_.ReadCard("m1"); }),
            named + " is " + std::to_string(kMaxJsonDocumentBytes + 1) + " bytes, more than the " +
                std::to_string(kMaxJsonDocumentBytes) + " bytes such a file can have" + damaged);
}

TEST_F(ModelStoreTest, ADamagedDecisionLogIsNamedWithItsLine) {
  store_.AppendDecision(DecisionOn("v1"));
  store_.AppendDecision(DecisionOn("v2"));
  const fs::path log = store_.directory() / "decisions.jsonl";
  const std::string good = ReadFile(log.string());
  ASSERT_TRUE(store_.DecisionFor("v2").has_value());
  EXPECT_EQ(store_.DecisionFor("v3"), std::nullopt);
  const std::string advice =
      ": the decision log is damaged; delete or repair that line, or move the file aside (it is "
      "the label's history), or retrain with --force, which does not read it";

  WriteFile(log.string(), good + "[1, 2]\n");
  EXPECT_EQ(WorkerErrorOf([&] { store_.DecisionFor("v1"); }),
            log.string() + " line 3 is not a decision (a JSON object with a \"dataset_version\" string)" + advice);
  WriteFile(log.string(), "\n" + good);
  EXPECT_EQ(WorkerErrorOf([&] { store_.DecisionFor("v1"); }),
            log.string() +
                " line 1 is not valid JSON (column 1: syntax error while parsing value - unexpected end of input; "
                "expected '[', '{', or a literal)" +
                advice);
  WriteFile(log.string(), good + good.substr(0, 40));  // a crash while the third line was written
  EXPECT_TRUE(WorkerErrorOf([&] {
                store_.DecisionFor("v1");
              }).starts_with(log.string() + " line 3 is not valid JSON (column 41: "));

  // Appending ends the cut-short line first: the new decision is a line of its own.
  store_.AppendDecision(DecisionOn("v4"));
  const std::string text = ReadFile(log.string());
  EXPECT_EQ(text.substr(0, good.size() + 41), good + good.substr(0, 40) + "\n");
  EXPECT_EQ(nlohmann::json::parse(text.substr(good.size() + 41))["dataset_version"], "v4");
}

TEST_F(ModelStoreTest, ADecisionLogThatIsNotARegularFileIsRefused) {
  fs::create_directories(store_.directory());
  const fs::path log = store_.directory() / "decisions.jsonl";
  const std::string named = "the decision log " + log.string();
  const std::string advice =
      "; move the file aside (it is the label's history), or retrain with --force, which does not read it";
  ASSERT_EQ(mkfifo(log.c_str(), 0600), 0);
  EXPECT_EQ(WorkerErrorOf([&] { store_.DecisionFor("v1"); }),
            named + " is a FIFO (named pipe), not a regular file" + advice);
  // Nor is a decision written into it: that would wait for a reader.
  EXPECT_EQ(WorkerErrorOf([&] { store_.AppendDecision(DecisionOn("v1")); }),
            named + " is not a regular file: move it aside, and retrain again to record the decision");
  fs::remove(log);
  fs::create_directory(log);
  EXPECT_EQ(WorkerErrorOf([&] { store_.DecisionFor("v1"); }), named + " is a directory, not a regular file" + advice);
  fs::remove(log);
  WriteFile(log.string(), "");
  fs::resize_file(log, kMaxDecisionsBytes + 1);
  EXPECT_EQ(WorkerErrorOf([&] { store_.DecisionFor("v1"); }),
            named + " is " + std::to_string(kMaxDecisionsBytes + 1) + " bytes, more than the " +
                std::to_string(kMaxDecisionsBytes) + " bytes such a file can have" + advice);
}

}  // namespace
}  // namespace orch
