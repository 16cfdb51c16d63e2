// The reference predict worker: classify texts with a label's deployed model.
//
// The deployed model is main's of the label's model repository (workers/model_repository.h), read
// through the repository at main's head, once per commit: its model.bin and model.json are kept in
// a cache directory by repository and commit (workers/model_cache.h), so a later run with the same
// main reads nothing from the repository, and one after a new deployment reads the new commit. A
// label whose models are still those of an earlier release (MODELS/<label>/current, not imported
// yet: workers/earlier_models.h) is answered with the model `current` names. model.json names the
// classes. A text is cleaned the way the prepare worker cleans the training data (text_clean.h)
// before the model sees it, so predictions are made on text like the text the model learnt from.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "hub/repository.h"
#include "workers/fasttext_classifier.h"
#include "workers/jsonl_dataset.h"

namespace orch {

struct LabelPrediction {
  std::string name;  // the class name, from the model's label map
  int id = 0;
  double probability = 0;
};

class DeployedClassifier {
 public:
  // Loads the deployed model of `label` in `models_dir` (the model repository MODELS/<label>) through
  // the cache directory `cache_dir`. Throws ConfigError for a bad label name; WorkerError when none is
  // deployed (saying to run `orchestrator retrain` first) or it is damaged (naming the file and what
  // is wrong, and saying that the next accepted retrain or a rollback replaces it); RepositoryError
  // when the repository cannot be read.
  static DeployedClassifier Load(const std::filesystem::path& models_dir, const std::string& label,
                                 const std::filesystem::path& cache_dir);
  // The same for main of `repository`, through the repository interface alone; `models` says how to
  // name the models in advice ("--models <models>").
  static DeployedClassifier Load(Repository& repository, const std::string& label,
                                 const std::filesystem::path& cache_dir, const std::string& models);

  // The class of a raw text (cleaned first).
  LabelPrediction Predict(std::string_view text) const;

  const std::string& model_version() const { return model_version_; }
  // main's commit the model was read at; "" for a model of an earlier release.
  const std::string& commit() const { return commit_; }

 private:
  DeployedClassifier(std::string model_version, std::string commit, FastTextClassifier model, ClassNamesById classes);

  std::string model_version_;
  std::string commit_;
  FastTextClassifier model_;
  ClassNamesById classes_;
};

// {"label": name, "id": id, "probability": p} (p rounded to six decimals)
nlohmann::ordered_json LabelPredictionJson(const LabelPrediction& prediction);

}  // namespace orch
