// `orchestrator rollback`: deploy an earlier model of a label again (src/workers/rollback.h).
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "util/error.h"
#include "workers/rollback.h"

namespace orch {
namespace {

std::string Fixed(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4f", value);
  return text;
}

void PrintSummary(const RollbackOutcome& outcome) {
  const ModelDecision& decision = outcome.decision;
  if (!outcome.changed) {
    std::cout << decision.label << ": the model trained on " << decision.dataset_version << " ("
              << decision.model_version << ") is deployed already; nothing changed\n";
    return;
  }
  std::cout << decision.label << ": rolled back to the model trained on " << decision.dataset_version << " ("
            << decision.model_version;
  if (decision.new_scores) std::cout << "; test macro-F1 " << Fixed(decision.new_scores->macro_f1) << " on it";
  std::cout << ")\n  replaced the model trained on " << decision.deployed_dataset_version.value_or("?") << " ("
            << decision.deployed_version.value_or("unreadable") << ")\n"
            << "  reason: " << decision.reason << "\n"
            << "  main of " << outcome.repository << " is commit " << outcome.main_commit.substr(0, 12) << "\n";
}

}  // namespace

// Rollback reads no setting: the models directory and the command line are all it needs.
int RollbackCommand(const CommonOptions&, const RollbackOptions& options) {
  const RollbackOutcome outcome =
      Rollback({.label = options.label, .models_dir = options.models_dir, .to = options.to, .reason = options.reason});
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
