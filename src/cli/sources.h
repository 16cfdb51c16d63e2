// Turning command-line options into configuration sources.
#pragma once

#include "cli/commands.h"
#include "config/config.h"

namespace orch {

ConfigSources SourcesFrom(const CommonOptions& common);

}  // namespace orch
