// Turning command-line options into configuration sources.
#pragma once

#include "cli/commands.h"
#include "config/config.h"

namespace orch {

// `settings` are the options that set a setting (--dry-run, --log-format); they are the
// "command line" origin, the strongest.
ConfigSources SourcesFrom(const CommonOptions& common, const RunOptions& settings = {});

// LoadConfig, then each of its warnings on stderr ("orchestrator: warning: ..."): for the commands
// that have no log of their own (`run` and `serve` log them).
Config LoadConfigAndWarn(const ConfigSources& sources);

}  // namespace orch
