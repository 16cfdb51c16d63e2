#include "workers/predict.h"

#include <cmath>
#include <optional>
#include <system_error>

#include "config/label_name.h"
#include "hub/local_repository.h"
#include "util/durable_file.h"
#include "util/error.h"
#include "workers/earlier_models.h"
#include "workers/json_text.h"
#include "workers/model_cache.h"
#include "workers/model_card.h"
#include "workers/model_repository.h"
#include "workers/text_clean.h"

namespace orch {
namespace {

namespace fs = std::filesystem;

std::string RetrainCommand(const std::string& label, const std::string& models) {
  return "`orchestrator retrain --label " + label + " --dataset HUB/" + label + " --models " + models + "`";
}

std::string ReplaceAdvice(const std::string& label, const std::string& models) {
  return ". The next accepted retrain replaces it: run " + RetrainCommand(label, models) +
         ", or deploy the model before it with `orchestrator rollback --label " + label + " --models " + models + "`";
}

// A model's files as read from a cache entry (or a directory being filled), named in messages as
// the repository's files.
struct ModelFiles {
  ModelCard card;
  FastTextClassifier model;
};

ModelFiles ReadModelFiles(const fs::path& dir, ModelRepository& models) {
  const std::string json_name = models.Where(kMainBranch, kModelJsonPath);
  const std::string model_name = models.Where(kMainBranch, kModelPath);
  const std::optional<std::string> json =
      ReadRegularFile(dir / kModelJsonPath, kMaxJsonDocumentBytes, "the copy of " + json_name);
  if (!json) throw WorkerError(json_name + " is missing: main holds model.bin without it, so the model is incomplete");
  ModelCard card = ParseModelCard(*json, json_name);
  std::optional<std::string> bytes = ReadRegularFile(dir / kModelPath, kMaxModelFileBytes, "the copy of " + model_name);
  if (!bytes)
    throw WorkerError(model_name + " is missing: main holds model.json without it, so the model is incomplete");
  FastTextClassifier model = FastTextClassifier::FromBytes(std::move(*bytes), model_name);
  return {std::move(card), std::move(model)};
}

}  // namespace

DeployedClassifier::DeployedClassifier(std::string model_version, std::string commit, FastTextClassifier model,
                                       ClassNamesById classes)
    : model_version_(std::move(model_version)),
      commit_(std::move(commit)),
      model_(std::move(model)),
      classes_(std::move(classes)) {}

DeployedClassifier DeployedClassifier::Load(Repository& repository, const std::string& label, const fs::path& cache_dir,
                                            const std::string& models_argument) {
  ValidateLabelName(label);
  ModelRepository models(repository, label);
  // Resolved once: both files come from this commit even if main moves meanwhile.
  const std::optional<std::string> head = repository.HeadOf(kMainBranch);
  const std::string none = "no model of " + label + " is deployed in " + models.Name();
  if (!head)
    throw WorkerError(none + " (its main has no commit): run " + RetrainCommand(label, models_argument) + " first");
  ModelCache cache(cache_dir, repository.Name());
  if (const std::optional<fs::path> entry = cache.Find(*head)) {
    try {
      ModelFiles files = ReadModelFiles(*entry, models);
      return DeployedClassifier(files.card.model_version, *head, std::move(files.model),
                                std::move(files.card.label_map));
    } catch (const WorkerError&) {
      ModelCache::Discard(*entry);  // a damaged copy: read the commit again
    }
  }
  const fs::path staged = cache.Stage(*head);
  bool nothing_deployed = false;
  std::optional<ModelFiles> files;
  try {
    const bool json = repository.DownloadFile(*head, kModelJsonPath, staged / kModelJsonPath);
    const bool model = repository.DownloadFile(*head, kModelPath, staged / kModelPath);
    nothing_deployed = !json && !model;
    if (!nothing_deployed) files = ReadModelFiles(staged, models);
  } catch (const WorkerError& error) {
    ModelCache::Discard(staged);
    throw WorkerError("the deployed model of " + label + " (main at commit " + head->substr(0, 12) +
                      ") cannot be used: " + error.what() + ReplaceAdvice(label, models_argument));
  } catch (...) {
    ModelCache::Discard(staged);
    throw;
  }
  if (nothing_deployed) {
    ModelCache::Discard(staged);
    throw WorkerError(none + " yet (main holds no model): run " + RetrainCommand(label, models_argument) + " first");
  }
  cache.Keep(staged, *head);
  return DeployedClassifier(files->card.model_version, *head, std::move(files->model),
                            std::move(files->card.label_map));
}

DeployedClassifier DeployedClassifier::Load(const fs::path& models_dir, const std::string& label,
                                            const fs::path& cache_dir) {
  ValidateLabelName(label);
  const fs::path label_dir = models_dir / label;
  std::error_code error;
  if (!fs::is_directory(label_dir / ".repo", error)) {
    if (!HasEarlierLayout(label_dir))
      throw WorkerError("no model of " + label + " is deployed in " + models_dir.string() + " (" + label_dir.string() +
                        " is not a model repository): run " + RetrainCommand(label, models_dir.string()) + " first");
    // An earlier release's deployed model, until a retrain or rollback imports it.
    try {
      EarlierDeployment deployed = ReadEarlierDeployment(label_dir, label);
      FastTextClassifier model = FastTextClassifier::Load(deployed.model_file);
      return DeployedClassifier(deployed.model_version, "", std::move(model), std::move(deployed.card.label_map));
    } catch (const WorkerError& damaged) {
      throw WorkerError("the deployed model of " + label + " (" + label_dir.string() +
                        "/current) cannot be used: " + damaged.what() + ReplaceAdvice(label, models_dir.string()));
    }
  }
  LocalRepository repository(fs::absolute(label_dir, error).lexically_normal());
  return Load(repository, label, cache_dir, models_dir.string());
}

LabelPrediction DeployedClassifier::Predict(std::string_view text) const {
  ClassPrediction prediction = model_.Predict(CleanText(text));
  auto name = classes_.find(prediction.label);
  if (name == classes_.end())
    throw WorkerError("the model " + model_version_ + " predicted the class id " + std::to_string(prediction.label) +
                      ", which its model.json's label map does not name: the model is damaged");
  return {.name = name->second, .id = prediction.label, .probability = prediction.probability};
}

nlohmann::ordered_json LabelPredictionJson(const LabelPrediction& prediction) {
  // fastText computes in single precision: six decimals say all there is.
  return {{"label", prediction.name},
          {"id", prediction.id},
          {"probability", std::round(prediction.probability * 1e6) / 1e6}};
}

}  // namespace orch
