#include "hub/model_card_metadata.h"

#include "hub/yaml_writer.h"

namespace orch {
namespace {

using Json = nlohmann::ordered_json;

Json MetricJson(const ModelMetric& metric) {
  Json json = {{"type", metric.type}, {"value", metric.value}};
  if (!metric.name.empty()) json["name"] = metric.name;
  if (!metric.args.empty()) {
    json["args"] = Json::object();
    for (const auto& [key, value] : metric.args) json["args"][key] = value;
  }
  return json;
}

Json EvaluationJson(const ModelEvaluation& evaluation) {
  Json task = {{"type", evaluation.task_type}};
  if (!evaluation.task_name.empty()) task["name"] = evaluation.task_name;
  Json dataset = {{"type", evaluation.dataset_type}, {"name", evaluation.dataset_name}};
  if (!evaluation.dataset_config.empty()) dataset["config"] = evaluation.dataset_config;
  if (!evaluation.dataset_split.empty()) dataset["split"] = evaluation.dataset_split;
  if (!evaluation.dataset_revision.empty()) dataset["revision"] = evaluation.dataset_revision;
  Json metrics = Json::array();
  for (const ModelMetric& metric : evaluation.metrics) metrics.push_back(MetricJson(metric));
  return {{"task", task}, {"dataset", dataset}, {"metrics", metrics}};
}

}  // namespace

nlohmann::ordered_json ModelCardMetadataJson(const ModelCardMetadata& card) {
  Json metadata = Json::object();
  if (!card.library_name.empty()) metadata["library_name"] = card.library_name;
  if (!card.pipeline_tag.empty()) metadata["pipeline_tag"] = card.pipeline_tag;
  if (!card.tags.empty()) metadata["tags"] = card.tags;
  if (!card.datasets.empty()) metadata["datasets"] = card.datasets;
  if (card.evaluation) {
    Json metric_ids = Json::array();
    for (const ModelMetric& metric : card.evaluation->metrics) metric_ids.push_back(metric.type);
    metadata["metrics"] = metric_ids;
  }
  if (!card.id2label.empty()) {
    Json names = Json::object();
    for (const auto& [id, name] : card.id2label) names[std::to_string(id)] = name;
    metadata["id2label"] = names;
  }
  if (card.evaluation)
    metadata["model-index"] =
        Json::array({{{"name", card.model_name}, {"results", Json::array({EvaluationJson(*card.evaluation)})}}});
  return metadata;
}

std::string ModelCardFrontMatter(const ModelCardMetadata& card) {
  return "---\n" + ToYaml(ModelCardMetadataJson(card)) + "---\n";
}

}  // namespace orch
