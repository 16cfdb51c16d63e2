// Keeps the status snapshot fresh without busy work: a request that finds it older than
// SERVE_REFRESH asks for a new one and is answered at once from the one there is; a thread of its
// own takes the new one, and sleeps on a condition variable until asked again. So an idle server
// counts nothing, and a busy one counts at most once every SERVE_REFRESH seconds.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "serve/snapshot.h"
#include "util/log.h"

namespace orch {

// What a request sees: the last snapshot taken, and how the last attempt to take one went.
struct SnapshotView {
  std::shared_ptr<const Snapshot> snapshot;  // null until one could be taken
  std::optional<std::string> error;          // why the last attempt failed, when it did
  std::optional<WallTime> error_at;
  bool refreshing = false;  // a new snapshot is being taken
  int64_t failures = 0;     // attempts that failed since the server started
};

class SnapshotKeeper {
 public:
  using Taker = std::function<Snapshot()>;

  // Takes the first snapshot before returning (a failure is kept and shown, not thrown), then
  // starts the thread that takes the next ones.
  SnapshotKeeper(Taker take, double refresh_seconds, Log& log);
  ~SnapshotKeeper();
  SnapshotKeeper(const SnapshotKeeper&) = delete;
  SnapshotKeeper& operator=(const SnapshotKeeper&) = delete;

  // The current view; asks for a new snapshot when the last attempt is older than the refresh
  // interval.
  SnapshotView Current();
  // Asks for a new snapshot now (after a pass), without waiting for it.
  void RefreshSoon();
  // Blocks until a snapshot newer than `than` was attempted, or `deadline`; for tests.
  bool WaitForAttemptAfter(WallTime than, std::chrono::steady_clock::time_point deadline);

 private:
  void Loop();
  void TakeOne();

  Taker take_;
  std::chrono::steady_clock::duration refresh_;
  Log& log_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable attempted_;
  std::shared_ptr<const Snapshot> current_;
  std::optional<std::string> error_;
  std::optional<WallTime> error_at_;
  std::chrono::steady_clock::time_point last_attempt_{};
  WallTime last_attempt_wall_{};
  int64_t failures_ = 0;
  bool requested_ = false;
  bool refreshing_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace orch
