#include "workers/retrain.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <set>
#include <thread>

#include "config/label_name.h"
#include "hub/local_repository.h"
#include "util/error.h"
#include "util/private_temp_dir.h"
#include "util/strings.h"
#include "util/time.h"
#include "workers/earlier_models.h"
#include "workers/model_readme.h"
#include "workers/models_lock.h"
#include "workers/stratified_split.h"

namespace orch {
namespace {

namespace fs = std::filesystem;

// How much of the field each round of the search keeps.
constexpr size_t kHalvingFactor = 3;

struct Candidate {
  FastTextSettings settings;
  double validation_macro_f1 = -1;  // -1 until scored, and for a combination that could not be trained
};

void Report(const ProgressReport& progress, const std::string& message) {
  if (progress) progress(message);
}

std::string Describe(const FastTextSettings& settings) {
  return "epoch " + std::to_string(settings.epochs) + ", lr " + FormatFixed(settings.learning_rate, 2) +
         ", word n-grams " + std::to_string(settings.word_ngrams);
}

// Word n-gram buckets: the space's number, or twice the train split's word count when that is fewer
// (a text of n words has fewer than n bigrams), so small datasets make small models quickly.
int BucketsFor(std::span<const SplitRow> train, int most) {
  size_t words = 0;
  for (const SplitRow& row : train)
    for (size_t i = 0; i < row.text.size(); ++i)
      if (row.text[i] != ' ' && (i == 0 || row.text[i - 1] == ' ')) ++words;
  return static_cast<int>(std::min<size_t>(static_cast<size_t>(std::max(most, 1)), std::max<size_t>(2 * words, 1024)));
}

std::vector<Candidate> Combinations(const SearchSpace& space, int buckets) {
  std::vector<Candidate> candidates;
  for (int word_ngrams : space.word_ngrams)
    for (double learning_rate : space.learning_rates)
      for (int epochs : space.epochs)
        candidates.push_back({.settings = {.epochs = epochs,
                                           .learning_rate = learning_rate,
                                           .word_ngrams = word_ngrams,
                                           .dimension = space.dimension,
                                           .buckets = buckets,
                                           .threads = space.threads,
                                           .seed = space.seed}});
  if (candidates.empty()) throw WorkerError("the settings search has nothing to try");
  return candidates;
}

std::vector<int> TrueLabels(std::span<const SplitRow> rows) {
  std::vector<int> labels;
  labels.reserve(rows.size());
  for (const SplitRow& row : rows) labels.push_back(row.label);
  return labels;
}

ClassificationScores Score(const FastTextClassifier& model, std::span<const SplitRow> rows) {
  return ScoreClassification(TrueLabels(rows), model.PredictLabels(rows));
}

// What training and scoring one candidate gave.
struct Trial {
  ClassificationScores scores;
  std::exception_ptr failure;
};

// The best model of a round on the whole train split, shared by the workers of the round.
class BestModel {
 public:
  // Keeps `model` when it beats the one kept (a tie goes to the candidate listed first), loaded
  // again so that it holds a word table of its vocabulary's size rather than the 120 MB one of its
  // training, while the next candidates train beside it.
  void Offer(FastTextClassifier model, const ClassificationScores& scores, size_t candidate) {
    {
      std::lock_guard lock(mutex_);
      if (!Beats(scores, candidate)) return;
    }
    std::optional<FastTextClassifier> kept;
    try {
      kept.emplace(model.Reloaded());
    } catch (const WorkerError&) {
      kept.emplace(std::move(model));  // no room for a temporary file: kept as it is
    }
    std::lock_guard lock(mutex_);
    if (!Beats(scores, candidate)) return;  // another beat it meanwhile
    best_ = SearchResult{.model = std::move(*kept), .validation_scores = scores, .trainings = 0};
    candidate_ = candidate;
  }
  std::optional<SearchResult> Take() { return std::move(best_); }

