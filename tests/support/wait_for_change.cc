#include "support/wait_for_change.h"

namespace orch::testing {

bool WaitForChange(std::mutex& mutex, std::condition_variable& changed, const uint64_t& generation,
                   const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    uint64_t seen;
    {
      std::lock_guard lock(mutex);
      seen = generation;
    }
    if (predicate()) return true;
    std::unique_lock lock(mutex);
    if (!changed.wait_until(lock, deadline, [&] { return generation != seen; })) return false;
  }
}

}  // namespace orch::testing
