#include "workers/model_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <fstream>
#include <sstream>
#include <utility>

#include "util/error.h"

namespace orch {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

constexpr const char* kModelFile = "model.bin";
constexpr const char* kCardFile = "model.json";
constexpr const char* kCurrentLink = "current";
constexpr const char* kDecisionsFile = "decisions.jsonl";
constexpr const char* kLockFile = ".retrain.lock";

// A staging directory removed with its content unless it was published.
class StagingDirectory {
 public:
  explicit StagingDirectory(fs::path path) : path_(std::move(path)) {
    std::error_code error;
    fs::remove_all(path_, error);  // a crashed earlier attempt's leftovers
    if (!fs::create_directory(path_, error))
      throw WorkerError("cannot create " + path_.string() + ": " + error.message());
  }
  ~StagingDirectory() {
    std::error_code ignored;
    if (!published_) fs::remove_all(path_, ignored);
  }
  StagingDirectory(const StagingDirectory&) = delete;
  StagingDirectory& operator=(const StagingDirectory&) = delete;
  const fs::path& path() const { return path_; }
  void MarkPublished() { published_ = true; }

 private:
  fs::path path_;
  bool published_ = false;
};

Json ScoresJson(const ClassificationScores& scores) {
  return {{"macro_f1", scores.macro_f1}, {"accuracy", scores.accuracy}};
}

ClassificationScores ScoresFrom(const Json& json) {
  return {.macro_f1 = json.value("macro_f1", 0.0), .accuracy = json.value("accuracy", 0.0)};
}

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

FastTextSettings SettingsFrom(const Json& json) {
  return {.epochs = json.value("epoch", 0),
          .learning_rate = json.value("lr", 0.0),
          .word_ngrams = json.value("word_ngrams", 0),
          .dimension = json.value("dim", 0),
          .buckets = json.value("bucket", 0),
          .threads = json.value("thread", 0),
          .seed = json.value("seed", 0)};
}

std::string ReadTextFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) throw WorkerError("cannot open " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

nlohmann::ordered_json ModelCardJson(const ModelCard& card) {
  Json label_map = Json::object();
  for (const auto& [id, name] : card.label_map) label_map[name] = id;
  return {{"label", card.label},
          {"model_version", card.model_version},
          {"dataset_version", card.dataset_version},
          {"created_at", card.created_at},
          {"metrics", ScoresJson(card.metrics)},
          {"eval_metrics", ScoresJson(card.eval_metrics)},
          {"label_map", label_map},
          {"hyperparameters", SettingsJson(card.hyperparameters, card.search_trainings)},
          {"train_rows", card.train_rows}};
}

ModelCard ParseModelCard(std::string_view text, const std::string& where) {
  Json json = Json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object())
    throw WorkerError("the model card " + where + " is not a JSON object: the model directory is damaged");
  if (!json.contains("label_map") || !json["label_map"].is_object())
    throw WorkerError("the model card " + where + " has no \"label_map\" object: the model directory is damaged");
  ModelCard card;
  for (const auto& [name, id] : json["label_map"].items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
      throw WorkerError("the model card " + where + " gives the class \"" + name + "\" no valid id");
    card.label_map[id.get<int>()] = name;
  }
  card.label = json.value("label", "");
  card.model_version = json.value("model_version", "");
  card.dataset_version = json.value("dataset_version", "");
  card.created_at = json.value("created_at", "");
  if (json.contains("metrics") && json["metrics"].is_object()) card.metrics = ScoresFrom(json["metrics"]);
  if (json.contains("eval_metrics") && json["eval_metrics"].is_object())
    card.eval_metrics = ScoresFrom(json["eval_metrics"]);
  if (json.contains("hyperparameters") && json["hyperparameters"].is_object()) {
    card.hyperparameters = SettingsFrom(json["hyperparameters"]);
    card.search_trainings = json["hyperparameters"].value("search_trainings", 0);
  }
  card.train_rows = json.value("train_rows", int64_t{0});
  return card;
}

nlohmann::ordered_json RetrainDecisionJson(const RetrainDecision& decision) {
  return {{"time", decision.time},
          {"label", decision.label},
          {"dataset_version", decision.dataset_version},
          {"model_version", decision.model_version},
          {"decision", decision.accepted ? "accepted" : "rejected"},
          {"new", ScoresJson(decision.new_scores)},
          {"deployed", decision.deployed_scores ? ScoresJson(*decision.deployed_scores) : Json(nullptr)},
          {"deployed_version", decision.deployed_version ? Json(*decision.deployed_version) : Json(nullptr)},
          {"decision_threshold", decision.decision_threshold},
          {"reason", decision.reason}};
}

std::string ModelVersionAt(std::chrono::system_clock::time_point time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "m%Y%m%d_%H%M%S", &utc);
  return text;
}

