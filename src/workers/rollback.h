// Deploying an earlier model again: `orchestrator rollback`.
//
// Every model a retrain trained is a candidate in the label's model repository, tagged with its
// dataset version (workers/model_repository.h). A rollback deploys one of them again by one commit
// on main: its model.bin and model.json, the card, and a "rolled_back" line in decisions.jsonl
// that names what it replaced and why. Without a version it undoes the last deployment: it goes back
// to the model deployed before the one deployed now, and a rollback counts as undoing the
// deployments after the model it went back to, so a second rollback goes further back, not forth
// (workers/decision_log.h, ModelDeployedBefore). With a version it deploys the candidate trained on
// that dataset version, whether it was ever deployed or not. A main that moved meanwhile is read
// again and the rollback tried once more.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "workers/decision_log.h"
#include "workers/model_repository.h"

namespace orch {

struct RollbackRequest {
  std::string label;
  std::filesystem::path models_dir;  // MODELS: the label's model repository is MODELS/<label>
  std::optional<std::string> to;     // the dataset version of the candidate; default: the model before
  std::string reason;                // recorded with the rollback; "" for none given
};

struct RollbackOutcome {
  ModelDecision decision;   // the rolled_back line committed (when nothing changed: what it would have said)
  bool changed = true;      // false: the model asked for is deployed already, nothing was committed
  std::string main_commit;  // main's head after the rollback
  std::string repository;   // the model repository's name
};

// Rolls the label back in its local model repository MODELS/<label>, holding the label's lock and
// importing the models of an earlier release first. Throws ConfigError for a bad label name, a
// label without models in MODELS, or a version no candidate was trained on; WorkerError when
// nothing is deployed, there is no earlier model to go back to, or the candidate is damaged;
// RepositoryError when the repository cannot be read or written.
RollbackOutcome Rollback(const RollbackRequest& request);

// The same in `models`, through the repository interface alone; the caller holds whatever keeps
// other writers of the label out.
RollbackOutcome RollbackIn(ModelRepository& models, const RollbackRequest& request);

}  // namespace orch
