#include "workers/rollback.h"

#include <chrono>
#include <set>
#include <system_error>
#include <vector>

#include "config/label_name.h"
#include "hub/local_repository.h"
#include "util/error.h"
#include "util/private_temp_dir.h"
#include "util/time.h"
#include "workers/earlier_models.h"
#include "workers/jsonl_dataset.h"
#include "workers/model_readme.h"
#include "workers/models_lock.h"

namespace orch {
namespace {

namespace fs = std::filesystem;

constexpr size_t kCandidatesNamed = 10;
constexpr const char* kNoReason = "no reason given";

// ", the candidates: v1, v2" of the newest candidates the log names (at most kCandidatesNamed), or "".
std::string CandidatesNamed(ModelRepository& models, const std::vector<LoggedDecision>& log) {
  std::vector<std::string> versions;
  std::set<std::string> seen;
  for (auto line = log.rbegin(); line != log.rend() && versions.size() < kCandidatesNamed; ++line)
    if (line->decision != "rolled_back" && seen.insert(line->dataset_version).second &&
        models.CandidateCommit(line->dataset_version))
      versions.push_back(line->dataset_version);
  if (versions.empty()) return "";
  std::string named;
  for (auto version = versions.rbegin(); version != versions.rend(); ++version)
    named += (named.empty() ? "" : ", ") + *version;
  return " (candidates, newest last: " + named + ")";
}

// Labels of `models_dir` that have models: directories holding a repository or an earlier layout.
std::string LabelsWithModels(const fs::path& models_dir) {
  std::set<std::string> labels;
  std::error_code error;
  for (fs::directory_iterator entry(models_dir, error), end; !error && entry != end; entry.increment(error))
    if (fs::is_directory(entry->path() / ".repo", error) || HasEarlierLayout(entry->path()))
      labels.insert(entry->path().filename().string());
  if (labels.empty()) return models_dir.string() + " holds no label's models";
  std::string named;
  for (const std::string& label : labels) named += (named.empty() ? "" : ", ") + label;
  return "labels with models there: " + named;
}

}  // namespace

RollbackOutcome RollbackIn(ModelRepository& models, const RollbackRequest& request) {
  const std::string& label = request.label;
  if (request.to && !IsSafeVersionTag(*request.to))
    throw ConfigError("--to " + QuoteForMessage(*request.to) +
                      " cannot be a dataset version (letters, digits, '_', '-' and '.', like v20261126_101502)");
  PrivateTempDir scratch("orchestrator-rollback", "the model to deploy");
  for (int attempt = 1;; ++attempt) {
    const MainSnapshot main = models.ReadMain();
    if (!main.commit || !main.has_model)
      throw WorkerError("no model of " + label + " is deployed in " + models.Name() +
                        ", so there is nothing to roll back; `orchestrator retrain` deploys the first one");
    std::optional<ModelCard> current;
    try {
      current = models.ReadCard(*main.commit, kMainBranch);
    } catch (const WorkerError&) {
      // A deployed model that cannot be read is a good reason to roll back: it does not stop one.
    }
    const std::string where = models.Where(kMainBranch, kDecisionsPath);
    const std::vector<LoggedDecision> log =
        request.to ? ReadableDecisions(main.decisions)
                   : ParseDecisionLog(main.decisions, where, "name the model to deploy with --to VERSION");
    const std::string current_version =
        current ? current->dataset_version : LoggedDeployment(log).value_or(std::string());

    std::string target;
    if (request.to) {
      target = *request.to;
      if (!models.CandidateCommit(target))
        throw ConfigError("no model of " + label + " was trained on the dataset version " + target + ": " +
                          models.Name() + " has no candidate tagged " + target + CandidatesNamed(models, log));
    } else {
      std::optional<std::string> before = ModelDeployedBefore(log, current_version, [&](const std::string& version) {
        return models.CandidateCommit(version).has_value();
      });
      if (!before)
        throw WorkerError("nothing to roll back to: no model of " + label + " deployed before the one trained on " +
                          (current_version.empty() ? std::string("?") : current_version) +
                          " is left to deploy again (a rollback undoes the deployments after the model it goes back "
                          "to); name one with --to VERSION" +
                          CandidatesNamed(models, log));
      target = *before;
    }
    const std::string commit = *models.CandidateCommit(target);

    ModelCard card;
    const fs::path model_file = scratch.path() / kModelPath;
    try {
      card = models.ReadCard(commit, target);
      models.DownloadModel(commit, target, model_file);
      FastTextClassifier::Load(model_file);
    } catch (const WorkerError& error) {
      throw WorkerError("the candidate tagged " + target + " cannot be deployed: " + error.what());
    }
    RollbackOutcome outcome;
    outcome.repository = models.Name();
    outcome.decision = {
        .time = FormatTimestamp(std::chrono::system_clock::now()),
        .label = label,
        .kind = DecisionKind::kRolledBack,
        .dataset_version = target,
        .model_version = card.model_version,
        .new_scores = card.metrics,
        .deployed_scores = current ? std::optional(current->metrics) : std::nullopt,
        .deployed_version = current ? std::optional(current->model_version) : std::nullopt,
        .deployed_dataset_version = current_version.empty() ? std::nullopt : std::optional(current_version),
        .decision_threshold = std::nullopt,
        .reason = request.reason.empty() ? kNoReason : request.reason,
        .candidate = commit};
    if (current && current_version == target && current->model_version == card.model_version) {
      outcome.changed = false;
      outcome.main_commit = *main.commit;
      return outcome;
    }
    const std::string decisions = AppendDecisionLine(main.decisions, DecisionLine(outcome.decision));
    std::vector<FileAddition> files = {
        FileAddition::FromFile(kModelPath, model_file),
        FileAddition::FromBytes(kModelJsonPath, ModelCardJson(card).dump(2) + "\n"),
        FileAddition::FromBytes(kModelCardPath, DeployedModelReadme(label, card, decisions)),
        FileAddition::FromBytes(kDecisionsPath, decisions)};
    try {
      outcome.main_commit = models.CommitToMain(main.commit, "Roll back to the model trained on " + target,
                                                "Replaces the model trained on " +
                                                    (current_version.empty() ? std::string("?") : current_version) +
                                                    ": " + outcome.decision.reason,
                                                std::move(files));
      return outcome;
    } catch (const StaleParentError& error) {
      if (attempt == 2)
        throw WorkerError("main of " + models.Name() +
                          " moved twice while the rollback was being committed, so "
                          "nothing was rolled back (" +
                          error.what() + "); run it again");
    }
  }
}

RollbackOutcome Rollback(const RollbackRequest& request) {
  ValidateLabelName(request.label);
  const fs::path label_dir = request.models_dir / request.label;
  std::error_code error;
  if (!fs::is_directory(label_dir / ".repo", error) && !HasEarlierLayout(label_dir))
    throw ConfigError("the label " + request.label + " has no models in " + request.models_dir.string() + " (" +
                      label_dir.string() + " is not a model repository; " + LabelsWithModels(request.models_dir) +
                      "): check --label and --models");
  const LabelModelsLock lock(label_dir, request.label);
  LocalRepository repository(label_dir);
  ModelRepository models(repository, request.label);
  ImportEarlierLayout(models, label_dir, std::chrono::system_clock::now());
  return RollbackIn(models, request);
}

}  // namespace orch
