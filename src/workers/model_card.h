// model.json: what a trained model is and how it was made, kept beside model.bin in every commit of
// a label's model repository that holds a model (workers/model_repository.h).
//
// Nothing read is trusted: text that does not parse, or a member of the wrong type or out of range,
// is a WorkerError naming the file (and the line) and what is wrong.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "workers/classification_metrics.h"
#include "workers/fasttext_classifier.h"
#include "workers/jsonl_dataset.h"

namespace orch {

struct ModelCard {
  std::string label;
  std::string model_version;                // m + the time it was trained, e.g. m20261126_101630
  std::string dataset_version;              // the dataset version it was trained on: its candidate tag
  std::string dataset_repository;           // the dataset's repository, as it is named (HUB/<label>); "" when unknown
  std::string dataset_commit;               // the commit the dataset version was read at; "" when unknown
  std::string created_at;                   // ISO 8601 UTC
  ClassificationScores metrics;             // on the dataset version's test split
  ClassificationScores validation_metrics;  // on its validation split, which chose the settings
  ClassNamesById label_map;                 // written as {"<class name>": id, ...}
  FastTextSettings hyperparameters;
  int search_trainings = 0;  // models trained while choosing the settings
  int64_t train_rows = 0;
};

// {"macro_f1", "accuracy"}
nlohmann::ordered_json ScoresJson(const ClassificationScores& scores);

nlohmann::ordered_json ModelCardJson(const ModelCard& card);
// Parses model.json text; `where` names the file in errors. Throws WorkerError when it is not valid
// JSON (naming the line), has no label map, or has a member of the wrong type or out of range. A
// member that is absent keeps its default: files of earlier releases lack some.
ModelCard ParseModelCard(std::string_view text, const std::string& where);

// "m" + the UTC time as YYYYMMDD_HHMMSS, e.g. m20261126_101502.
std::string ModelVersionAt(std::chrono::system_clock::time_point time);

}  // namespace orch
