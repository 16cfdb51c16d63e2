#include "workers/predict.h"

#include <cmath>

#include "config/label_name.h"
#include "util/error.h"
#include "workers/model_store.h"
#include "workers/text_clean.h"

namespace orch {

DeployedClassifier::DeployedClassifier(std::string model_version, FastTextClassifier model, ClassNamesById classes)
    : model_version_(std::move(model_version)), model_(std::move(model)), classes_(std::move(classes)) {}

DeployedClassifier DeployedClassifier::Load(const std::filesystem::path& models_dir, const std::string& label) {
  ValidateLabelName(label);
  ModelStore store(models_dir, label);
  // Resolved once: model and card come from the same version even if `current` moves meanwhile.
  std::optional<std::string> version = store.CurrentVersion();
  if (!version)
    throw WorkerError("no model of " + label + " is deployed in " + models_dir.string() + " (no " +
                      (store.directory() / "current").string() + "): run `orchestrator retrain --label " + label +
                      " --dataset HUB/" + label + " --models " + models_dir.string() + "` first");
  try {
    ModelCard card = store.ReadCard(*version);
    return DeployedClassifier(*version, store.LoadModel(*version), std::move(card.label_map));
  } catch (const WorkerError& error) {
    throw WorkerError("the deployed model of " + label + " (" + *version + ") cannot be used: " + error.what() +
                      ". The next accepted retrain replaces it: run `orchestrator retrain --label " + label +
                      " --dataset HUB/" + label + " --models " + models_dir.string() + "`");
  }
}

LabelPrediction DeployedClassifier::Predict(std::string_view text) const {
  ClassPrediction prediction = model_.Predict(CleanText(text));
  auto name = classes_.find(prediction.label);
  if (name == classes_.end())
    throw WorkerError("the model " + model_version_ + " predicted the class id " + std::to_string(prediction.label) +
                      ", which its card's label map does not name: the model directory is damaged");
  return {.name = name->second, .id = prediction.label, .probability = prediction.probability};
}

nlohmann::ordered_json LabelPredictionJson(const LabelPrediction& prediction) {
  // fastText computes in single precision: six decimals say all there is.
  return {{"label", prediction.name},
          {"id", prediction.id},
          {"probability", std::round(prediction.probability * 1e6) / 1e6}};
}

}  // namespace orch
