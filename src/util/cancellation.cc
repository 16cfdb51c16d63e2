#include "util/cancellation.h"

namespace orch {

void Cancellation::Cancel(int signal_number) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    int none = 0;
    signal_.compare_exchange_strong(none, signal_number);
    cancelled_ = true;
  }
  woken_.notify_all();
}

void Cancellation::WaitUntil(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  woken_.wait_until(lock, deadline, [this] { return cancelled_.load(); });
}

}  // namespace orch
