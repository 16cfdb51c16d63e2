#include "report/history.h"

#include <chrono>

#include "report/status.h"

namespace orch {
namespace {

using Json = nlohmann::ordered_json;

Json TextOrNull(const std::string& text) { return text.empty() ? Json(nullptr) : Json(text); }

}  // namespace

std::optional<double> RunSeconds(const RunRecord& run) {
  if (!run.finished_at) return std::nullopt;
  return std::chrono::duration<double>(*run.finished_at - run.started_at).count();
}

Json RunJson(const RunRecord& run) {
  Json summary = Json::parse(run.summary_json, nullptr, false);
  const std::optional<double> seconds = RunSeconds(run);
  return {{"id", run.id},
          {"started_at", FormatTimestamp(run.started_at)},
          {"finished_at", JsonOrNull(run.finished_at)},
          {"duration_seconds", seconds ? Json(*seconds) : Json(nullptr)},
          {"status", run.status},
          {"dry_run", run.dry_run},
          {"started_by", TextOrNull(run.started_by)},
          {"github_run_id", TextOrNull(run.github_run_id)},
          {"commit", TextOrNull(run.commit)},
          {"summary", summary.is_discarded() ? Json(nullptr) : summary}};
}

}  // namespace orch