ModelStore::ModelStore(fs::path models_dir, std::string label)
    : directory_(std::move(models_dir) / label), label_(std::move(label)) {}

ModelStore::RetrainLock ModelStore::LockForRetrain() {
  CreateDirectory();
  const fs::path path = directory_ / kLockFile;
  std::optional<LockFile> held = LockFile::TryAcquire(path);
  if (!held)
    throw WorkerError("another retrain of " + label_ + " is running (it holds " + path.string() +
                      "); run this one again when it has finished");
  return RetrainLock(std::move(*held));
}

fs::path ModelStore::VersionDirectory(std::string_view model_version) const { return directory_ / model_version; }

std::optional<std::string> ModelStore::CurrentVersion() const {
  fs::path link = directory_ / kCurrentLink;
  std::error_code error;
  fs::file_status status = fs::symlink_status(link, error);
  if (!fs::exists(status)) return std::nullopt;
  if (!fs::is_symlink(status))
    throw WorkerError(link.string() + " is not a symlink to a model version: remove it, and retrain to deploy a model");
  std::string target = fs::read_symlink(link, error).string();
  if (error || !IsSafeVersionTag(target))
    throw WorkerError(link.string() + " does not point to a model version in " + directory_.string() +
                      ": point it at one (ln -sfn <model_version> current) or remove it");
  return target;
}

ModelCard ModelStore::ReadCard(std::string_view model_version) const {
  fs::path path = VersionDirectory(model_version) / kCardFile;
  std::error_code error;
  if (!fs::is_regular_file(path, error))
    throw WorkerError("the model card " + path.string() + " is missing: the model version " +
                      std::string(model_version) + " is incomplete or was removed");
  return ParseModelCard(ReadTextFile(path), path.string());
}

FastTextClassifier ModelStore::LoadModel(std::string_view model_version) const {
  return FastTextClassifier::Load(VersionDirectory(model_version) / kModelFile);
}

std::string ModelStore::UnusedVersion(std::chrono::system_clock::time_point time) const {
  std::string base = ModelVersionAt(time);
  std::error_code error;
  for (int suffix = 1;; ++suffix) {
    std::string version = suffix == 1 ? base : base + "_" + std::to_string(suffix);
    if (!fs::exists(VersionDirectory(version), error)) return version;
  }
}

void ModelStore::Store(const FastTextClassifier& model, const ModelCard& card) {
  if (!IsSafeVersionTag(card.model_version))
    throw WorkerError("cannot store a model under the version name \"" + card.model_version + "\"");
  CreateDirectory();
  StagingDirectory staging(directory_ / (".staging-" + card.model_version + "-" + std::to_string(getpid())));
  fs::path model_file = staging.path() / kModelFile;
  model.Save(model_file);
  SyncPath(model_file);
  FastTextClassifier::Load(model_file);  // what is deployed must load; this also catches a short write
  WriteNewFile(staging.path() / kCardFile, ModelCardJson(card).dump(2) + "\n");
  SyncPath(staging.path());
  if (!RenameWithoutReplacing(staging.path(), VersionDirectory(card.model_version)))
    throw WorkerError("the model version " + VersionDirectory(card.model_version).string() + " exists already");
  staging.MarkPublished();
  SyncPath(directory_);
}

void ModelStore::MakeCurrent(std::string_view model_version) {
  CreateDirectory();
  fs::path link = directory_ / kCurrentLink;
  fs::path temporary = directory_ / (".current-" + std::to_string(getpid()) + ".tmp");
  std::error_code error;
  fs::remove(temporary, error);
  fs::create_directory_symlink(fs::path(model_version), temporary, error);
  if (error) throw WorkerError("cannot create the symlink " + temporary.string() + ": " + error.message());
  RenameOver(temporary, link);
}

void ModelStore::AppendDecision(const RetrainDecision& decision) {
  CreateDirectory();
  fs::path path = directory_ / kDecisionsFile;
  FileDescriptor fd(open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.is_open()) ThrowFileError("open", path, errno);
  // One write per line: appends from several processes never interleave within a line.
  std::string line =
      RetrainDecisionJson(decision).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  WriteAll(fd.get(), line, path);
  SyncAndClose(fd, path);
}

std::optional<std::string> ModelStore::DecisionFor(std::string_view dataset_version) const {
  std::ifstream in(directory_ / kDecisionsFile);
  std::optional<std::string> found;
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json decision = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (decision.is_object() && decision.value("dataset_version", "") == dataset_version) found = line;
  }
  return found;
}

void ModelStore::CreateDirectory() const {
  std::error_code error;
  fs::create_directories(directory_, error);
  if (error) throw WorkerError("cannot create the models directory " + directory_.string() + ": " + error.message());
}

}  // namespace orch
