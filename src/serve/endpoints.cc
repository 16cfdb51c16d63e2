#include "serve/endpoints.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "db/open_database.h"
#include "runner/pass_runner.h"
#include "serve/api_json.h"
#include "serve/bearer_token.h"
#include "serve/serve_metrics.h"
#include "serve/status_page.h"
#include "util/error.h"
#include "util/redact.h"
#include "util/strings.h"

namespace orch {
namespace {

using Json = nlohmann::ordered_json;
constexpr auto kReplace = nlohmann::json::error_handler_t::replace;

constexpr const char* kJsonType = "application/json";
constexpr const char* kHtmlType = "text/html; charset=utf-8";
constexpr const char* kTextType = "text/plain; charset=utf-8";
constexpr int kDefaultRuns = 20;
constexpr int kMaxRuns = 200;  // each row read carries its summary

// The pages load nothing: no script, no style sheet, no image, no frame, no form target. A browser
// that honours this refuses any request the markup might still make.
constexpr const char* kPagePolicy =
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

HttpResponse JsonResponse(int status, const Json& body) {
  return {status, kJsonType, body.dump(-1, ' ', false, kReplace) + "\n", {}};
}

HttpResponse ErrorResponse(int status, const std::string& message) {
  return JsonResponse(status, Json{{"error", message}});
}

HttpResponse Html(int status, std::string body) {
  return {status,
          kHtmlType,
          std::move(body),
          {{"Content-Security-Policy", kPagePolicy}, {"Referrer-Policy", "no-referrer"}}};
}

HttpResponse NotFound(const std::string& path) {
  if (path.starts_with("/api/")) return ErrorResponse(404, "no such resource: " + path);
  return {404, kTextType, "not found: " + Printable(path) + "\nThe status page is at /, the API under /api/.\n", {}};
}

HttpResponse MethodNotAllowed(const std::string& allowed) {
  HttpResponse response = ErrorResponse(405, "this resource answers only " + allowed);
  response.headers.emplace_back("Allow", allowed);
  return response;
}

// "12" from "/api/runs/12"; nothing for anything that is not a positive whole number.
std::optional<int64_t> PositiveId(const std::string& text) {
  std::optional<int64_t> id = ParseInteger(text);
  if (!id || *id <= 0 || text.starts_with('+')) return std::nullopt;
  return id;
}

std::string ConfiguredLabels(const Config& config) {
  std::string names;
  for (const LabelConfig& label : config.labels) names += (names.empty() ? "" : ", ") + label.name;
  return names;
}

// The body of POST /api/passes: {"labels": [...], "dry_run": bool, "wait": bool, "force": bool}, each optional.
struct PassBody {
  PassOrder order;
  std::string problem;  // why the body is refused, "" when it is fine
};

PassBody ParsePassBody(const std::string& body) {
  PassBody parsed;
  parsed.order.started_by = "api";
  if (Trim(body).empty()) return parsed;
  const Json json = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    parsed.problem =
        "the body must be a JSON object such as {\"labels\": [\"department\"], \"dry_run\": true}, or empty";
    return parsed;
  }
  for (const auto& [key, value] : json.items()) {
    if (key == "labels") {
      if (!value.is_array() || value.empty()) {
        parsed.problem = "labels must be a non-empty array of label names (leave it out for every label)";
        return parsed;
      }
      for (const Json& name : value) {
        if (!name.is_string()) {
          parsed.problem = "labels must be label names (strings), not " + name.dump(-1, ' ', false, kReplace);
          return parsed;
        }
        parsed.order.labels.push_back(name.get<std::string>());
      }
    } else if (key == "dry_run" || key == "wait" || key == "force") {
      if (!value.is_boolean()) {
        parsed.problem = key + " must be true or false";
        return parsed;
      }
      if (key == "dry_run") parsed.order.dry_run = value.get<bool>();
      if (key == "wait") parsed.order.wait_for_retrains = value.get<bool>();
      if (key == "force") parsed.order.force = value.get<bool>();
    } else {
      parsed.problem = "unknown field \"" + key + "\": the body takes labels, dry_run, wait and force";
      return parsed;
    }
  }
  return parsed;
}

}  // namespace

Endpoints::Endpoints(const Config& config, EndpointSettings settings, SnapshotKeeper& snapshots, PassWorker& passes,
                     Log& log)
    : config_(config), settings_(std::move(settings)), snapshots_(snapshots), passes_(passes), log_(log) {
  // Not the name its passes hold the lock under: on SQLite a lease is taken over by its own holder,
  // so a check under that name could take, and then free, the lease of a pass this server runs.
  if (settings_.lock_holder.empty()) settings_.lock_holder = HostAndPid() + " (serve's check)";
}

