// Passes as the JSON API shows them: a row of orchestrator_runs (GET /api/runs and /api/runs/<id>)
// and a pass this server runs or ran (GET /api/passes/<id>).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "db/state_store.h"
#include "serve/pass_worker.h"

namespace orch {

// RunJson (report/history.h: id, times, duration_seconds, status, dry_run, started_by,
// github_run_id, commit, summary) with "github_url" (null unless `repository`, GITHUB_REPOSITORY,
// and the run id are known) and "url", this resource's path; without "summary" unless
// `with_summary`.
nlohmann::ordered_json RunResourceJson(const RunRecord& run, const std::string& repository, bool with_summary);

// {"id", "status": "running" or "finished", "started_by", "labels" (null: every one), "dry_run",
//  "wait", "force", "started_at", "finished_at", "url", "outcome": null or {"status", "exit_code",
//  "summary"}}.
nlohmann::ordered_json PassJobJson(const PassJob& job);

}  // namespace orch