 private:
  bool Beats(const ClassificationScores& scores, size_t candidate) const {
    return !best_ || scores.macro_f1 > best_->validation_scores.macro_f1 ||
           (scores.macro_f1 == best_->validation_scores.macro_f1 && candidate < candidate_);
  }

  std::mutex mutex_;
  std::optional<SearchResult> best_;
  size_t candidate_ = 0;
};

// Trains and scores every candidate on `rows`, `workers` at a time with one thread each: fastText
// checks on its threads only every 100 ms, so small trainings side by side finish sooner. Only the
// best model is kept (when `best` is given): each holds fastText's 120 MB word table.
std::vector<Trial> RunTrials(const std::vector<Candidate>& candidates, std::span<const SplitRow> rows,
                             std::span<const SplitRow> validation, int workers, BestModel* best) {
  std::vector<Trial> trials(candidates.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next++) < candidates.size();) {
      FastTextSettings settings = candidates[i].settings;
      settings.threads = 1;
      try {
        FastTextClassifier model = FastTextClassifier::Train(rows, settings);
        trials[i].scores = Score(model, validation);
        if (best) best->Offer(std::move(model), trials[i].scores, i);
      } catch (...) {  // kept, so nothing escapes a worker thread
        trials[i].failure = std::current_exception();
      }
    }
  };
  std::vector<std::jthread> helpers;
  for (int helper = 1; helper < std::min<int>(workers, static_cast<int>(candidates.size())); ++helper)
    helpers.emplace_back(work);
  work();
  for (std::jthread& helper : helpers) helper.join();
  return trials;
}

// Trains and scores each candidate on `rows`, then sorts them best first; keeps the best model when
// `keep_best` (the round on the whole train split). A candidate that fails to train (a learning rate at
// which training diverges, say) drops out; when all fail, the first failure is thrown.
void RunRound(std::vector<Candidate>& candidates, std::span<const SplitRow> rows, std::span<const SplitRow> validation,
              int workers, bool keep_best, std::optional<SearchResult>& best, int& trainings) {
  BestModel round_best;
  std::vector<Trial> trials = RunTrials(candidates, rows, validation, workers, keep_best ? &round_best : nullptr);
  std::exception_ptr first_failure;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (trials[i].failure) {
      try {
        std::rethrow_exception(trials[i].failure);
      } catch (const WorkerError&) {
        if (!first_failure) first_failure = trials[i].failure;
      }  // anything else (out of memory, say) is not the candidate's fault: it propagates
      candidates[i].validation_macro_f1 = -1;
      continue;
    }
    ++trainings;
    candidates[i].validation_macro_f1 = trials[i].scores.macro_f1;
  }
  if (std::all_of(candidates.begin(), candidates.end(), [](const Candidate& c) { return c.validation_macro_f1 < 0; }))
    std::rethrow_exception(first_failure);
  if (keep_best) best = round_best.Take();
  // Best first; a tie keeps the search space's order, which lists cheaper settings first.
  std::stable_sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.validation_macro_f1 > b.validation_macro_f1;
  });
}

// The deployed model's scores on the test split. Its class ids are translated through the class
// names of its model.json, so a model trained on an older label map is scored fairly.
ClassificationScores ScoreDeployed(const FastTextClassifier& model, const ModelCard& card, const TextDataset& dataset) {
  std::map<std::string, int> dataset_ids;
  for (const auto& [id, name] : dataset.classes) dataset_ids[name] = id;
  std::vector<int> predicted = model.PredictLabels(dataset.test);
  for (int& id : predicted) {
    auto name = card.label_map.find(id);
    auto translated = name == card.label_map.end() ? dataset_ids.end() : dataset_ids.find(name->second);
    id = translated == dataset_ids.end() ? -1 : translated->second;  // a class the dataset does not know
  }
  return ScoreClassification(TrueLabels(dataset.test), predicted);
}

