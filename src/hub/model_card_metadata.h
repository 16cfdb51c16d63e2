// The YAML a model card (the README.md of a model repository) opens with, so that the Hub shows a
// model as it is meant: the library that loads it, its task, the dataset it was trained on and its
// evaluation results.
//
// The keys are those of the Hub's model card spec (huggingface/hub-docs, modelcard.md):
//   library_name, pipeline_tag, tags    what loads the model and for which task;
//   datasets                            the dataset ids it was trained on;
//   metrics                             the metric ids its results use;
//   model-index                         its results, one per task and dataset: the task (`type`,
//                                       `name`), the dataset (`type` its id, `name`, `config`,
//                                       `split`, `revision`) and the metrics (`type`, `value`,
//                                       `name`, `args`), as the Hub checks them when README.md is
//                                       pushed and huggingface_hub reads them (EvalResult);
// and one key of this program's: `id2label`, the class id (as a string, '0', '1', ...) -> class
// name map that turns the model's answers into names. The YAML is written by hub/yaml_writer.h.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace orch {

// One metric of a result: {type, value, name, args}.
struct ModelMetric {
  std::string type;  // a metric id, e.g. "f1", "accuracy"
  double value = 0;
  std::string name;                         // a pretty name, e.g. "Test macro-F1"; "" for none
  std::map<std::string, std::string> args;  // how it was computed, e.g. {"average": "macro"}
};

// One result of the model-index: a task, the dataset it was measured on, its metrics.
struct ModelEvaluation {
  std::string task_type;         // e.g. "text-classification"
  std::string task_name;         // e.g. "Text Classification"
  std::string dataset_type;      // the dataset's id
  std::string dataset_name;      // a pretty name
  std::string dataset_config;    // "" for none
  std::string dataset_split;     // "" for none
  std::string dataset_revision;  // the commit (or tag) measured; "" for none
  std::vector<ModelMetric> metrics;
};

struct ModelCardMetadata {
  std::string library_name;  // e.g. "fasttext"
  std::string pipeline_tag;  // e.g. "text-classification"
  std::vector<std::string> tags;
  std::vector<std::string> datasets;
  std::map<int64_t, std::string> id2label;    // none: no `id2label` key
  std::string model_name;                     // the model-index entry's name
  std::optional<ModelEvaluation> evaluation;  // none: no model-index
};

// The metadata as the JSON value its YAML is written from, and that YAML between the two "---"
// lines that open a README.md.
nlohmann::ordered_json ModelCardMetadataJson(const ModelCardMetadata& card);
std::string ModelCardFrontMatter(const ModelCardMetadata& card);

}  // namespace orch
