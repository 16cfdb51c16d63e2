#include "workers/model_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <limits>
#include <utility>

#include "config/label_name.h"
#include "util/error.h"
#include "workers/json_text.h"

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
    throw WorkerError("the model card " + where_ + " " + problem + ": the model version is damaged");
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

nlohmann::ordered_json ModelCardJson(const ModelCard& card) {
  Json label_map = Json::object();
  for (const auto& [id, name] : card.label_map) label_map[name] = id;
  return {{"label", card.label},
          {"model_version", card.model_version},
          {"dataset_version", card.dataset_version},
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
  std::optional<std::string> text =
      ReadRegularFile(path, kMaxJsonDocumentBytes, "the model card", "the model version is damaged");
  if (!text)
    throw WorkerError("the model card " + path.string() + " is missing: the model version " +
                      std::string(model_version) + " is incomplete or was removed");
  return ParseModelCard(*text, path.string());
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
  const WorkerError not_a_file("the decision log " + path.string() +
                               " is not a regular file: move it aside, and retrain again to record the decision");
  // Read too, for the last byte. O_NONBLOCK: a FIFO in the file's place is refused, never waited on.
  FileDescriptor fd(open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0644));
  if (!fd.is_open() && errno == EISDIR) throw not_a_file;
  if (!fd.is_open()) ThrowFileError("open", path, errno);
  struct stat status {};
  if (fstat(fd.get(), &status) != 0) ThrowFileError("examine", path, errno);
  if (!S_ISREG(status.st_mode)) throw not_a_file;
  // One write per line: appends from several processes never interleave within a line. A last line
  // cut short (a crash while it was written) is ended first, so that it does not swallow this one
  // (the label's retrain lock keeps a second retrain from doing the same at the same time).
  std::string line =
      RetrainDecisionJson(decision).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  char last = '\n';
  if (status.st_size > 0 && pread(fd.get(), &last, 1, status.st_size - 1) != 1) last = '\n';
  if (last != '\n') line.insert(0, "\n");
  WriteAll(fd.get(), line, path);
  SyncAndClose(fd, path);
}

std::optional<std::string> ModelStore::DecisionFor(std::string_view dataset_version) const {
  const fs::path path = directory_ / kDecisionsFile;
  const std::string advice =
      "move the file aside (it is the label's history), or retrain with --force, which does not read it";
  const std::optional<std::string> text = ReadRegularFile(path, kMaxDecisionsBytes, "the decision log", advice);
  if (!text) return std::nullopt;
  std::optional<std::string> found;
  size_t line_number = 0;
  for (size_t start = 0; start < text->size();) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    const std::string_view line(text->data() + start, end - start);
    ++line_number;
    start = end + 1;
    const auto refuse = [&](const std::string& problem) {
      return WorkerError(path.string() + " line " + std::to_string(line_number) + " " + problem +
                         ": the decision log is damaged; delete or repair that line, or " + advice);
    };
    nlohmann::json decision;
    try {
      decision = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& error) {
      const JsonSyntaxError syntax = JsonSyntaxErrorIn(line, error);
      throw refuse("is not valid JSON (" + syntax.DescribeInLine() + ")");
    }
    if (!decision.is_object() || !decision.contains("dataset_version") || !decision["dataset_version"].is_string())
      throw refuse("is not a decision (a JSON object with a \"dataset_version\" string)");
    if (decision["dataset_version"].get<std::string>() == dataset_version) found = std::string(line);
  }
  return found;
}

void ModelStore::CreateDirectory() const {
  std::error_code error;
  fs::create_directories(directory_, error);
  if (error) throw WorkerError("cannot create the models directory " + directory_.string() + ": " + error.message());
}

}  // namespace orch
