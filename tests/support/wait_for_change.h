// How a fake lets a test wait on its state: every change made under the fake's `mutex` increments
// `generation` and notifies `changed`; WaitForChange evaluates the test's predicate without the
// lock (so it may call the fake's own locking methods), then again after each change.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

namespace orch::testing {

// True as soon as `predicate` holds; false when `timeout` passes first.
bool WaitForChange(std::mutex& mutex, std::condition_variable& changed, const uint64_t& generation,
                   const std::function<bool()>& predicate, std::chrono::milliseconds timeout);

}  // namespace orch::testing
