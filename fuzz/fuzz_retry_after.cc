// Fuzz target for ParseRetryAfter, the wait a 429 or 503 asks for: delta-seconds or an HTTP date
// (read by libcurl's curl_getdate), relative to a clock that may be anywhere. Any text must give
// nothing or a wait within [0, kLongestRetryAfterSeconds]; a number gives its own value (capped),
// and nothing throws or overflows.
//
// Input layout: eight bytes of "now" (seconds since the epoch, any value), then the header value.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#include "fuzz_check.h"
#include "hub/retry.h"
#include "util/strings.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using orch::fuzz::Check;
  if (size < 8) return 0;
  long long now = 0;
  std::memcpy(&now, data, sizeof now);
  const std::string_view value(reinterpret_cast<const char*>(data) + 8, size - 8);
  const std::optional<std::chrono::milliseconds> wait = orch::ParseRetryAfter(value, now);
  if (wait)
    Check(wait->count() >= 0 && wait->count() <= orch::kLongestRetryAfterSeconds * 1000,
          "a Retry-After wait is within [0, kLongestRetryAfterSeconds]");
  const std::optional<int64_t> seconds = orch::ParseInteger(orch::Trim(value));
  if (seconds && *seconds >= 0 && value.size() <= orch::kMaxRetryAfterText)
    Check(wait && wait->count() == std::min<int64_t>(*seconds, orch::kLongestRetryAfterSeconds) * 1000,
          "delta-seconds wait that many seconds, capped");
  if (seconds && *seconds < 0) Check(!wait, "a negative delay is unreadable");
  return 0;
}
