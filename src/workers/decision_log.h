// The decision history of a label's models: decisions.jsonl on main of its model repository
// (workers/model_repository.h), one JSON object per line, oldest first.
//
// Every decision is a line: a retrain's (the new model accepted or rejected), a rollback's, and the
// import of the model an earlier release had deployed. The line is committed on main together with
// what it decided, so main's decisions.jsonl holds every decision up to main's model, rejected
// candidates included, and the lines of an earlier release's decisions.jsonl before them.
//
//   {"time", "label", "dataset_version", "model_version", "decision": "accepted" | "rejected" |
//    "rolled_back" | "imported", "new", "deployed", "deployed_version", "deployed_dataset_version",
//    "decision_threshold", "reason", "candidate"}
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workers/classification_metrics.h"

namespace orch {

enum class DecisionKind { kAccepted, kRejected, kRolledBack, kImported };

// "accepted", "rejected", "rolled_back", "imported": the line's "decision".
const char* DecisionKindName(DecisionKind kind);

struct ModelDecision {
  std::string time;  // ISO 8601 UTC
  std::string label;
  DecisionKind kind = DecisionKind::kRejected;
  std::string dataset_version;  // the version the model decided on was trained on: its candidate tag
  std::string model_version;    // that model's model_version
  // A retrain's new model on the test split; for a rollback or an import, the model's own scores
  // from its model.json (on the test split of its own dataset version).
  std::optional<ClassificationScores> new_scores;
  // A retrain: the deployed model's scores on the same test split, nothing when none was deployed or
  // it could not be read. A rollback: the replaced model's own scores, when they could be read.
  std::optional<ClassificationScores> deployed_scores;
  std::optional<std::string> deployed_version;          // model_version of the model deployed before
  std::optional<std::string> deployed_dataset_version;  // and the dataset version it was trained on
  std::optional<double> decision_threshold;             // a retrain's DECISION_THRESHOLD
  std::string reason;
  std::string candidate;  // the commit the candidate tag is on; "" when unknown

  bool accepted() const { return kind == DecisionKind::kAccepted; }
};

nlohmann::ordered_json ModelDecisionJson(const ModelDecision& decision);
// The decision as one line of JSON, without the line break.
std::string DecisionLine(const ModelDecision& decision);

// `log` with `line` added as its last line; a last line without its line break (a file an earlier
// release's crash cut short) is ended first, so it does not swallow the new one.
std::string AppendDecisionLine(std::string log, std::string_view line);

// The most decisions.jsonl may hold: 64 MiB, a hundred thousand decisions and more.
constexpr uint64_t kMaxDecisionsBytes = uint64_t{64} << 20;

// One line of the log as read back.
struct LoggedDecision {
  size_t line_number = 0;
  std::string text;      // the line itself
  std::string decision;  // "accepted", "rejected", "rolled_back", "imported" ("" when it has none)
  std::string time;
  std::string dataset_version;
  std::string model_version;
  std::optional<double> new_macro_f1;
  std::optional<double> deployed_macro_f1;
  std::string reason;
};

// Every line of `text`. Throws WorkerError naming `where` and the line when a line is not a JSON
// object with a "dataset_version" string; `advice` follows that message.
std::vector<LoggedDecision> ParseDecisionLog(std::string_view text, const std::string& where,
                                             const std::string& advice);
// The lines that are decisions, the others left out: for showing the history, which a damaged line
// must not stop.
std::vector<LoggedDecision> ReadableDecisions(std::string_view text);

// The last line that decided on the model trained on `dataset_version` (accepted, rejected or
// imported; a rollback to it does not count), if any.
const LoggedDecision* DecisionOn(const std::vector<LoggedDecision>& log, std::string_view dataset_version);

// The dataset version of the model deployed before the one deployed now (`deployed`); nothing when
// there is none. The deployments (accepted, imported and rolled_back lines) are replayed as a stack:
// a deployment puts its model on top, and a rollback to a model already on the stack undoes the
// deployments after it (a rollback to any other candidate is put on top). So the answer is the
// model below the top, and a second rollback goes further back, not forth. Versions for which
// `is_candidate` says there is no candidate to deploy (models of an earlier release) are passed over.
std::optional<std::string> ModelDeployedBefore(const std::vector<LoggedDecision>& log, const std::string& deployed,
                                               const std::function<bool(const std::string&)>& is_candidate);

// The dataset version the log says is deployed: that of its last accepted, imported or rolled_back
// line; nothing when it has none.
std::optional<std::string> LoggedDeployment(const std::vector<LoggedDecision>& log);

}  // namespace orch
