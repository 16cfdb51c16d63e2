#include "serve/snapshot_keeper.h"

#include <malloc.h>

#include "util/clock.h"
#include "util/error.h"

namespace orch {

SnapshotKeeper::SnapshotKeeper(Taker take, double refresh_seconds, Log& log)
    : take_(std::move(take)), refresh_(SecondsToDuration(refresh_seconds)), log_(log) {
  TakeOne();
  thread_ = std::thread([this] { Loop(); });
}

SnapshotKeeper::~SnapshotKeeper() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

SnapshotView SnapshotKeeper::Current() {
  std::lock_guard lock(mutex_);
  if (!refreshing_ && !requested_ && std::chrono::steady_clock::now() - last_attempt_ >= refresh_) {
    requested_ = true;
    wake_.notify_all();
  }
  return {current_, error_, error_at_, refreshing_ || requested_, failures_};
}

void SnapshotKeeper::RefreshSoon() {
  std::lock_guard lock(mutex_);
  requested_ = true;
  wake_.notify_all();
}

bool SnapshotKeeper::WaitForAttemptAfter(WallTime than, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return attempted_.wait_until(lock, deadline, [&] { return last_attempt_wall_ > than && !refreshing_; });
}

void SnapshotKeeper::Loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return requested_ || stopping_; });
    if (stopping_) return;
    requested_ = false;
    lock.unlock();
    TakeOne();
    lock.lock();
  }
}

void SnapshotKeeper::TakeOne() {
  {
    std::lock_guard lock(mutex_);
    refreshing_ = true;
    last_attempt_ = std::chrono::steady_clock::now();
  }
  std::shared_ptr<const Snapshot> taken;
  std::optional<std::string> error;
  try {
    taken = std::make_shared<const Snapshot>(take_());
  } catch (const Error& failure) {
    error = failure.what();
  } catch (const std::exception& failure) {
    error = std::string("internal error: ") + failure.what();
  }
  if (error) log_.Warning("", "could not take a status snapshot; serving the last one", {{"error", *error}});
  std::shared_ptr<const Snapshot> previous;
  {
    std::lock_guard lock(mutex_);
    if (taken) {
      previous = std::move(current_);
      current_ = std::move(taken);
      error_.reset();
      error_at_.reset();
    } else {
      error_ = error;
      error_at_ = std::chrono::system_clock::now();
      ++failures_;
    }
    refreshing_ = false;
    last_attempt_wall_ = std::chrono::system_clock::now();
  }
  attempted_.notify_all();
  // Reading the history's summaries takes megabytes for a moment; give them back to the system
  // once the old snapshot is gone, so that an idle server stays small.
  previous.reset();
  malloc_trim(0);
}

}  // namespace orch
