#include "serve/snapshot.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <nlohmann/json.hpp>
#include <string_view>
#include <type_traits>
#include <unordered_map>

#include "db/open_database.h"

namespace orch {
namespace {

using Json = nlohmann::json;

template <typename T>
std::optional<T> Optional(const Json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto found = object.find(key);
  if (found == object.end() || found->is_null()) return std::nullopt;
  if constexpr (std::is_same_v<T, std::string>) {
    if (!found->is_string()) return std::nullopt;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!found->is_boolean()) return std::nullopt;
  } else if constexpr (std::is_integral_v<T>) {
    // A count written as 1e300 is no count; one beyond T is taken as T's largest.
    if (found->is_number_unsigned())
      return static_cast<T>(std::min<uint64_t>(found->get<uint64_t>(), std::numeric_limits<T>::max()));
    if (!found->is_number_integer()) return std::nullopt;
  } else {
    if (!found->is_number()) return std::nullopt;
  }
  return found->get<T>();
}

// The decision record of a label's retrain, when the pass waited for it and the worker reported one
// ({"decision": "accepted", "new": {"macro_f1": ...}, "deployed": {...}, "dataset_version": ...}).
std::optional<ScorePoint> ScoreOf(const Json& label, int run) {
  auto retrain = label.find("retrain");
  if (retrain == label.end() || !retrain->is_object()) return std::nullopt;
  auto decision = retrain->find("decision");
  if (decision == retrain->end() || !decision->is_object()) return std::nullopt;
  auto scores = decision->find("new");
  if (scores == decision->end()) return std::nullopt;
  std::optional<double> macro_f1 = Optional<double>(*scores, "macro_f1");
  if (!macro_f1) return std::nullopt;
  ScorePoint point;
  point.run = run;
  point.macro_f1 = *macro_f1;
  auto deployed = decision->find("deployed");
  if (deployed != decision->end()) point.deployed_macro_f1 = Optional<double>(*deployed, "macro_f1");
  const std::optional<std::string> verdict = Optional<std::string>(*decision, "decision");
  if (verdict == "accepted" || verdict == "rejected") point.accepted = *verdict == "accepted";
  point.dataset_version = Optional<std::string>(*decision, "dataset_version")
                              .value_or(Optional<std::string>(label, "dataset_version").value_or("?"));
  return point;
}

int32_t Clamped(std::optional<int64_t> value) {
  return static_cast<int32_t>(std::clamp<int64_t>(value.value_or(0), 0, std::numeric_limits<int32_t>::max()));
}

// The keys of a summary that the snapshot reads (report/summary.h); the parser drops the others as
// it goes, so a summary of a thousand labels never becomes a full tree in memory.
bool KeptKey(const std::string& key) {
  static constexpr std::string_view kKept[] = {
      "error",           "labels",  "label",    "misclassified", "dataset_len", "threshold", "outcome",
      "dataset_version", "retrain", "decision", "new",           "deployed",    "macro_f1"};
  return std::find(std::begin(kKept), std::end(kKept), key) != std::end(kKept);
}

Json ParseSummary(const std::string& text) {
  return Json::parse(
      text,
      [](int, Json::parse_event_t event, Json& parsed) {
        return event != Json::parse_event_t::key || KeptKey(parsed.get<std::string>());
      },
      /*allow_exceptions=*/false);
}

void AddOutcome(std::vector<std::pair<std::string, int>>& outcomes, const std::string& outcome) {
  for (auto& [name, count] : outcomes)
    if (name == outcome) {
      ++count;
      return;
    }
  outcomes.emplace_back(outcome, 1);
}

}  // namespace

void DigestRuns(const Config& config, std::vector<RunRecord> runs, Snapshot& snapshot) {
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < config.labels.size(); ++i) index.emplace(config.labels[i].name, i);
  snapshot.evidence.assign(config.labels.size(), {});
  snapshot.scores.assign(config.labels.size(), {});
  snapshot.runs.clear();
  snapshot.runs.reserve(runs.size());
  // Oldest first, so that each label's series comes out in order.
  for (size_t k = runs.size(); k-- > 0;) {
    const int run = static_cast<int>(k);
    RunRecord& record = runs[k];
    RunDigest digest;
    Json summary = ParseSummary(record.summary_json);
    std::string().swap(record.summary_json);
    if (summary.is_object()) {
      digest.error = Optional<std::string>(summary, "error");
      auto labels = summary.find("labels");
      if (labels != summary.end() && labels->is_array()) {
        for (const Json& label : *labels) {
          const std::optional<std::string> name = Optional<std::string>(label, "label");
          if (!name) continue;
          AddOutcome(digest.outcomes, Optional<std::string>(label, "outcome").value_or("?"));
          auto found = index.find(*name);
          if (found == index.end()) continue;
          std::vector<EvidencePoint>& points = snapshot.evidence[found->second];
          if (points.empty()) points.resize(runs.size());  // once per label: no growth, no holes left behind
          points[runs.size() - 1 - k] = {Clamped(Optional<int64_t>(label, "misclassified")),
                                         Clamped(Optional<int64_t>(label, "dataset_len")),
                                         Clamped(Optional<int64_t>(label, "threshold"))};
          if (std::optional<ScorePoint> score = ScoreOf(label, run)) snapshot.scores[found->second].push_back(*score);
        }
      }
    }
    digest.record = std::move(record);
    snapshot.runs.push_back(std::move(digest));
  }
  // Collected oldest first; the runs are kept newest first, as History gives them.
  std::reverse(snapshot.runs.begin(), snapshot.runs.end());
}

Snapshot TakeSnapshot(const Config& config, int history) {
  const auto start = std::chrono::steady_clock::now();
  Snapshot snapshot;
  snapshot.taken_at = std::chrono::system_clock::now();
  snapshot.labels = ReadStatus(config, snapshot.taken_at);
  snapshot.status_json = StatusJson(snapshot.labels).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  DigestRuns(config, OpenStateStore(config.database)->History(history), snapshot);
  snapshot.took_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return snapshot;
}

}  // namespace orch