HttpResponse Endpoints::Handle(const HttpRequest& request) {
  HttpResponse response;
  try {
    response = Route(request);
  } catch (const std::exception& error) {
    log_.Error("", "request failed",
               {{"method", request.method}, {"path", Printable(request.path)}, {"error", error.what()}});
    response = ErrorResponse(500, std::string("internal error: ") + error.what());
  }
  // Whatever an error message carried, no secret leaves the server.
  response.body = Redact(std::move(response.body), settings_.secrets);
  response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return response;
}

HttpResponse Endpoints::Route(const HttpRequest& request) {
  const std::string& path = request.path;
  const bool read = request.method == "GET" || request.method == "HEAD";
  if (path == "/api/passes") {
    if (request.method == "POST") return StartPass(request);
    return read ? Passes() : MethodNotAllowed("GET, HEAD, POST");
  }
  const bool known = path == "/" || path == "/api/status" || path == "/api/runs" || path == "/metrics" ||
                     path == "/healthz" || path == "/favicon.ico" || path.starts_with("/labels/") ||
                     path.starts_with("/api/runs/") || path.starts_with("/api/passes/");
  if (!known) return NotFound(path);
  if (!read) return MethodNotAllowed("GET, HEAD");
  if (path == "/") return StatusPage();
  if (path == "/api/status") return Status();
  if (path == "/api/runs") return Runs(request);
  if (path == "/metrics") return Metrics();
  if (path == "/healthz") return Health();
  if (path == "/favicon.ico") return {204, "", "", {}};
  if (path.starts_with("/labels/")) return LabelPage(path.substr(8));
  if (path.starts_with("/api/runs/")) return Run(path.substr(10));
  return Pass(path.substr(12));
}

HttpResponse Endpoints::StatusPage() {
  std::optional<RunningPass> running;
  if (std::optional<PassJob> job = passes_.Running())
    running = RunningPass{job->id, job->order.started_by, job->started_at};
  const PageContext context{config_,
                            snapshots_.Current(),
                            std::chrono::system_clock::now(),
                            running,
                            settings_.schedule_seconds,
                            passes_.NextScheduled(),
                            settings_.refresh_seconds};
  return Html(200, RenderStatusPage(context));
}

HttpResponse Endpoints::LabelPage(const std::string& label) {
  const PageContext context{config_,
                            snapshots_.Current(),
                            std::chrono::system_clock::now(),
                            std::nullopt,
                            settings_.schedule_seconds,
                            passes_.NextScheduled(),
                            settings_.refresh_seconds};
  std::optional<std::string> page = RenderLabelPage(context, label);
  if (!page)
    return {404,
            kTextType,
            "no label " + Printable(label) + " in the configuration (or no status yet); the labels are " +
                ConfiguredLabels(config_) + "\n",
            {}};
  return Html(200, std::move(*page));
}

HttpResponse Endpoints::Status() {
  const SnapshotView view = snapshots_.Current();
  if (!view.snapshot)
    return ErrorResponse(503, "no status yet: the database could not be read: " + view.error.value_or("unknown"));
  HttpResponse response = {200, kJsonType, view.snapshot->status_json + "\n", {}};
  // How old the counts are, in the standard header for it.
  const auto age =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - view.snapshot->taken_at);
  response.headers.emplace_back("Age", std::to_string(std::max<int64_t>(0, age.count())));
  return response;
}

HttpResponse Endpoints::Runs(const HttpRequest& request) {
  int limit = kDefaultRuns;
  if (auto found = request.query.find("limit"); found != request.query.end()) {
    std::optional<int64_t> asked = ParseInteger(found->second);
    if (!asked || *asked < 1 || *asked > kMaxRuns)
      return ErrorResponse(400, "limit must be a whole number from 1 to " + std::to_string(kMaxRuns));
    limit = static_cast<int>(*asked);
  }
  try {
    Json runs = Json::array();
    for (const RunRecord& run : OpenStateStore(config_.database)->History(limit))
      runs.push_back(RunResourceJson(run, config_.github_repository, false));
    return JsonResponse(200, runs);
  } catch (const DatabaseError& error) {
    return ErrorResponse(503, error.what());
  }
}

HttpResponse Endpoints::Run(const std::string& id_text) {
  std::optional<int64_t> id = PositiveId(id_text);
  if (!id) return ErrorResponse(404, "no run " + Printable(id_text) + ": runs are numbered 1, 2, ...");
  try {
    std::optional<RunRecord> run = OpenStateStore(config_.database)->FindRun(*id);
    if (!run) return ErrorResponse(404, "no run " + std::to_string(*id) + " in orchestrator_runs");
    return JsonResponse(200, RunResourceJson(*run, config_.github_repository, true));
  } catch (const DatabaseError& error) {
    return ErrorResponse(503, error.what());
  }
}

