#include "util/peak_memory.h"

#include <fstream>
#include <string>

namespace orch {

std::optional<long> PeakResidentKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return std::nullopt;
}

}  // namespace orch
