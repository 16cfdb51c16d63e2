#include "workers/model_readme.h"

#include <cstdio>
#include <vector>

#include "util/markdown.h"
#include "util/strings.h"
#include "workers/decision_log.h"

namespace orch {
namespace {

constexpr std::string_view kHubDatasets = "hf://datasets/";

// A score in a table, or an empty cell when there is none.
std::string ScoreCell(const std::optional<double>& value) { return value ? FormatFixed(*value, 4) : std::string(); }

std::string Code(std::string_view text) { return "`" + MarkdownTableCell(text) + "`"; }

// What the model is, how good, with which settings, and its classes.
std::string ModelSection(const ModelCard& model) {
  std::string dataset = Code(model.dataset_version);
  if (!model.dataset_repository.empty()) dataset += " of " + Code(model.dataset_repository);
  if (!model.dataset_commit.empty()) dataset += " (commit " + Code(model.dataset_commit.substr(0, 12)) + ")";
  const FastTextSettings& settings = model.hyperparameters;
  std::string text = "Model " + Code(model.model_version) + ", trained at " + model.created_at + " on " +
                     std::to_string(model.train_rows) + " train rows of the dataset version " + dataset + ".\n\n" +
                     "| split of " + Code(model.dataset_version) +
                     " | macro-F1 | accuracy |\n|---|---:|---:|\n"
                     "| test | " +
                     FormatFixed(model.metrics.macro_f1, 4) + " | " + FormatFixed(model.metrics.accuracy, 4) +
                     " |\n| validation | " + FormatFixed(model.validation_metrics.macro_f1, 4) + " | " +
                     FormatFixed(model.validation_metrics.accuracy, 4) + " |\n\n";
  char settings_text[200];
  std::snprintf(settings_text, sizeof settings_text,
                "fastText supervised, softmax loss: epoch %d, lr %g, word n-grams %d, dimension %d, buckets %d; "
                "%d model(s) trained to choose them on the validation split.",
                settings.epochs, settings.learning_rate, settings.word_ngrams, settings.dimension, settings.buckets,
                model.search_trainings);
  text += std::string("Settings: ") + settings_text + "\n\n## Classes\n\n| id | class |\n|---:|---|\n";
  for (const auto& [id, name] : model.label_map)
    text += "| " + std::to_string(id) + " | " + MarkdownTableCell(name) + " |\n";
  return text;
}

std::string UseSection(const std::string& label) {
  return "## Use\n\n"
         "```\norchestrator predict --label " +
         label +
         " --models MODELS \"the text of a grievance\"\n```\n\n"
         "`model.bin` is a fastText model whose classes are `__label__<id>`. `orchestrator predict` cleans and "
         "tokenises a text as the model's training data was (lower-case ASCII, punctuation as spaces) before "
         "fastText sees it; do the same when you load `model.bin` with fastText itself.\n";
}

std::string DecisionsSection(std::string_view decisions_log) {
  const std::vector<LoggedDecision> decisions = ReadableDecisions(decisions_log);
  std::string text = "## Decisions\n\n";
  if (decisions.empty()) return text + "None yet.\n";
  text += decisions.size() > kReadmeDecisions ? "The newest " + std::to_string(kReadmeDecisions) + " of " +
                                                    std::to_string(decisions.size()) + ", newest first; "
                                              : "Newest first; ";
  text +=
      "`decisions.jsonl` holds every one. A retrain's line has both models' macro-F1 on the test split of the "
      "dataset version it trained on; a rollback's, the models' own, from their `model.json`.\n\n"
      "| time | decision | dataset version | model macro-F1 | deployed macro-F1 | reason |\n"
      "|---|---|---|---:|---:|---|\n";
  size_t listed = 0;
  for (auto line = decisions.rbegin(); line != decisions.rend() && listed < kReadmeDecisions; ++line, ++listed)
    text += "| " + MarkdownTableCell(line->time) + " | " + MarkdownTableCell(line->decision) + " | " +
            Code(line->dataset_version) + " | " + ScoreCell(line->new_macro_f1) + " | " +
            ScoreCell(line->deployed_macro_f1) + " | " + MarkdownTableCell(line->reason) + " |\n";
  return text;
}

ModelCardMetadata BaseMetadata() {
  ModelCardMetadata metadata;
  metadata.library_name = "fasttext";
  metadata.pipeline_tag = "text-classification";
  metadata.tags = {"fasttext", "text-classification"};
  return metadata;
}

}  // namespace

std::string DatasetIdOf(const std::string& repository_name) {
  if (std::string_view(repository_name).starts_with(kHubDatasets)) return repository_name.substr(kHubDatasets.size());
  return repository_name;
}

ModelCardMetadata ModelCardMetadataOf(const ModelCard& model) {
  ModelCardMetadata metadata = BaseMetadata();
  const std::string dataset = model.dataset_repository.empty() ? model.label : DatasetIdOf(model.dataset_repository);
  metadata.datasets = {dataset};
  for (const auto& [id, name] : model.label_map) metadata.id2label[id] = name;
  metadata.model_name = model.label;
  ModelEvaluation evaluation;
  evaluation.task_type = "text-classification";
  evaluation.task_name = "Text Classification";
  evaluation.dataset_type = dataset;
  evaluation.dataset_name = model.label + " " + model.dataset_version;
  evaluation.dataset_config = "default";
  evaluation.dataset_split = "test";
  evaluation.dataset_revision = model.dataset_commit.empty() ? model.dataset_version : model.dataset_commit;
  evaluation.metrics = {
      {.type = "f1", .value = model.metrics.macro_f1, .name = "Test macro-F1", .args = {{"average", "macro"}}},
      {.type = "accuracy", .value = model.metrics.accuracy, .name = "Test accuracy", .args = {}}};
  metadata.evaluation = std::move(evaluation);
  return metadata;
}

std::string DeployedModelReadme(const std::string& label, const std::optional<ModelCard>& deployed,
                                std::string_view decisions_log) {
  std::string text = ModelCardFrontMatter(deployed ? ModelCardMetadataOf(*deployed) : BaseMetadata()) + "\n# " + label +
                     " classifier\n\n" + "The fastText text classifier of the label `" + label +
                     "`, kept by `orchestrator retrain`: `main` holds the deployed model, the branch `candidates` "
                     "every model trained, each tagged with the dataset version it was trained on. "
                     "`orchestrator rollback` deploys an earlier one again.\n\n## Deployed model\n\n";
  text += deployed ? ModelSection(*deployed) + "\n" + UseSection(label)
                   : "None yet: `orchestrator retrain` deploys the first model it trains.\n";
  return text + "\n" + DecisionsSection(decisions_log);
}

std::string CandidateReadme(const ModelCard& candidate) {
  return ModelCardFrontMatter(ModelCardMetadataOf(candidate)) + "\n# " + candidate.label + " classifier trained on " +
         candidate.dataset_version + "\n\n" + "A candidate of the label `" + candidate.label +
         "`, trained by `orchestrator retrain` and tagged `" + candidate.dataset_version +
         "`. Whether it was deployed is in `decisions.jsonl` on `main`; `orchestrator rollback --to " +
         candidate.dataset_version + "` deploys it.\n\n## Model\n\n" + ModelSection(candidate) + "\n" +
         UseSection(candidate.label);
}

}  // namespace orch
