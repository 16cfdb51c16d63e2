#include "serve/server.h"

#include <malloc.h>

#include <chrono>

#include "config/label_name.h"
#include "config/url_policy.h"
#include "serve/endpoints.h"
#include "serve/http_server.h"
#include "serve/pass_worker.h"
#include "serve/snapshot_keeper.h"
#include "serve/status_page.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/strings.h"

namespace orch {
namespace {

// Passes read for the charts and the history: enough for a trend, and few enough that reading
// their summaries stays quick with a thousand labels.
constexpr int kHistoryRuns = 50;

// Where a setting's value came from, as its message says: "--listen" for the command line.
std::string Where(const Config& config, std::string_view env, std::string_view option) {
  for (const ConfigValue& value : config.values)
    if (value.env == env)
      return value.origin == Origin::kCommandLine ? std::string(option) : std::string(OriginName(value.origin));
  return "default";
}

}  // namespace

ServeSettings ServeSettingsFrom(const Config& config, const std::map<std::string, std::string>& environment) {
  ServeSettings settings;
  std::optional<ListenAddress> listen = ParseListenAddress(config.serve_listen);
  if (!listen)
    throw ConfigError("SERVE_LISTEN=" + QuoteForMessage(config.serve_listen) + " (" +
                      Where(config, "SERVE_LISTEN", "--listen") +
                      "): expected HOST:PORT, e.g. 127.0.0.1:8080, [::1]:8080 or 0.0.0.0:8080 (port 0: any free port)");
  settings.listen = *listen;
  if (!Trim(config.serve_schedule).empty()) {
    settings.schedule_seconds = ParseInterval(config.serve_schedule);
    if (!settings.schedule_seconds)
      throw ConfigError("SERVE_SCHEDULE=" + QuoteForMessage(config.serve_schedule) + " (" +
                        Where(config, "SERVE_SCHEDULE", "--schedule") +
                        "): expected an interval greater than 0 and at most a year: a number then s, m, h or d, "
                        "e.g. 6h, 30m or 90s");
  }
  if (!config.github_repository.empty() && GithubRunUrl(config.github_repository, "1").empty())
    throw ConfigError("GITHUB_REPOSITORY=" + QuoteForMessage(config.github_repository) + " (" +
                      Where(config, "GITHUB_REPOSITORY", "") + "): expected owner/name, e.g. octo-org/grievances");
  settings.environment = environment;
  for (const char* name : {"GITHUB_RUN_ID", "GITHUB_SHA", "GITHUB_EVENT_NAME"}) settings.environment.erase(name);
  settings.secrets = Secrets(config, environment);
  return settings;
}

int Serve(const Config& config, const ServeSettings& settings, Log& log, Cancellation& cancellation) {
  // A long-lived process that builds large short-lived buffers (pages, the status JSON, the history's
  // summaries while a snapshot is taken): give every allocation from 64 KiB up its own mapping, so
  // that freeing it returns it to the system (glibc otherwise raises this threshold as it goes, and
  // keeps what was freed), and one arena rather than one per thread that ever answered, so that
  // what is freed is in one heap that malloc_trim can give back.
  mallopt(M_MMAP_THRESHOLD, 64 * 1024);
  mallopt(M_ARENA_MAX, 1);
  SnapshotKeeper snapshots([&config] { return TakeSnapshot(config, kHistoryRuns); }, config.serve_refresh, log);
  PassWorker passes(config,
                    {.schedule_seconds = settings.schedule_seconds,
                     .keep_finished = 20,
                     .environment = settings.environment,
                     .secrets = settings.secrets},
                    log, cancellation, [&snapshots] { snapshots.RefreshSoon(); });
  Endpoints endpoints(config,
                      {.schedule_seconds = settings.schedule_seconds,
                       .refresh_seconds = config.serve_refresh,
                       .secrets = settings.secrets,
                       .lock_holder = {}},
                      snapshots, passes, log);
  // An answer can leave a megabyte or two of freed heap behind (a page of a thousand labels, the status
  // JSON): hand it back once the answer is out, so that an idle server keeps only its snapshot.
  HttpServer http(
      settings.listen, [&endpoints](const HttpRequest& request) { return endpoints.Handle(request); },
      [] { malloc_trim(0); });
  const std::string url = "http://" + FormatListenAddress(settings.listen.host, http.port());
  if (!IsLoopbackHost(settings.listen.host))
    log.Warning("", "listening beyond this machine: anyone who reaches the address reads the status and metrics",
                {{"listen", FormatListenAddress(settings.listen.host, http.port())}});
  log.Info("", "listening",
           {{"url", url},
            {"labels", config.labels.size()},
            {"schedule", settings.schedule_seconds ? FormatInterval(*settings.schedule_seconds) : "none"},
            {"passes_over_http", config.serve_token.empty() ? "off (no SERVE_TOKEN)" : "on"}});
  http.Start();
  passes.Run();  // once the port is ours: a scheduled pass due now starts only when the server is up
  // Nothing to do until a signal: the requests, the snapshot and the passes have threads of their own.
  while (!cancellation.cancelled()) cancellation.WaitUntil(std::chrono::steady_clock::now() + std::chrono::hours(24));
  log.Info("", "stopping", {{"signal", cancellation.signal_number()}});
  http.Stop();
  const int cut_by = passes.Stop();
  log.Info("", "stopped", {{"pass_cut_short", cut_by != 0}});
  return cut_by != 0 ? 128 + cut_by : kExitOk;
}

}  // namespace orch