std::string DecisionReason(const ClassificationScores& candidate, const std::optional<ClassificationScores>& deployed,
                           double threshold, bool accepted, const std::string& deployed_damage) {
  if (!deployed_damage.empty()) return deployed_damage;
  if (!deployed) return "no model is deployed yet";
  std::string comparison = "macro-F1 " + FormatFixed(candidate.macro_f1, 4) + " against the deployed model's " +
                           FormatFixed(deployed->macro_f1, 4) + " (gain " +
                           FormatFixed(candidate.macro_f1 - deployed->macro_f1, 4) + ")";
  return comparison + (accepted ? " is more than " : " is not more than ") + "the threshold " +
         FormatFixed(threshold, 4);
}

ModelCard NewCard(const RetrainRequest& request, const TextDataset& dataset, const std::string& dataset_repository,
                  const SearchResult& search, const ClassificationScores& test_scores,
                  std::chrono::system_clock::time_point now) {
  ModelCard card;
  card.label = request.label;
  card.model_version = ModelVersionAt(now);
  card.dataset_version = dataset.version_tag;
  card.dataset_repository = dataset_repository;
  card.dataset_commit = dataset.commit;
  card.created_at = FormatTimestamp(now);
  card.metrics = test_scores;
  card.validation_metrics = search.validation_scores;
  card.label_map = dataset.classes;
  card.hyperparameters = search.model.settings();
  card.search_trainings = search.trainings;
  card.train_rows = static_cast<int64_t>(dataset.train.size());
  return card;
}

std::string Short(const std::string& commit) { return commit.substr(0, 12); }

// A published candidate to decide on: its model.json, its model.bin on this machine, its commit.
struct CandidateModel {
  ModelCard card;
  fs::path model_file;
  std::string commit;
};

// The model main holds, weighed on the test split.
struct Deployed {
  std::optional<ModelCard> card;
  std::optional<ClassificationScores> scores;
  std::string damage;  // why it could not be scored, as the decision's reason; "" when it was
  std::optional<std::string> version, dataset_version;
};

Deployed WeighDeployed(ModelRepository& models, const MainSnapshot& main, const TextDataset& dataset,
                       const ProgressReport& progress) {
  Deployed deployed;
  if (!main.commit || !main.has_model) return deployed;
  std::string name = "at main's commit " + Short(*main.commit);
  try {
    deployed.card = models.ReadCard(*main.commit, kMainBranch);
    deployed.version = deployed.card->model_version;
    deployed.dataset_version = deployed.card->dataset_version;
    name = deployed.card->model_version;
    const FastTextClassifier model = models.LoadModel(*main.commit, kMainBranch);
    deployed.scores = ScoreDeployed(model, *deployed.card, dataset);
    Report(progress, "deployed model " + name + " (trained on " + deployed.card->dataset_version + "): test macro-F1 " +
                         FormatFixed(deployed.scores->macro_f1, 4));
  } catch (const WorkerError& error) {
    // A deployed model that cannot be read must not keep the label from ever moving on: the new
    // model is judged alone, as when nothing is deployed, and replaces it. (A repository that cannot
    // be read is no such case: it stops the run.)
    const std::string damaged = "the deployed model " + name + " is damaged or unreadable";
    deployed.damage = damaged + ", so only the new model was scored (" + error.what() + ")";
    deployed.scores.reset();
    Report(progress, damaged + ": only the new model is scored, and replaces it (" + error.what() + ")");
  }
  return deployed;
}

