#include "workers/model_card.h"

#include <cstdint>
#include <ctime>
#include <limits>

#include "config/label_name.h"
#include "util/error.h"
#include "workers/json_text.h"

namespace orch {
namespace {

using Json = nlohmann::ordered_json;

Json SettingsJson(const FastTextSettings& settings, int search_trainings) {
  return {{"epoch", settings.epochs},
          {"lr", settings.learning_rate},
          {"word_ngrams", settings.word_ngrams},
          {"dim", settings.dimension},
          {"bucket", settings.buckets},
          {"loss", "softmax"},
          {"min_count", 1},
          {"thread", settings.threads},
          {"seed", settings.seed},
          {"search_trainings", search_trainings}};
}

// Reads the members of one model card, refusing a member of the wrong type or out of range. An
// absent (or null) member keeps its default: cards of older versions lack some.
class CardReader {
 public:
  explicit CardReader(const std::string& where) : where_(where) {}

  [[noreturn]] void Refuse(const std::string& problem) const {
    throw WorkerError(where_ + " " + problem + ": the model is damaged");
  }

  std::string String(const Json& object, const char* key) const {
    const Json* value = Member(object, key);
    if (value == nullptr) return "";
    if (!value->is_string()) Refuse("has a \"" + std::string(key) + "\" that is not a string");
    return value->get<std::string>();
  }

  double Number(const Json& object, const char* key) const {
    const Json* value = Member(object, key);
    if (value == nullptr) return 0;
    if (!value->is_number()) Refuse("has a \"" + std::string(key) + "\" that is not a number");
    return value->get<double>();
  }

  // An integer from INT32_MIN to `most`.
  int64_t Integer(const Json& object, const char* key, int64_t most = std::numeric_limits<int32_t>::max()) const {
    constexpr int64_t kLeast = std::numeric_limits<int32_t>::min();
    const Json* value = Member(object, key);
    if (value == nullptr) return 0;
    const bool fits = value->is_number_unsigned() ? value->get<uint64_t>() <= static_cast<uint64_t>(most)
                                                  : value->is_number_integer() && value->get<int64_t>() >= kLeast &&
                                                        value->get<int64_t>() <= most;
    if (!fits)
      Refuse("has a \"" + std::string(key) + "\" that is not an integer from " + std::to_string(kLeast) + " to " +
             std::to_string(most));
    return value->get<int64_t>();
  }

  int Int(const Json& object, const char* key) const { return static_cast<int>(Integer(object, key)); }

  // A member that must be an object when present; nullptr when absent.
  const Json* Object(const Json& object, const char* key) const {
    const Json* value = Member(object, key);
    if (value != nullptr && !value->is_object()) Refuse("has a \"" + std::string(key) + "\" that is not an object");
    return value;
  }

  ClassificationScores Scores(const Json& card, const char* key) const {
    const Json* scores = Object(card, key);
    if (scores == nullptr) return {};
    return {.macro_f1 = Number(*scores, "macro_f1"), .accuracy = Number(*scores, "accuracy")};
  }

 private:
  static const Json* Member(const Json& object, const char* key) {
    auto found = object.find(key);
    return found == object.end() || found->is_null() ? nullptr : &*found;
  }

  const std::string& where_;
};

}  // namespace

nlohmann::ordered_json ScoresJson(const ClassificationScores& scores) {
  return {{"macro_f1", scores.macro_f1}, {"accuracy", scores.accuracy}};
}

nlohmann::ordered_json ModelCardJson(const ModelCard& card) {
  Json label_map = Json::object();
  for (const auto& [id, name] : card.label_map) label_map[name] = id;
  return {{"label", card.label},
          {"model_version", card.model_version},
          {"dataset_version", card.dataset_version},
          {"dataset_repository", card.dataset_repository},
          {"dataset_commit", card.dataset_commit},
          {"created_at", card.created_at},
          {"metrics", ScoresJson(card.metrics)},
          {"validation_metrics", ScoresJson(card.validation_metrics)},
          {"label_map", label_map},
          {"hyperparameters", SettingsJson(card.hyperparameters, card.search_trainings)},
          {"train_rows", card.train_rows}};
}

ModelCard ParseModelCard(std::string_view text, const std::string& where) {
  const CardReader read(where);
  Json json;
  try {
    json = Json::parse(text);
  } catch (const Json::exception& error) {
    read.Refuse("is not valid JSON (" + JsonSyntaxErrorIn(text, error).Describe() + ")");
  }
  if (!json.is_object()) read.Refuse("is not a JSON object");
  const Json* label_map = read.Object(json, "label_map");
  if (label_map == nullptr) read.Refuse("has no \"label_map\" object");
  ModelCard card;
  for (const auto& [name, id] : label_map->items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
      read.Refuse("gives the class " + QuoteForMessage(name) + " no valid id");
    card.label_map[id.get<int>()] = name;
  }
  card.label = read.String(json, "label");
  card.model_version = read.String(json, "model_version");
  card.dataset_version = read.String(json, "dataset_version");
  card.dataset_repository = read.String(json, "dataset_repository");
  card.dataset_commit = read.String(json, "dataset_commit");
  card.created_at = read.String(json, "created_at");
  card.metrics = read.Scores(json, "metrics");
  // Cards of earlier releases name the split "eval".
  card.validation_metrics =
      read.Scores(json, json.contains("validation_metrics") ? "validation_metrics" : "eval_metrics");
  if (const Json* settings = read.Object(json, "hyperparameters")) {
    card.hyperparameters = {.epochs = read.Int(*settings, "epoch"),
                            .learning_rate = read.Number(*settings, "lr"),
                            .word_ngrams = read.Int(*settings, "word_ngrams"),
                            .dimension = read.Int(*settings, "dim"),
                            .buckets = read.Int(*settings, "bucket"),
                            .threads = read.Int(*settings, "thread"),
                            .seed = read.Int(*settings, "seed")};
    card.search_trainings = read.Int(*settings, "search_trainings");
  }
  card.train_rows = read.Integer(json, "train_rows", std::numeric_limits<int64_t>::max());
  return card;
}

std::string ModelVersionAt(std::chrono::system_clock::time_point time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "m%Y%m%d_%H%M%S", &utc);
  return text;
}

}  // namespace orch
