#include "workers/decision_log.h"

#include <algorithm>
#include <iterator>

#include "util/error.h"
#include "workers/json_text.h"
#include "workers/model_card.h"

namespace orch {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kAccepted = "accepted";
constexpr const char* kImported = "imported";
constexpr const char* kRolledBack = "rolled_back";

template <typename T>
Json Optional(const std::optional<T>& value) {
  return value ? Json(*value) : Json(nullptr);
}

Json OptionalScores(const std::optional<ClassificationScores>& scores) {
  return scores ? ScoresJson(*scores) : Json(nullptr);
}

std::string StringMember(const nlohmann::json& object, const char* key) {
  auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : "";
}

std::optional<double> MacroF1(const nlohmann::json& object, const char* key) {
  auto scores = object.find(key);
  if (scores == object.end() || !scores->is_object()) return std::nullopt;
  auto value = scores->find("macro_f1");
  if (value == scores->end() || !value->is_number()) return std::nullopt;
  return value->get<double>();
}

// Calls `line` with each line of `text` and its number; a last line without its line break is a line too.
template <typename Function>
void ForEachLine(std::string_view text, Function line) {
  size_t number = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    line(text.substr(start, end - start), ++number);
    start = end + 1;
  }
}

// The line as a decision, or nothing when it is not one (with `problem` saying why).
std::optional<LoggedDecision> ReadLine(std::string_view line, size_t number, std::string* problem) {
  nlohmann::json decision;
  try {
    decision = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& error) {
    if (problem) *problem = "is not valid JSON (" + JsonSyntaxErrorIn(line, error).DescribeInLine() + ")";
    return std::nullopt;
  }
  if (!decision.is_object() || !decision.contains("dataset_version") || !decision["dataset_version"].is_string()) {
    if (problem) *problem = "is not a decision (a JSON object with a \"dataset_version\" string)";
    return std::nullopt;
  }
  return LoggedDecision{.line_number = number,
                        .text = std::string(line),
                        .decision = StringMember(decision, "decision"),
                        .time = StringMember(decision, "time"),
                        .dataset_version = decision["dataset_version"].get<std::string>(),
                        .model_version = StringMember(decision, "model_version"),
                        .new_macro_f1 = MacroF1(decision, "new"),
                        .deployed_macro_f1 = MacroF1(decision, "deployed"),
                        .reason = StringMember(decision, "reason")};
}

bool IsDeployment(const LoggedDecision& line) {
  return line.decision == kAccepted || line.decision == kImported || line.decision == kRolledBack;
}

}  // namespace

const char* DecisionKindName(DecisionKind kind) {
  switch (kind) {
    case DecisionKind::kAccepted: return kAccepted;
    case DecisionKind::kRejected: return "rejected";
    case DecisionKind::kRolledBack: return kRolledBack;
    case DecisionKind::kImported: return kImported;
  }
  return "?";
}

nlohmann::ordered_json ModelDecisionJson(const ModelDecision& decision) {
  return {{"time", decision.time},
          {"label", decision.label},
          {"dataset_version", decision.dataset_version},
          {"model_version", decision.model_version},
          {"decision", DecisionKindName(decision.kind)},
          {"new", OptionalScores(decision.new_scores)},
          {"deployed", OptionalScores(decision.deployed_scores)},
          {"deployed_version", Optional(decision.deployed_version)},
          {"deployed_dataset_version", Optional(decision.deployed_dataset_version)},
          {"decision_threshold", Optional(decision.decision_threshold)},
          {"reason", decision.reason},
          {"candidate", decision.candidate.empty() ? Json(nullptr) : Json(decision.candidate)}};
}

std::string DecisionLine(const ModelDecision& decision) {
  return ModelDecisionJson(decision).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string AppendDecisionLine(std::string log, std::string_view line) {
  if (!log.empty() && log.back() != '\n') log += '\n';
  log += line;
  log += '\n';
  return log;
}

std::vector<LoggedDecision> ParseDecisionLog(std::string_view text, const std::string& where,
                                             const std::string& advice) {
  std::vector<LoggedDecision> lines;
  ForEachLine(text, [&](std::string_view line, size_t number) {
    std::string problem;
    std::optional<LoggedDecision> decision = ReadLine(line, number, &problem);
    if (!decision)
      throw WorkerError(where + " line " + std::to_string(number) + " " + problem + ": the decision log is damaged" +
                        (advice.empty() ? "" : "; " + advice));
    lines.push_back(std::move(*decision));
  });
  return lines;
}

std::vector<LoggedDecision> ReadableDecisions(std::string_view text) {
  std::vector<LoggedDecision> lines;
  ForEachLine(text, [&](std::string_view line, size_t number) {
    if (std::optional<LoggedDecision> decision = ReadLine(line, number, nullptr)) lines.push_back(std::move(*decision));
  });
  return lines;
}

const LoggedDecision* DecisionOn(const std::vector<LoggedDecision>& log, std::string_view dataset_version) {
  for (auto line = log.rbegin(); line != log.rend(); ++line)
    if (line->dataset_version == dataset_version && line->decision != kRolledBack) return &*line;
  return nullptr;
}

std::optional<std::string> ModelDeployedBefore(const std::vector<LoggedDecision>& log, const std::string& deployed,
                                               const std::function<bool(const std::string&)>& is_candidate) {
  std::vector<std::string> stack;
  for (const LoggedDecision& line : log) {
    if (!IsDeployment(line)) continue;
    if (line.decision == kRolledBack && stack.size() > 1) {
      auto below = std::find(std::next(stack.rbegin()), stack.rend(), line.dataset_version);
      if (below != stack.rend()) {
        stack.erase(below.base(), stack.end());  // back to it: the deployments after it are undone
        continue;
      }
    }
    stack.push_back(line.dataset_version);
  }
  for (auto version = stack.rbegin(); version != stack.rend(); ++version)
    if (*version != deployed && is_candidate(*version)) return *version;
  return std::nullopt;
}

std::optional<std::string> LoggedDeployment(const std::vector<LoggedDecision>& log) {
  for (auto line = log.rbegin(); line != log.rend(); ++line)
    if (IsDeployment(*line)) return line->dataset_version;
  return std::nullopt;
}

}  // namespace orch
