// The reference predict worker: classify texts with a label's deployed model.
//
// The deployed model is the one MODELS/<label>/current points to; its card names the classes. A
// text is cleaned the way the prepare worker cleans the training data (text_clean.h) before the
// model sees it, so predictions are made on text like the text the model learnt from.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "workers/fasttext_classifier.h"
#include "workers/jsonl_dataset.h"

namespace orch {

struct LabelPrediction {
  std::string name;  // the class name, from the model card's label map
  int id = 0;
  double probability = 0;
};

class DeployedClassifier {
 public:
  // Loads the deployed model of `label` in `models_dir`. Throws WorkerError when none is deployed
  // (saying to run `orchestrator retrain` first) or it cannot be read or is damaged (naming the file
  // and what is wrong, and saying that the next accepted retrain replaces it).
  static DeployedClassifier Load(const std::filesystem::path& models_dir, const std::string& label);

  // The class of a raw text (cleaned first).
  LabelPrediction Predict(std::string_view text) const;

  const std::string& model_version() const { return model_version_; }

 private:
  DeployedClassifier(std::string model_version, FastTextClassifier model, ClassNamesById classes);

  std::string model_version_;
  FastTextClassifier model_;
  ClassNamesById classes_;
};

// {"label": name, "id": id, "probability": p} (p rounded to six decimals)
nlohmann::ordered_json LabelPredictionJson(const LabelPrediction& prediction);

}  // namespace orch
