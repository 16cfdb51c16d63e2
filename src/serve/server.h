// `orchestrator serve` put together: the status snapshot, the pass worker, the endpoints and the
// HTTP server, running until a SIGTERM or SIGINT cancels them.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "config/config.h"
#include "serve/listen_address.h"
#include "util/cancellation.h"
#include "util/log.h"

namespace orch {

struct ServeSettings {
  ListenAddress listen;
  std::optional<double> schedule_seconds;  // none: passes only when asked
  // The process environment handed to passes (the webhook token variable), without what belongs to
  // a GitHub Actions run (GITHUB_RUN_ID, GITHUB_SHA, GITHUB_EVENT_NAME): the server's passes are not
  // that run's.
  std::map<std::string, std::string> environment;
  std::vector<std::string> secrets;  // kept out of every answer and log line
};

// Checks SERVE_LISTEN, SERVE_SCHEDULE and GITHUB_REPOSITORY and gathers the settings. Throws
// ConfigError (exit 2) naming the setting, where its value came from and what is expected.
ServeSettings ServeSettingsFrom(const Config& config, const std::map<std::string, std::string>& environment);

// The passes started by the server and the schedule stop with `cancellation` as `run` does.
//
// Serves until `cancellation` is cancelled, then stops accepting, lets a running pass end (it sees
// the same cancellation), and returns the exit status: 0, or 128 + the signal when a pass was cut
// short. Throws Error when it cannot listen.
int Serve(const Config& config, const ServeSettings& settings, Log& log, Cancellation& cancellation);

}  // namespace orch