// Step 5: weighs the candidate against main's model and commits the decision on main; a main that
// moved meanwhile is read and weighed again, once.
RetrainOutcome Decide(ModelRepository& models, const CandidateModel& candidate, const TextDataset& dataset,
                      const RetrainRequest& request, bool trained) {
  const std::string& version = candidate.card.dataset_version;
  for (int attempt = 1;; ++attempt) {
    const MainSnapshot main = models.ReadMain();
    const Deployed deployed = WeighDeployed(models, main, dataset, request.progress);
    const auto now = std::chrono::system_clock::now();
    const bool accepted = ShouldDeploy(candidate.card.metrics, deployed.scores, request.decision_threshold);
    RetrainOutcome outcome;
    outcome.card = candidate.card;
    outcome.trained = trained;
    outcome.candidate_commit = candidate.commit;
    outcome.repository = models.Name();
    outcome.decision = {.time = FormatTimestamp(now),
                        .label = request.label,
                        .kind = accepted ? DecisionKind::kAccepted : DecisionKind::kRejected,
                        .dataset_version = version,
                        .model_version = candidate.card.model_version,
                        .new_scores = candidate.card.metrics,
                        .deployed_scores = deployed.scores,
                        .deployed_version = deployed.version,
                        .deployed_dataset_version = deployed.dataset_version,
                        .decision_threshold = request.decision_threshold,
                        .reason = DecisionReason(candidate.card.metrics, deployed.scores, request.decision_threshold,
                                                 accepted, deployed.damage),
                        .candidate = candidate.commit};
    const std::string log = AppendDecisionLine(main.decisions, DecisionLine(outcome.decision));
    std::vector<FileAddition> files;
    if (accepted) {
      files.push_back(FileAddition::FromFile(kModelPath, candidate.model_file));
      files.push_back(FileAddition::FromBytes(kModelJsonPath, ModelCardJson(candidate.card).dump(2) + "\n"));
    }
    files.push_back(FileAddition::FromBytes(
        kModelCardPath, DeployedModelReadme(request.label, accepted ? candidate.card : deployed.card, log)));
    files.push_back(FileAddition::FromBytes(kDecisionsPath, log));
    const std::string summary = accepted ? "Deploy the model trained on " + version
                                         : "Keep the deployed model: the one trained on " + version + " is rejected";
    try {
      outcome.main_commit = models.CommitToMain(main.commit, summary, outcome.decision.reason, std::move(files));
      return outcome;
    } catch (const StaleParentError& error) {
      if (attempt == 2)
        throw WorkerError("main of " + models.Name() + " moved twice while the decision on " + version +
                          " was being committed, so nothing was decided (" + error.what() +
                          "); the model is kept as the candidate tagged " + version +
                          ": run retrain again, and it decides without training");
      Report(request.progress, "main moved meanwhile (another decision landed): weighing the new model again");
    }
  }
}

}  // namespace

void CheckTrainable(const TextDataset& dataset) {
  std::set<int> classes;
  for (const SplitRow& row : dataset.train) classes.insert(row.label);
  if (classes.size() < 2)
    throw WorkerError(dataset.location + "/data/train.jsonl holds only the class " +
                      QuoteForMessage(dataset.classes.at(*classes.begin())) +
                      ": a classifier needs at least two; publish a dataset with rows of other classes");
}

