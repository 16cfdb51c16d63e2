// A label's deployed models on disk: model versions, the `current` pointer, the decision log.
//
//   MODELS/<label>/<model_version>/model.bin   the fastText model
//   MODELS/<label>/<model_version>/model.json  its model card (ModelCard)
//   MODELS/<label>/current                     symlink -> <model_version>, the deployed model
//   MODELS/<label>/decisions.jsonl             one RetrainDecision per line, appended
//
// A version directory appears whole or not at all (written under a hidden staging name, checked by
// loading the model back, then renamed into place without replacing anything), and `current` moves
// atomically (a new symlink under a temporary name renamed over it), so a reader such as
// `orchestrator predict` always finds a complete model. A retrain holds the label's lock file
// (MODELS/<label>/.retrain.lock) from the moment it looks at the deployed model until it has
// recorded its decision, so two retrains of one label cannot interleave.
//
// Nothing read from the store is trusted: a model card, a model or the decision log that is not a
// regular file of bounded size, or does not parse, is a WorkerError naming the file (and the line)
// and what is wrong.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "util/durable_file.h"
#include "workers/classification_metrics.h"
#include "workers/fasttext_classifier.h"
#include "workers/jsonl_dataset.h"

namespace orch {

// model.json: what a deployed model is and how it was made.
struct ModelCard {
  std::string label;
  std::string model_version;
  std::string dataset_version;
  std::string created_at;                   // ISO 8601 UTC
  ClassificationScores metrics;             // on the dataset version's test split
  ClassificationScores validation_metrics;  // on its validation split, which chose the settings
  ClassNamesById label_map;                 // written as {"<class name>": id, ...}
  FastTextSettings hyperparameters;
  int search_trainings = 0;  // models trained while choosing the settings
  int64_t train_rows = 0;
};

nlohmann::ordered_json ModelCardJson(const ModelCard& card);
// Parses model.json text; `where` names the file in errors. Throws WorkerError when it is not valid
// JSON (naming the line), has no label map, or has a member of the wrong type or out of range.
ModelCard ParseModelCard(std::string_view text, const std::string& where);

// One line of decisions.jsonl.
struct RetrainDecision {
  std::string time;  // ISO 8601 UTC
  std::string label;
  std::string dataset_version;
  std::string model_version;  // the new model's version (kept only when accepted)
  bool accepted = false;
  ClassificationScores new_scores;
  std::optional<ClassificationScores> deployed_scores;  // nothing when no model was deployed
  std::optional<std::string> deployed_version;
  double decision_threshold = 0;
  std::string reason;
};

// {"time", "label", "dataset_version", "model_version", "decision": "accepted"|"rejected", "new",
//  "deployed", "deployed_version", "decision_threshold", "reason"}
nlohmann::ordered_json RetrainDecisionJson(const RetrainDecision& decision);

// The most decisions.jsonl may hold: 64 MiB, a hundred thousand decisions and more.
constexpr uint64_t kMaxDecisionsBytes = uint64_t{64} << 20;

// "m" + the UTC time as YYYYMMDD_HHMMSS, e.g. m20261126_101502.
std::string ModelVersionAt(std::chrono::system_clock::time_point time);

class ModelStore {
 public:
  // The store of `label` in `models_dir`; nothing is created until something is written.
  ModelStore(std::filesystem::path models_dir, std::string label);

  // Held while a retrain decides and deploys; released when destroyed.
  class RetrainLock {
   public:
    RetrainLock(RetrainLock&&) noexcept = default;
    RetrainLock& operator=(RetrainLock&&) = delete;

   private:
    friend class ModelStore;
    explicit RetrainLock(LockFile lock) : lock_(std::move(lock)) {}
    LockFile lock_;
  };
  // Takes the label's lock. Throws WorkerError when another retrain of the label holds it.
  RetrainLock LockForRetrain();

  const std::filesystem::path& directory() const { return directory_; }
  std::filesystem::path VersionDirectory(std::string_view model_version) const;

  // The deployed version (what `current` points to), or nothing when no model is deployed.
  // Throws WorkerError when `current` is not a symlink to a version name.
  std::optional<std::string> CurrentVersion() const;
  // The card of `model_version`. Throws WorkerError when it is missing or damaged.
  ModelCard ReadCard(std::string_view model_version) const;
  // The model of `model_version` (FastTextClassifier::Load). Throws WorkerError when it is missing or damaged.
  FastTextClassifier LoadModel(std::string_view model_version) const;

  // A version name for a model made at `time` that no directory uses yet (a suffix _2, _3, ...
  // is added when needed).
  std::string UnusedVersion(std::chrono::system_clock::time_point time) const;

  // Writes `model` and `card` as version card.model_version. Throws WorkerError (leaving nothing
  // behind) when it cannot, or when that version exists already.
  void Store(const FastTextClassifier& model, const ModelCard& card);
  // Points `current` at `model_version`, atomically.
  void MakeCurrent(std::string_view model_version);
  // Appends one line to decisions.jsonl (after ending a last line that a crash cut short). Throws
  // WorkerError when it cannot, or when decisions.jsonl is not a regular file.
  void AppendDecision(const RetrainDecision& decision);
  // The last decision line recorded for `dataset_version` (its JSON text), if any: a repeated
  // request for a version already decided is answered from it instead of training again. Throws
  // WorkerError naming the line when a line is not a decision, and when decisions.jsonl is not a
  // regular file of at most kMaxDecisionsBytes.
  std::optional<std::string> DecisionFor(std::string_view dataset_version) const;

 private:
  void CreateDirectory() const;

  std::filesystem::path directory_;
  std::string label_;
};

}  // namespace orch
