#include "workers/model_card.h"

#include <gtest/gtest.h>

#include "support/error_of.h"
#include "util/error.h"

namespace orch {
namespace {

using testing::WorkerErrorOf;

ModelCard Card(const std::string& version) {
  ModelCard card;
  card.label = "department";
  card.model_version = version;
  card.dataset_version = "v20261126_101502";
  card.dataset_repository = "/srv/hub/department";
  card.dataset_commit = std::string(40, 'a');
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

TEST(ModelCardTest, WritesTheContractsFieldsAndReadsThemBack) {
  nlohmann::json json = nlohmann::json::parse(ModelCardJson(Card("m20261126_102000")).dump());
  for (const char* key : {"label", "model_version", "dataset_version", "dataset_repository", "dataset_commit",
                          "created_at", "metrics", "validation_metrics", "label_map", "hyperparameters", "train_rows"})
    EXPECT_TRUE(json.contains(key)) << key;
  EXPECT_EQ(json["label_map"]["Infrastructure"], 1);
  EXPECT_EQ(json["metrics"]["macro_f1"], 0.75);
  EXPECT_EQ(json["validation_metrics"]["macro_f1"], 0.7);
  EXPECT_EQ(json["hyperparameters"]["search_trainings"], 3);

  const ModelCard card = ParseModelCard(json.dump(), "model.json");
  EXPECT_EQ(card.model_version, "m20261126_102000");
  EXPECT_EQ(card.dataset_repository, "/srv/hub/department");
  EXPECT_EQ(card.dataset_commit, std::string(40, 'a'));
  EXPECT_EQ(card.label_map, (ClassNamesById{{0, "Education"}, {1, "Infrastructure"}}));
  EXPECT_DOUBLE_EQ(card.validation_metrics.accuracy, 0.78);
  EXPECT_EQ(card.hyperparameters.epochs, 5);
  EXPECT_EQ(ModelCardJson(card), ModelCardJson(Card("m20261126_102000")));

  // A model.json of an earlier release names the split "eval" and has no dataset repository.
  json["eval_metrics"] = json["validation_metrics"];
  json.erase("validation_metrics");
  json.erase("dataset_repository");
  json.erase("dataset_commit");
  const ModelCard old = ParseModelCard(json.dump(), "old model.json");
  EXPECT_DOUBLE_EQ(old.validation_metrics.accuracy, 0.78);
  EXPECT_EQ(old.dataset_repository, "");
}

TEST(ModelCardTest, VersionNamesComeFromTheTime) {
  auto time = std::chrono::sys_days{std::chrono::year{2026} / 11 / 26} + std::chrono::hours{10} +
              std::chrono::minutes{15} + std::chrono::seconds{2};
  EXPECT_EQ(ModelVersionAt(time), "m20261126_101502");
}

TEST(ModelCardTest, DamagedCardsAreRefused) {
  auto card_error = [](const std::string& text) {
    return WorkerErrorOf([&] { ParseModelCard(text, "x/model.json"); });
  };
  const std::string damaged = ": the model is damaged";
  EXPECT_EQ(card_error("not json"),
            "x/model.json is not valid JSON (line 1, column 2: syntax error while parsing value - invalid literal)" +
                damaged);
  EXPECT_EQ(card_error("{\n  \"label_map\": {},\n  \"label\": department\n}"),
            "x/model.json is not valid JSON (line 3, column 12: syntax error while parsing value - invalid literal)" +
                damaged);
  EXPECT_EQ(card_error(R"({"label_map": {}, "train_rows": 1e999})"),
            "x/model.json is not valid JSON (a number too large to be read)" + damaged);
  EXPECT_EQ(card_error("[]"), "x/model.json is not a JSON object" + damaged);
  EXPECT_EQ(card_error(R"({"label": "department"})"), "x/model.json has no \"label_map\" object" + damaged);
  EXPECT_EQ(card_error(R"({"label_map": [0]})"), "x/model.json has a \"label_map\" that is not an object" + damaged);
  EXPECT_EQ(card_error(R"({"label_map": {"a": -1}})"), "x/model.json gives the class \"a\" no valid id" + damaged);
  // Members of the wrong type or out of range: nothing of them is taken for a value.
  EXPECT_EQ(card_error(R"({"label_map": {}, "label": 5})"),
            "x/model.json has a \"label\" that is not a string" + damaged);
  EXPECT_EQ(card_error(R"({"label_map": {}, "dataset_commit": []})"),
            "x/model.json has a \"dataset_commit\" that is not a string" + damaged);
  EXPECT_EQ(card_error(R"({"label_map": {}, "metrics": {"macro_f1": "high"}})"),
            "x/model.json has a \"macro_f1\" that is not a number" + damaged);
  EXPECT_EQ(card_error(R"({"label_map": {}, "hyperparameters": {"epoch": 1e300}})"),
            "x/model.json has a \"epoch\" that is not an integer from -2147483648 to 2147483647" + damaged);
  EXPECT_EQ(card_error(R"({"label_map": {}, "hyperparameters": {"dim": 4294967296}})"),
            "x/model.json has a \"dim\" that is not an integer from -2147483648 to 2147483647" + damaged);
  EXPECT_EQ(card_error(R"({"label_map": {}, "hyperparameters": 3})"),
            "x/model.json has a \"hyperparameters\" that is not an object" + damaged);
  EXPECT_EQ(
      card_error(R"({"label_map": {}, "train_rows": 18446744073709551615})"),
      "x/model.json has a \"train_rows\" that is not an integer from -2147483648 to 9223372036854775807" + damaged);
  EXPECT_EQ(ParseModelCard(R"({"label_map": {"a": 3}})", "x/model.json").label_map, (ClassNamesById{{3, "a"}}));
  EXPECT_EQ(ParseModelCard(R"({"label_map": {"a": 3}, "label": null, "train_rows": 7})", "x").train_rows, 7);
}

}  // namespace
}  // namespace orch
