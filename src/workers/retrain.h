// The reference retrain worker: train a classifier on a dataset version, compare it with the deployed
// model, deploy it when it is better. A label's models live in its model repository
// (workers/model_repository.h): MODELS/<label> on this machine.
//
// One retrain of a label:
//   1. reads and checks the dataset version at its tag (jsonl_dataset.h); nothing else happens when
//      it is bad;
//   2. takes the label's lock (workers/models_lock.h), imports the models of an earlier release
//      (workers/earlier_models.h), and looks for a candidate tagged with the version: one that
//      exists means the version was trained already, and it is not trained again. Its decision on
//      main is the answer; a candidate without one (a run stopped after tagging it) is decided now. A
//      version an earlier release decided (a line of decisions.jsonl, no tag) is answered the same;
//   3. chooses fastText's epochs, learning rate and word n-grams on the validation split by successive
//      halving: every combination of the search space is trained on 2,000 train rows, the
//      best third goes on to three times as many rows, and so on until one is left (or the rows run
//      out), which is then trained on the whole train split. The cost stays a small multiple of one
//      full training, whatever the size of the search space;
//   4. scores the new model on the test split and publishes it as a candidate: committed onto the
//      branch `candidates` and tagged with the dataset version;
//   5. scores the deployed model (main's) on the same test split and decides: the new model is
//      deployed when its macro-F1 beats the deployed model's by more than the decision threshold
//      (or nothing is deployed). One commit on main records the decision, accepted or rejected, in
//      decisions.jsonl and the card, and for an accepted model brings its model.bin and model.json.
//      A main that moved meanwhile is read again and the decision made once more (once).
// A deployed model whose files are damaged (a model.bin or model.json that does not load) is
// reported as damaged and not scored, as if nothing were deployed: the decision records it
// (`deployed` null, the reason saying what was wrong) and the new model replaces it. A run that
// fails (bad data, a repository that cannot be read or written) throws: before step 4 it changes
// nothing; after it, the candidate stays tagged and the next run of that version decides it.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hub/repository.h"
#include "workers/classification_metrics.h"
#include "workers/decision_log.h"
#include "workers/fasttext_classifier.h"
#include "workers/jsonl_dataset.h"
#include "workers/model_card.h"
#include "workers/model_repository.h"

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
  std::filesystem::path models_dir;    // MODELS: the label's model repository is MODELS/<label>
  std::optional<std::string> version;  // the dataset version; the latest published when not given
  double decision_threshold = 0.001;
  SearchSpace search;
  ProgressReport progress;
};

struct RetrainOutcome {
  // Set when the version was trained and decided already and nothing was done: that
  // decisions.jsonl line. Nothing else is set then.
  std::optional<std::string> earlier_decision;
  ModelDecision decision;        // as committed to main's decisions.jsonl
  ModelCard card;                // the candidate's model.json
  bool trained = true;           // false: the candidate of an interrupted run was decided, not trained
  std::string candidate_commit;  // the commit its tag is on
  std::string main_commit;       // main's commit that records the decision
  std::string repository;        // the model repository's name
};

// Throws WorkerError when the train split holds fewer than two classes.
void CheckTrainable(const TextDataset& dataset);

// One retrain of the label in the local model repository MODELS/<label>, as described at the top of
// this file. Throws ConfigError for a bad label name or version, WorkerError or RepositoryError for
// anything else that stops it.
RetrainOutcome Retrain(const RetrainRequest& request);

// How the model card names a local dataset repository: its directory as an absolute path, so that
// it says where the data is wherever retrain ran.
std::string DatasetRepositoryName(const std::filesystem::path& dataset_dir);

// Checks that `dataset` can be trained on (CheckTrainable) and describes it through request.progress.
void AnnounceDataset(const TextDataset& dataset, const RetrainRequest& request);

// Steps 2 to 5 for `dataset` (read from the repository `dataset_repository` names) in the local model
// repository MODELS/<label> (request.models_dir), holding its lock, after importing the models of an
// earlier release's layout.
RetrainOutcome RetrainInLocalModels(const TextDataset& dataset, const std::string& dataset_repository,
                                    const RetrainRequest& request);

// Steps 2 (from the candidate tag on) to 5 in `models`, through the repository interface alone,
// for `dataset` (read from the dataset repository `dataset_repository` names). The caller holds
// whatever keeps other writers of the label out.
RetrainOutcome RetrainInto(ModelRepository& models, const TextDataset& dataset, const std::string& dataset_repository,
                           const RetrainRequest& request);

}  // namespace orch
