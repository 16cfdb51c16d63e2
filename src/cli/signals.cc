#include "cli/signals.h"

#include <pthread.h>

namespace orch {
namespace {

// Sent by the destructor to the watcher thread alone, so the pass ends without waiting for a tick.
constexpr int kStopSignal = SIGUSR2;

}  // namespace

SignalWatcher::SignalWatcher(Cancellation& cancellation) : cancellation_(cancellation) {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGTERM);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, kStopSignal);
  pthread_sigmask(SIG_BLOCK, &signals_, &previous_mask_);
  thread_ = std::thread([this] { Watch(); });
}

SignalWatcher::~SignalWatcher() {
  stop_ = true;
  pthread_kill(thread_.native_handle(), kStopSignal);
  thread_.join();
  pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
}

void SignalWatcher::Watch() {
  while (!stop_) {
    const int received = sigwaitinfo(&signals_, nullptr);
    if (received == SIGTERM || received == SIGINT) cancellation_.Cancel(received);
  }
}

}  // namespace orch