SearchResult SearchSettings(std::span<const SplitRow> train, std::span<const SplitRow> validation,
                            const SearchSpace& space, const ProgressReport& progress) {
  if (train.empty() || validation.empty()) throw WorkerError("the settings search needs train and validation rows");
  std::vector<Candidate> candidates = Combinations(space, BucketsFor(train, space.buckets));
  // Each round trains on a prefix of one seeded shuffle, so later rounds see the earlier rows too.
  SeededShuffler shuffler(static_cast<uint64_t>(space.seed));
  std::vector<SplitRow> shuffled(train.begin(), train.end());
  shuffler.Shuffle(shuffled);
  // Rounds on part of the train split only rank settings: a sample of the validation split does.
  std::vector<SplitRow> validation_sample(validation.begin(), validation.end());
  shuffler.Shuffle(validation_sample);
  validation_sample.resize(std::min(validation_sample.size(), std::max<size_t>(space.screening_validation_rows, 1)));
  std::optional<SearchResult> best;
  int trainings = 0;
  size_t rows = std::min(shuffled.size(), std::max<size_t>(space.first_round_rows, 1));
  for (int round = 1;; ++round) {
    bool whole_split = rows == shuffled.size();
    Report(progress, "search round " + std::to_string(round) + ": " + std::to_string(candidates.size()) +
                         " setting(s) on " + std::to_string(rows) + " train rows");
    RunRound(candidates, std::span(shuffled).first(rows), whole_split ? validation : std::span(validation_sample),
             space.threads, whole_split, best, trainings);
    if (whole_split) break;
    candidates.resize((candidates.size() + kHalvingFactor - 1) / kHalvingFactor);
    if (candidates.size() == 1) {
      Report(progress, "training " + Describe(candidates.front().settings) + " on all " +
                           std::to_string(shuffled.size()) + " train rows");
      FastTextClassifier model = FastTextClassifier::Train(train, candidates.front().settings);
      ++trainings;
      ClassificationScores scores = Score(model, validation);
      best = SearchResult{.model = std::move(model), .validation_scores = scores, .trainings = 0};
      break;
    }
    rows = std::min(shuffled.size(), rows * kHalvingFactor);
  }
  best->trainings = trainings;
  Report(progress, "chose " + Describe(best->model.settings()) + ": validation macro-F1 " +
                       FormatFixed(best->validation_scores.macro_f1, 4));
  return std::move(*best);
}

bool ShouldDeploy(const ClassificationScores& candidate, const std::optional<ClassificationScores>& deployed,
                  double threshold) {
  return !deployed || candidate.macro_f1 - deployed->macro_f1 > threshold;
}

RetrainOutcome RetrainInto(ModelRepository& models, const TextDataset& dataset, const std::string& dataset_repository,
                           const RetrainRequest& request) {
  CheckTrainable(dataset);
  models.repository().CreateIfMissing();
  PrivateTempDir scratch("orchestrator-retrain", "the new model");
  const std::string& version = dataset.version_tag;
  CandidateModel candidate{.card = {}, .model_file = scratch.path() / kModelPath, .commit = ""};
  if (std::optional<std::string> tagged = models.CandidateCommit(version)) {
    // Trained already: never again. Its decision is the answer, or it is decided now.
    const MainSnapshot main = models.ReadMain();
    const std::vector<LoggedDecision> log =
        ParseDecisionLog(main.decisions, models.Where(kMainBranch, kDecisionsPath),
                         "the dataset version " + version + " was trained already (the candidate tagged " + version +
                             "), and nothing was done");
    if (const LoggedDecision* earlier = DecisionOn(log, version)) {
      Report(request.progress, "dataset " + version + " was trained and decided already (the candidate tagged " +
                                   version + "); not training it again");
      RetrainOutcome outcome;
      outcome.earlier_decision = earlier->text;
      outcome.repository = models.Name();
      return outcome;
    }
    Report(request.progress, "dataset " + version + " was trained already (the candidate tagged " + version +
                                 ", commit " + Short(*tagged) + ") and not decided: deciding it now, without training");
    candidate.card = models.ReadCard(*tagged, version);
    models.DownloadModel(*tagged, version, candidate.model_file);
    FastTextClassifier::Load(candidate.model_file);  // a damaged candidate is not deployed
    candidate.commit = *tagged;
    return Decide(models, candidate, dataset, request, /*trained=*/false);
  }
  // A version an earlier release decided (before candidates were tagged) is not trained again either.
  if (const MainSnapshot main = models.ReadMain(); !main.decisions.empty()) {
    const std::vector<LoggedDecision> log = ReadableDecisions(main.decisions);
    if (const LoggedDecision* earlier = DecisionOn(log, version)) {
      Report(request.progress, "dataset " + version + " was decided already (line " +
                                   std::to_string(earlier->line_number) + " of " +
                                   models.Where(kMainBranch, kDecisionsPath) + "); not training it again");
      RetrainOutcome outcome;
      outcome.earlier_decision = earlier->text;
      outcome.repository = models.Name();
      return outcome;
    }
  }
  // Trained by a retrain that stopped before its tag: the model is there, and is tagged now.
  if (std::optional<std::string> untagged = models.UntaggedCandidate(version, dataset.commit)) {
    try {
      candidate.card = models.ReadCard(*untagged, kCandidatesBranch);
      models.DownloadModel(*untagged, kCandidatesBranch, candidate.model_file);
      FastTextClassifier::Load(candidate.model_file);  // a damaged candidate is not deployed
    } catch (const WorkerError& error) {               // damaged; a repository that cannot be read is a RepositoryError
      Report(request.progress, "the untagged model trained on " + version + " (commit " + Short(*untagged) + " on " +
                                   kCandidatesBranch + ") cannot be used: " + error.what() + "; training anew");
      untagged.reset();
    }
    if (untagged) {
      models.TagCandidate(*untagged, version);
      candidate.commit = *untagged;
      Report(request.progress, "dataset " + version + " was trained by a retrain that stopped before its tag (commit " +
                                   Short(*untagged) + " on " + kCandidatesBranch + "): tagged it " + version +
                                   " and deciding it now, without training");
      return Decide(models, candidate, dataset, request, /*trained=*/false);
    }
  }
  {
    const SearchResult search = SearchSettings(dataset.train, dataset.validation, request.search, request.progress);
    const ClassificationScores test_scores = Score(search.model, dataset.test);
    Report(request.progress, "new model: test macro-F1 " + FormatFixed(test_scores.macro_f1, 4) + ", accuracy " +
                                 FormatFixed(test_scores.accuracy, 4));
    candidate.card =
        NewCard(request, dataset, dataset_repository, search, test_scores, std::chrono::system_clock::now());
    search.model.Save(candidate.model_file);
  }                                                // the search's model is freed before the deployed one is loaded
  FastTextClassifier::Load(candidate.model_file);  // what is published must load; this also catches a short write
  candidate.commit = models.PublishCandidate(candidate.model_file, candidate.card);
  Report(request.progress, "published the new model as the candidate tagged " + version + " (commit " +
                               Short(candidate.commit) + " on " + kCandidatesBranch + ")");
  return Decide(models, candidate, dataset, request, /*trained=*/true);
}

