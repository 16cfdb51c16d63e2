// What the benchmarks share.
#pragma once

#include <string>

namespace orch::bench {

// The pass reports its own peak memory (VmHWM) on its last log line: "peak_rss_kib=N". 0 if absent.
inline long ReportedPeakKib(const std::string& log) {
  size_t at = log.rfind("peak_rss_kib=");
  return at == std::string::npos ? 0 : std::stol(log.substr(at + 13));
}

}  // namespace orch::bench
