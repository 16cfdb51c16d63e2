// `orchestrator predict`: classify texts with a label's deployed model (src/workers/predict.h).
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "util/error.h"
#include "workers/predict.h"

namespace orch {
namespace {

void Answer(const DeployedClassifier& classifier, std::string_view text, bool json) {
  LabelPrediction prediction = classifier.Predict(text);
  if (json) {
    std::cout << LabelPredictionJson(prediction).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    std::cout << prediction.name;
  }
  // One answer per line as soon as it is known, so a program can feed texts and read answers in turn.
  std::cout << std::endl;
}

}  // namespace

// Predict reads no setting: the model directory and the texts are all it needs.
int PredictCommand(const CommonOptions&, const PredictOptions& options) {
  DeployedClassifier classifier = DeployedClassifier::Load(options.models_dir, options.label);
  if (!options.texts.empty()) {
    for (const std::string& text : options.texts) Answer(classifier, text, options.json);
    return kExitOk;
  }
  for (std::string line; std::getline(std::cin, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    Answer(classifier, line, options.json);
  }
  return kExitOk;
}

}  // namespace orch
