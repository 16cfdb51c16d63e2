#include "cli/sources.h"

#include <iostream>

namespace orch {

ConfigSources SourcesFrom(const CommonOptions& common, const RunOptions& settings) {
  ConfigSources sources;
  sources.environment = ProcessEnvironment();
  sources.env_file = common.env_file;
  sources.config_file = common.config_file;
  if (settings.dry_run) sources.command_line["DRY_RUN"] = "true";
  if (settings.log_format) sources.command_line["LOG_FORMAT"] = *settings.log_format;
  return sources;
}

Config LoadConfigAndWarn(const ConfigSources& sources) {
  Config config = LoadConfig(sources);
  for (const std::string& warning : config.warnings) std::cerr << "orchestrator: warning: " << warning << '\n';
  return config;
}

}  // namespace orch
