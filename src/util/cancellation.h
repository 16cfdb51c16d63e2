// A request to stop the pass (SIGTERM from a cancelled workflow, Ctrl-C), and the waits it cuts
// short. Thread-safe: the signal watcher cancels, the pass checks and sleeps.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace orch {

class Cancellation {
 public:
  // Records the request (the first signal wins) and wakes every WaitUntil.
  void Cancel(int signal_number);
  bool cancelled() const { return cancelled_.load(); }
  int signal_number() const { return signal_.load(); }
  // Returns at `deadline` or as soon as the pass is cancelled.
  void WaitUntil(std::chrono::steady_clock::time_point deadline);

 private:
  std::atomic<bool> cancelled_{false};
  std::atomic<int> signal_{0};
  std::mutex mutex_;
  std::condition_variable woken_;
};

}  // namespace orch
