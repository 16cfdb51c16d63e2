// Time, as the engine sees it.
//
// The engine never reads the system clock or sleeps directly: it asks a Clock, so tests drive a
// whole pass (minutes of polling) in microseconds with a fake that only moves when told to.
#pragma once

#include <chrono>
#include <optional>

namespace orch {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Duration = std::chrono::steady_clock::duration;

  virtual ~Clock() = default;
  // Monotonic time, for deadlines and intervals.
  virtual TimePoint Now() = 0;
  // Calendar time, for timestamps in reports.
  virtual std::chrono::system_clock::time_point WallNow() = 0;
  // Blocks until `deadline` (returns at once if it has passed).
  virtual void SleepUntil(TimePoint deadline) = 0;
};

class Cancellation;

// The real clock. Its sleeps end early when the pass is cancelled.
class SystemClock : public Clock {
 public:
  explicit SystemClock(Cancellation* cancellation = nullptr) : cancellation_(cancellation) {}
  TimePoint Now() override;
  std::chrono::system_clock::time_point WallNow() override;
  void SleepUntil(TimePoint deadline) override;

 private:
  Cancellation* cancellation_;
};

// How long a round of outside calls may take in all, retries included; a call still unanswered
// when it has passed ends as unanswered. None: each call's own limits (HTTP_TIMEOUT, ...) apply.
using TimeBudget = std::optional<std::chrono::milliseconds>;

// Converts seconds (possibly fractional) into a clock duration.
Clock::Duration SecondsToDuration(double seconds);

}  // namespace orch