std::string DatasetRepositoryName(const fs::path& dataset_dir) {
  std::error_code error;
  fs::path name = fs::absolute(dataset_dir, error).lexically_normal();
  if (error) name = dataset_dir;
  if (name.filename().empty()) name = name.parent_path();
  return name.string();
}

void AnnounceDataset(const TextDataset& dataset, const RetrainRequest& request) {
  CheckTrainable(dataset);
  Report(request.progress, "dataset " + dataset.version_tag + ": " + std::to_string(dataset.train.size()) + " train, " +
                               std::to_string(dataset.validation.size()) + " validation, " +
                               std::to_string(dataset.test.size()) + " test rows, " +
                               std::to_string(dataset.classes.size()) + " classes");
}

RetrainOutcome RetrainInLocalModels(const TextDataset& dataset, const std::string& dataset_repository,
                                    const RetrainRequest& request) {
  const fs::path label_dir = request.models_dir / request.label;
  const LabelModelsLock lock(label_dir, request.label);
  LocalRepository repository(label_dir);
  ModelRepository models(repository, request.label);
  if (std::optional<std::string> imported = ImportEarlierLayout(models, label_dir, std::chrono::system_clock::now()))
    Report(request.progress, *imported);
  return RetrainInto(models, dataset, dataset_repository, request);
}

RetrainOutcome Retrain(const RetrainRequest& request) {
  ValidateLabelName(request.label);
  const TextDataset dataset = ReadTextDataset(request.dataset_dir, request.label, request.version);
  AnnounceDataset(dataset, request);
  return RetrainInLocalModels(dataset, DatasetRepositoryName(request.dataset_dir), request);
}

}  // namespace orch
