// `orchestrator retrain`: the reference retrain worker (src/workers/retrain.h) on the command line.
#include <chrono>
#include <iostream>
#include <optional>

#include "cli/commands.h"
#include "cli/hub_repositories.h"
#include "cli/sources.h"
#include "config/label_name.h"
#include "util/error.h"
#include "util/strings.h"
#include "workers/decision_log.h"
#include "workers/jsonl_dataset.h"
#include "workers/model_repository.h"
#include "workers/retrain.h"

namespace orch {
namespace {

void PrintSummary(const RetrainOutcome& outcome) {
  const ModelDecision& decision = outcome.decision;
  const FastTextSettings& settings = outcome.card.hyperparameters;
  const ClassificationScores scores = decision.new_scores.value_or(ClassificationScores{});
  std::cout << decision.label << ": " << DecisionKindName(decision.kind) << " the model trained on "
            << decision.dataset_version << " (" << outcome.card.train_rows << " rows; epoch " << settings.epochs
            << ", lr " << settings.learning_rate << ", word n-grams " << settings.word_ngrams << ")\n"
            << "  new model       macro-F1 " << FormatFixed(scores.macro_f1, 4) << "  accuracy "
            << FormatFixed(scores.accuracy, 4) << "\n";
  if (decision.deployed_scores)
    std::cout << "  deployed model  macro-F1 " << FormatFixed(decision.deployed_scores->macro_f1, 4) << "  accuracy "
              << FormatFixed(decision.deployed_scores->accuracy, 4) << "  (" << decision.deployed_version.value_or("?")
              << ", trained on " << decision.deployed_dataset_version.value_or("?") << ")\n";
  std::cout << "  " << decision.reason << "\n";
  if (!outcome.trained)
    std::cout << "  (the candidate of a run that stopped before deciding it: decided now, not trained again)\n";
  const std::string short_commit = outcome.main_commit.substr(0, 12);
  if (decision.accepted())
    std::cout << "  deployed " << decision.model_version << ": main of " << outcome.repository << " is commit "
              << short_commit << ", the candidate tagged " << decision.dataset_version << "\n";
  else
    std::cout << "  kept " << decision.deployed_version.value_or("the model") << " (trained on "
              << decision.deployed_dataset_version.value_or("?")
              << ") deployed; the new model is kept as the candidate tagged " << decision.dataset_version
              << " (orchestrator rollback --to " << decision.dataset_version << " deploys it)\n";
}

}  // namespace

int RetrainCommand(const CommonOptions& common, const RetrainOptions& options) {
  Config config = LoadConfigAndWarn(SourcesFrom(common));
  RetrainRequest request;
  request.label = options.label;
  // --dataset DIR@VERSION (or hf://datasets/OWNER/NAME@VERSION) names the version as --version
  // does; the two must agree.
  const bool dataset_on_hub = NamesHubRepository(options.dataset_dir);
  std::optional<HubRepository> datasets, models;
  std::optional<std::string> named_version;
  if (dataset_on_hub) {
    ValidateLabelName(options.label);
    datasets = OpenHubRepository(options.dataset_dir, "--dataset", RepositoryUrl::Kind::kHubDataset, options.label,
                                 config, HubAccess::kRead, "orchestrator retrain");
    named_version = datasets->url.revision;
  } else {
    const DatasetReference dataset = ParseDatasetReference(options.dataset_dir);
    request.dataset_dir = dataset.directory;
    named_version = dataset.version;
  }
  if (named_version && options.version && *named_version != *options.version)
    throw ConfigError("--dataset " + options.dataset_dir + " names the version " + *named_version + ", and --version " +
                      *options.version + " another; give one of them");
  request.version = named_version ? named_version : options.version;
  if (NamesHubRepository(options.models_dir)) {
    ValidateLabelName(options.label);
    models = OpenHubRepository(options.models_dir, "--models", RepositoryUrl::Kind::kHubModel, options.label, config,
                               HubAccess::kWrite, "orchestrator retrain");
  } else {
    request.models_dir = options.models_dir;
  }
  request.decision_threshold = config.decision_threshold;
  // Progress goes to stderr, so stdout holds only the result (with --json, the decision line alone).
  auto start = std::chrono::steady_clock::now();
  request.progress = [&options, start](std::string_view message) {
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cerr << "orchestrator retrain " << options.label << " [" << FormatFixed(seconds, 2) << " s]: " << message
              << std::endl;
  };
  // Exactly once on the worker's side too: a request repeated by a resumed pass (or by hand) for a
  // version trained already is answered with its decision.
  RetrainOutcome outcome;
  if (!datasets && !models) {
    outcome = Retrain(request);
  } else {
    const TextDataset dataset = datasets ? ReadTextDataset(*datasets->repository, request.label, request.version)
                                         : ReadTextDataset(request.dataset_dir, request.label, request.version);
    AnnounceDataset(dataset, request);
    const std::string dataset_repository = datasets ? datasets->url.Name() : DatasetRepositoryName(request.dataset_dir);
    if (models) {
      // On the Hub nothing locks a label's models: a commit that finds main moved is re-read and
      // tried once more, and a candidate's tag is created once.
      ModelRepository repository(*models->repository, request.label);
      outcome = RetrainInto(repository, dataset, dataset_repository, request);
    } else {
      outcome = RetrainInLocalModels(dataset, dataset_repository, request);
    }
  }
  if (outcome.earlier_decision) {
    std::cout << (options.json ? *outcome.earlier_decision : "already decided: " + *outcome.earlier_decision)
              << std::endl;
  } else if (options.json) {
    std::cout << DecisionLine(outcome.decision) << std::endl;
  } else {
    PrintSummary(outcome);
  }
  return kExitOk;
}

}  // namespace orch
