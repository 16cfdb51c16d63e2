#include <iostream>

#include "cli/commands.h"
#include "cli/sources.h"

namespace orch {

int ConfigCommand(const CommonOptions& common, bool json) {
  Config config = LoadConfig(SourcesFrom(common));
  std::cout << (json ? ConfigToJson(config) + "\n" : FormatConfig(config));
  return 0;
}

}  // namespace orch
