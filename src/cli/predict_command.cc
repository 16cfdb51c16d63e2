// `orchestrator predict`: classify texts with a label's deployed model (src/workers/predict.h).
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/hub_repositories.h"
#include "cli/sources.h"
#include "config/label_name.h"
#include "util/error.h"
#include "util/private_temp_dir.h"
#include "workers/model_cache.h"
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

// A text longer than this is not a grievance: it is refused rather than read into memory whole.
constexpr std::streamsize kMaxTextBytes = 1 << 20;

// Reads one line of standard input (without its line break) into `line`; false at the end.
// Throws WorkerError for a line longer than kMaxTextBytes.
bool ReadText(std::istream& in, std::vector<char>& buffer, std::string& line, long long number) {
  in.getline(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  const std::streamsize got = in.gcount();
  if (in.fail() && !in.eof()) {
    throw WorkerError("line " + std::to_string(number) + " of the standard input is longer than " +
                      std::to_string(kMaxTextBytes) +
                      " bytes; give predict one text per line (the answers before it were printed)");
  }
  if (got == 0 && in.eof()) return false;
  line.assign(buffer.data(), static_cast<size_t>(in.eof() ? got : got - 1));  // without the '\n'
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

}  // namespace

// Predict reads no setting for local models: the model directory, the cache and the texts are all it
// needs. Models on the Hub are read with the Hub's settings (HF_ENDPOINT, HF_TOKEN for a private one).
int PredictCommand(const CommonOptions& common, const PredictOptions& options) {
  // The cache: --cache, else the user's cache directory, else (no HOME) one for this run alone.
  std::optional<PrivateTempDir> run_cache;
  std::filesystem::path cache = options.cache_dir
                                    ? std::filesystem::path(*options.cache_dir)
                                    : DefaultModelCacheDirectory(std::getenv("XDG_CACHE_HOME"), std::getenv("HOME"));
  if (cache.empty()) cache = run_cache.emplace("orchestrator-models", "the model predict reads").path();
  std::optional<DeployedClassifier> loaded;
  if (NamesHubRepository(options.models_dir)) {
    ValidateLabelName(options.label);
    const Config config = LoadConfigAndWarn(SourcesFrom(common));
    HubRepository models = OpenHubRepository(options.models_dir, "--models", RepositoryUrl::Kind::kHubModel,
                                             options.label, config, HubAccess::kRead, "orchestrator predict");
    loaded.emplace(DeployedClassifier::Load(*models.repository, options.label, cache, options.models_dir));
  } else {
    loaded.emplace(DeployedClassifier::Load(options.models_dir, options.label, cache));
  }
  const DeployedClassifier& classifier = *loaded;
  if (!options.texts.empty()) {
    for (const std::string& text : options.texts) Answer(classifier, text, options.json);
    return kExitOk;
  }
  std::vector<char> buffer(static_cast<size_t>(kMaxTextBytes) + 1);  // the text and its line break
  std::string line;
  for (long long number = 1; ReadText(std::cin, buffer, line, number); ++number) Answer(classifier, line, options.json);
  return kExitOk;
}

}  // namespace orch