std::optional<std::string> Endpoints::LockHeldElsewhere() {
  try {
    std::unique_ptr<RunLock> lock =
        OpenRunLock(config_.database, config_.name, settings_.lock_holder,
                    std::chrono::seconds(static_cast<long long>(std::ceil(config_.lock_lease))));
    if (lock->TryAcquire()) {
      lock->Release();
      return std::nullopt;
    }
    return lock->Holder().description;
  } catch (const DatabaseError&) {
    // No lock table yet, or no database: the pass migrates, or says what is wrong in its outcome.
    return std::nullopt;
  }
}

HttpResponse Endpoints::StartPass(const HttpRequest& request) {
  if (config_.serve_token.empty())
    return ErrorResponse(403,
                         "passes cannot be started over HTTP: no SERVE_TOKEN is configured; set SERVE_TOKEN in the "
                         "environment or .env of orchestrator serve");
  const std::optional<std::string_view> token = BearerToken(request.authorization);
  if (!token || !ConstantTimeEquals(*token, config_.serve_token)) {
    log_.Warning("", "refused a pass request",
                 {{"remote", request.remote}, {"reason", token ? "wrong token" : "no token"}});
    HttpResponse refused =
        ErrorResponse(401, token ? "wrong bearer token" : "send the token: Authorization: Bearer <SERVE_TOKEN>");
    refused.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"orchestrator\"");
    return refused;
  }
  PassBody body = ParsePassBody(request.body);
  if (!body.problem.empty()) return ErrorResponse(400, body.problem);
  // The pass's configuration, as RunPass will see it: only the labels asked for.
  Config pass_config = config_;
  try {
    if (!body.order.labels.empty()) KeepOnlyLabels(pass_config, body.order.labels);
  } catch (const ConfigError& error) {
    return ErrorResponse(400, error.what());
  }
  const bool dry_run = config_.dry_run || body.order.dry_run;
  if (std::optional<PassJob> running = passes_.Running()) {
    Json conflict = {{"error", "this server is already running pass " + std::to_string(running->id)},
                     {"url", "/api/passes/" + std::to_string(running->id)}};
    return JsonResponse(409, conflict);
  }
  if (!dry_run) {
    try {
      RequireForRun(pass_config);
    } catch (const ConfigError& error) {
      return ErrorResponse(503, std::string("this server cannot run a pass: ") + error.what());
    }
    if (std::optional<std::string> holder = LockHeldElsewhere())
      return ErrorResponse(409, "another pass holds the run lock: " + *holder + "; try again when it has finished");
  }
  const std::vector<std::string> labels = body.order.labels;
  std::optional<int64_t> id = passes_.Start(std::move(body.order));
  if (!id) return ErrorResponse(409, "this server is already running a pass, or is stopping");
  log_.Info("", "pass requested",
            {{"pass", *id}, {"remote", request.remote}, {"dry_run", dry_run}, {"labels", labels}});
  const std::string url = "/api/passes/" + std::to_string(*id);
  HttpResponse accepted = JsonResponse(202, Json{{"id", *id}, {"status", "running"}, {"url", url}});
  accepted.headers.emplace_back("Location", url);
  return accepted;
}

HttpResponse Endpoints::Passes() {
  Json jobs = Json::array();
  for (const PassJob& job : passes_.Jobs()) jobs.push_back(PassJobJson(job));
  return JsonResponse(200, jobs);
}

HttpResponse Endpoints::Pass(const std::string& id_text) {
  std::optional<int64_t> id = PositiveId(id_text);
  std::optional<PassJob> job = id ? passes_.Find(*id) : std::nullopt;
  if (!job)
    return ErrorResponse(404, "no pass " + Printable(id_text) +
                                  " on this server: it keeps the running pass and the last finished ones since it "
                                  "started; every recorded pass is in /api/runs");
  return JsonResponse(200, PassJobJson(*job));
}

HttpResponse Endpoints::Metrics() {
  ServerCounters counters;
  counters.passes = passes_.Totals();
  counters.pass_running = passes_.Running().has_value();
  return {200, kMetricsContentType, ServeMetricsText(snapshots_.Current(), counters), {}};
}

HttpResponse Endpoints::Health() {
  try {
    OpenDatabase(config_.database)->ServerVersion();
    return {200, kTextType, "ok\n", {}};
  } catch (const DatabaseError& error) {
    return {503, kTextType, std::string("the database does not answer: ") + error.what() + "\n", {}};
  }
}

}  // namespace orch
