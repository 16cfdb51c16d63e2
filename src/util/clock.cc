#include "util/clock.h"

#include <thread>

#include "util/cancellation.h"

namespace orch {

Clock::TimePoint SystemClock::Now() { return std::chrono::steady_clock::now(); }

std::chrono::system_clock::time_point SystemClock::WallNow() { return std::chrono::system_clock::now(); }

void SystemClock::SleepUntil(TimePoint deadline) {
  if (cancellation_ != nullptr) {
    cancellation_->WaitUntil(deadline);
  } else {
    std::this_thread::sleep_until(deadline);
  }
}

Clock::Duration SecondsToDuration(double seconds) {
  return std::chrono::duration_cast<Clock::Duration>(std::chrono::duration<double>(seconds));
}

}  // namespace orch
