// The process's own peak memory, for the pass's last log line.
#pragma once

#include <optional>

namespace orch {

// Peak resident set size of this process image in KiB (VmHWM in /proc/self/status), or nothing
// where the kernel does not tell. Unlike getrusage(), it excludes memory of the parent that
// spawned the process (a vfork-style spawn otherwise counts the parent's pages).
std::optional<long> PeakResidentKib();

}  // namespace orch
