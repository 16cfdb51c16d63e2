#include "cli/sources.h"

namespace orch {

ConfigSources SourcesFrom(const CommonOptions& common) {
  ConfigSources sources;
  sources.environment = ProcessEnvironment();
  sources.env_file = common.env_file;
  sources.config_file = common.config_file;
  return sources;
}

}  // namespace orch
