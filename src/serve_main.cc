// orchestrator-serve: the command line of `orchestrator`, with `serve` able to serve. `orchestrator
// serve` starts this program (cli/serve_program.h); the HTTP server's libraries load only here.
#include <iostream>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/signals.h"
#include "cli/sources.h"
#include "report/stream_log.h"
#include "serve/serialized_log.h"
#include "serve/server.h"
#include "util/clock.h"

namespace orch {
namespace {

// The status page, the JSON API and /metrics over HTTP, with passes on request and on a schedule,
// until SIGTERM or SIGINT (see serve/server.h).
int ServeCommand(const CommonOptions& common, const ServeOptions& options) {
  ConfigSources sources = SourcesFrom(common);
  if (options.listen) sources.command_line["SERVE_LISTEN"] = *options.listen;
  if (options.schedule) sources.command_line["SERVE_SCHEDULE"] = *options.schedule;
  Config config = LoadConfig(sources);
  const ServeSettings settings = ServeSettingsFrom(config, sources.environment);
  // A scheduled pass must be able to run; passes asked for over HTTP are checked when asked.
  if (settings.schedule_seconds && !config.dry_run) RequireForRun(config);
  // What `orchestrator config` displays (eight entries per label, a megabyte or more with a thousand
  // labels) is not needed by a server that runs for weeks; its settings are all read by now.
  std::vector<ConfigValue>().swap(config.values);
  const std::vector<std::string> warnings = std::move(config.warnings);

  Cancellation cancellation;
  SignalWatcher signals(cancellation);  // before any other thread, so that they all inherit the mask
  SystemClock clock(&cancellation);
  StreamLog stream(std::cerr, config.log_format == "json" ? LogFormat::kJson : LogFormat::kText, clock,
                   settings.secrets);
  SerializedLog log(stream);
  for (const std::string& warning : warnings) log.Warning("", warning);
  return Serve(config, settings, log, cancellation);
}

}  // namespace
}  // namespace orch

int main(int argc, char** argv) { return orch::RunApp(argc, argv, &orch::ServeCommand); }
