#include "cli/signals.h"

#include <time.h>

namespace orch {

SignalWatcher::SignalWatcher(Cancellation& cancellation) : cancellation_(cancellation) {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGTERM);
  sigaddset(&signals_, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals_, &previous_mask_);
  thread_ = std::thread([this] { Watch(); });
}

SignalWatcher::~SignalWatcher() {
  stop_ = true;
  thread_.join();
  pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

void SignalWatcher::Watch() {
  const timespec tick{0, 100'000'000};  // how often the destructor's stop request is noticed
  while (!stop_) {
    int received = sigtimedwait(&signals_, nullptr, &tick);
    if (received > 0) cancellation_.Cancel(received);
  }
}

}  // namespace orch
