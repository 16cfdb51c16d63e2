#include "serve/api_json.h"

#include "report/history.h"
#include "report/status.h"
#include "serve/status_page.h"

namespace orch {
namespace {

using Json = nlohmann::ordered_json;

Json ParsedOrNull(const std::string& text) {
  if (text.empty()) return nullptr;
  Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? Json(nullptr) : parsed;
}

}  // namespace

Json RunResourceJson(const RunRecord& run, const std::string& repository, bool with_summary) {
  Json json = RunJson(run);
  const std::string github_url = GithubRunUrl(repository, run.github_run_id);
  json["github_url"] = github_url.empty() ? Json(nullptr) : Json(github_url);
  json["url"] = "/api/runs/" + std::to_string(run.id);
  if (!with_summary) json.erase("summary");
  return json;
}

Json PassJobJson(const PassJob& job) {
  const bool finished = job.finished_at.has_value();
  Json json = {{"id", job.id},
               {"status", finished ? "finished" : "running"},
               {"started_by", job.order.started_by},
               {"labels", job.order.labels.empty() ? Json(nullptr) : Json(job.order.labels)},
               {"dry_run", job.order.dry_run},
               {"wait", job.order.wait_for_retrains},
               {"force", job.order.force},
               {"started_at", FormatTimestamp(job.started_at)},
               {"finished_at", JsonOrNull(job.finished_at)},
               {"url", "/api/passes/" + std::to_string(job.id)},
               {"outcome", nullptr}};
  if (finished)
    json["outcome"] = {{"status", job.status}, {"exit_code", job.exit_code}, {"summary", ParsedOrNull(job.summary)}};
  return json;
}

}  // namespace orch
