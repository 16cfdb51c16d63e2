// `orchestrator rollback`: deploy an earlier model of a label again (src/workers/rollback.h).
#include <iostream>

#include "cli/commands.h"
#include "cli/hub_repositories.h"
#include "cli/sources.h"
#include "config/label_name.h"
#include "util/error.h"
#include "util/strings.h"
#include "workers/model_repository.h"
#include "workers/rollback.h"

namespace orch {
namespace {

void PrintSummary(const RollbackOutcome& outcome) {
  const ModelDecision& decision = outcome.decision;
  if (!outcome.changed) {
    std::cout << decision.label << ": the model trained on " << decision.dataset_version << " ("
              << decision.model_version << ") is deployed already; nothing changed\n";
    return;
  }
  std::cout << decision.label << ": rolled back to the model trained on " << decision.dataset_version << " ("
            << decision.model_version;
  if (decision.new_scores) std::cout << "; test macro-F1 " << FormatFixed(decision.new_scores->macro_f1, 4) << " on it";
  std::cout << ")\n  replaced the model trained on " << decision.deployed_dataset_version.value_or("?") << " ("
            << decision.deployed_version.value_or("unreadable") << ")\n"
            << "  reason: " << decision.reason << "\n"
            << "  main of " << outcome.repository << " is commit " << outcome.main_commit.substr(0, 12) << "\n";
}

}  // namespace

// Rollback reads no setting for local models: the models directory and the command line are all it
// needs. Models on the Hub are written with the Hub's settings (HF_ENDPOINT, HF_TOKEN).
int RollbackCommand(const CommonOptions& common, const RollbackOptions& options) {
  RollbackRequest request{.label = options.label, .models_dir = {}, .to = options.to, .reason = options.reason};
  RollbackOutcome outcome;
  if (NamesHubRepository(options.models_dir)) {
    ValidateLabelName(options.label);
    const Config config = LoadConfigAndWarn(SourcesFrom(common));
    HubRepository models = OpenHubRepository(options.models_dir, "--models", RepositoryUrl::Kind::kHubModel,
                                             options.label, config, HubAccess::kWrite, "orchestrator rollback");
    ModelRepository repository(*models.repository, options.label);
    outcome = RollbackIn(repository, request);
  } else {
    request.models_dir = options.models_dir;
    outcome = Rollback(request);
  }
  if (!options.json) {
    PrintSummary(outcome);
    return kExitOk;
  }
  nlohmann::ordered_json line = ModelDecisionJson(outcome.decision);
  if (!outcome.changed) {
    line["decision"] = "unchanged";
    line["reason"] = "the model trained on " + outcome.decision.dataset_version + " is deployed already";
  }
  std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
  return kExitOk;
}

}  // namespace orch
