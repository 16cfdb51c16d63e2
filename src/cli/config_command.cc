#include <iostream>

#include "cli/commands.h"
#include "cli/sources.h"

namespace orch {

int ConfigCommand(const CommonOptions& common, const RunOptions& settings, bool json) {
  Config config = LoadConfigAndWarn(SourcesFrom(common, settings));
  std::cout << (json ? ConfigToJson(config) + "\n" : FormatConfig(config));
  return 0;
}

}  // namespace orch
