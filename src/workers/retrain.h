// The reference retrain worker: train a classifier on a dataset version, compare it with the deployed
// model, deploy it when it is better.
//
// One retrain of a label:
//   1. reads and checks the dataset version at its tag (jsonl_dataset.h); nothing else happens when
//      it is bad;
//   2. takes the label's lock and scores the deployed model, if any, on the version's test split; a
//      deployed model that cannot be read (a damaged model.bin or model.json, a version directory
//      that is gone) is reported as damaged and not scored, as if nothing were deployed;
//   3. chooses fastText's epochs, learning rate and word n-grams on the validation split by successive
//      halving: every combination of the search space is trained on 2,000 train rows, the
//      best third goes on to three times as many rows, and so on until one is left (or the rows run
//      out), which is then trained on the whole train split. The cost stays a small multiple of one
//      full training, whatever the size of the search space;
//   4. scores the new model on the test split and deploys it when its macro-F1 beats the deployed
//      model's by more than the decision threshold (or nothing is deployed): the model and its card
//      go to MODELS/<label>/<model_version>/ and `current` moves to it;
//   5. appends the decision, accepted or rejected, to MODELS/<label>/decisions.jsonl.
// A run that fails (bad data, a `current` that is not a symlink to a version name, a disk error)
// throws before step 5: it records no decision and leaves the deployed model and `current` as they
// were. A damaged deployed model is no such failure: the decision records it (`deployed_scores`
// null, the reason saying what was wrong) and the new model replaces it.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "workers/classification_metrics.h"
#include "workers/fasttext_classifier.h"
#include "workers/jsonl_dataset.h"
#include "workers/model_store.h"

namespace orch {

// What the settings search tries, and what it keeps fixed.
struct SearchSpace {
  std::vector<int> word_ngrams = {1, 2};
  std::vector<double> learning_rates = {0.1, 0.3, 1.0};
  std::vector<int> epochs = {5, 10, 20};
  int dimension = 50;
  int buckets = 200000;  // at most; twice the train split's word count when that is fewer
  // A round trains this many settings side by side, one thread each; the final training uses them all.
  int threads = 2;
  int seed = 0;
  size_t first_round_rows = 2000;           // train rows each combination gets in the first round
  size_t screening_validation_rows = 5000;  // validation rows that score a round on part of train
};

// Reports progress in a sentence; may be empty.
using ProgressReport = std::function<void(std::string_view)>;

struct SearchResult {
  FastTextClassifier model;                // the chosen settings, trained on every train row
  ClassificationScores validation_scores;  // the model's scores on the validation split
  int trainings = 0;                       // models trained, the final one included
};

// Chooses the settings by successive halving (see the top of this file). Throws WorkerError when
// every combination fails to train.
SearchResult SearchSettings(std::span<const SplitRow> train, std::span<const SplitRow> validation,
                            const SearchSpace& space, const ProgressReport& progress = {});

// The deploy rule: nothing deployed, or a macro-F1 gain greater than `threshold`.
bool ShouldDeploy(const ClassificationScores& candidate, const std::optional<ClassificationScores>& deployed,
                  double threshold);

struct RetrainRequest {
  std::string label;
  std::filesystem::path dataset_dir;   // the label's dataset repository, HUB/<label>
  std::filesystem::path models_dir;    // MODELS (the label's models go to MODELS/<label>)
  std::optional<std::string> version;  // the dataset version; the latest published when not given
  double decision_threshold = 0.001;
  // Answer a version decisions.jsonl has decided already with that decision, without training.
  bool answer_decided = false;
  SearchSpace search;
  ProgressReport progress;
};

struct RetrainOutcome {
  // Set when the version was decided already and nothing was trained: that decisions.jsonl line.
  std::optional<std::string> earlier_decision;
  RetrainDecision decision;  // as appended to decisions.jsonl
  ModelCard card;            // the new model's card (stored only when accepted)
};

// One retrain, as described at the top of this file. Throws ConfigError for a bad label name or
// version, WorkerError for anything else that stops it.
RetrainOutcome Retrain(const RetrainRequest& request);

}  // namespace orch
