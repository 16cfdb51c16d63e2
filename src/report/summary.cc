#include "report/summary.h"

#include <algorithm>

#include "util/time.h"

namespace orch {
namespace {

using Json = nlohmann::ordered_json;

template <typename T>
Json OrNull(const std::optional<T>& value) {
  return value ? Json(*value) : Json(nullptr);
}

// The worker's decision record as JSON (its text when it is not JSON after all).
Json DecisionJson(const std::optional<std::string>& decision) {
  if (!decision) return nullptr;
  Json parsed = Json::parse(*decision, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? Json(*decision) : parsed;
}

Json LabelJson(const LabelReport& label) {
  Json json = {{"label", label.label},
               {"misclassified", label.misclassified},
               {"sampled_correct", label.sampled_correct},
               {"dataset_len", label.dataset_len},
               {"upper_bound", label.upper_bound},
               {"threshold", label.threshold},
               {"new_rows", OrNull(label.evidence.new_rows)},
               {"min_new_rows", label.evidence.min_new_rows},
               {"cooldown_until",
                label.evidence.cooldown_until ? Json(FormatTimestamp(*label.evidence.cooldown_until)) : Json(nullptr)},
               {"decision", label.prepare ? "prepare" : "skip"},
               {"outcome", OutcomeName(label.outcome)},
               {"baseline_version", OrNull(label.baseline_version)},
               {"dataset_version", OrNull(label.dataset_version)},
               {"dataset_samples", OrNull(label.dataset_samples)},
               {"waited_seconds", OrNull(label.waited_seconds)},
               {"resumed", label.resumed},
               {"error", OrNull(label.error)}};
  if (label.prepare_run) json["prepare_run"] = *label.prepare_run;
  if (label.retrain_run) json["retrain_run"] = *label.retrain_run;
  if (label.retrain_result)
    json["retrain"] = {{"result", *label.retrain_result},
                       {"detail", OrNull(label.retrain_detail)},
                       {"decision", DecisionJson(label.retrain_decision)}};
  return json;
}

std::string Cell(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '|')
      out += "\\|";
    else if (c == '\n' || c == '\r')
      out += ' ';
    else
      out += c;
  }
  return out;
}

}  // namespace

Json SummaryJson(const PassReport& report) {
  Json labels = Json::array();
  for (const LabelReport& label : report.labels) labels.push_back(LabelJson(label));
  return {{"status", report.status()},
          {"dry_run", report.dry_run},
          {"started_at", FormatTimestamp(report.started_at)},
          {"finished_at", FormatTimestamp(report.finished_at)},
          {"prepare_triggered", report.prepare_triggered},
          {"error", OrNull(report.error)},
          {"labels", labels}};
}

std::string SummaryMarkdown(const PassReport& report) {
  std::string text =
      "### Orchestrator pass: " + std::string(report.status()) + (report.dry_run ? " (dry run)" : "") + "\n\n";
  if (report.error) text += "**Error:** " + Cell(*report.error) + "\n\n";
  text +=
      "| label | misclassified | sampled correct | dataset_len | threshold | new corrections | decision | outcome | "
      "dataset version | error |\n";
  text += "|---|---:|---:|---:|---:|---:|---|---|---|---|\n";
  for (const LabelReport& label : report.labels) {
    text += "| " + Cell(label.label) + " | " + std::to_string(label.misclassified) + " | " +
            std::to_string(label.sampled_correct) + " | " + (label.upper_bound ? "≤ " : "") +
            std::to_string(label.dataset_len) + " | " + std::to_string(label.threshold) + " | " +
            NewRowsText(label.evidence) + " | " + (label.prepare ? "prepare" : "skip") + " | " +
            OutcomeName(label.outcome) + " | " + Cell(label.dataset_version.value_or("")) + " | " +
            Cell(label.error.value_or("")) + " |\n";
  }
  return text + "\n";
}

std::string GithubOutputs(const PassReport& report) {
  std::string out =
      std::string("status=") + report.status() + "\nexit_code=" + std::to_string(report.exit_code()) + "\n";
  std::vector<std::pair<std::string, std::string>> by_outcome;  // in the order outcomes first appear
  for (const LabelReport& label : report.labels) {
    const std::string outcome = OutcomeName(label.outcome);
    auto found = std::find_if(by_outcome.begin(), by_outcome.end(), [&](const auto& e) { return e.first == outcome; });
    if (found == by_outcome.end()) {
      by_outcome.emplace_back(outcome, label.label);
    } else {
      found->second += "," + label.label;
    }
  }
  for (const auto& [outcome, labels] : by_outcome) out += outcome + "=" + labels + "\n";
  return out;
}

}  // namespace orch
