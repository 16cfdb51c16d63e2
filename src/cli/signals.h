// Turns SIGTERM (a cancelled workflow) and SIGINT (Ctrl-C) into a Cancellation of the pass.
//
// The signals are blocked in every thread and received by a thread of this watcher's own, so no
// code runs in a signal handler: the pass sees the request at its next step and stops cleanly.
// SIGUSR2 is kept for the watcher's own use (its destructor wakes it with one).
#pragma once

#include <signal.h>

#include <atomic>
#include <thread>

#include "util/cancellation.h"

namespace orch {

class SignalWatcher {
 public:
  // Construct before any other thread starts, so that every later thread inherits the mask.
  explicit SignalWatcher(Cancellation& cancellation);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  void Watch();

  Cancellation& cancellation_;
  sigset_t signals_{};
  sigset_t previous_mask_{};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace orch
