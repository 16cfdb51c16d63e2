// When to try an HTTP request again, and how long to wait first.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <random>
#include <string_view>

namespace orch {

// 429 and 5xx may succeed later; everything else is final.
bool IsRetryableStatus(int status);

// The wait before retry number `retry` (1 for the first retry): exponential from `base_seconds`,
// capped at `max_seconds`, with "equal jitter" (a random point in the upper half) so that many
// clients that failed together do not retry together.
std::chrono::milliseconds Backoff(int retry, double base_seconds, double max_seconds, std::mt19937_64& random);

// The longest wait a Retry-After can ask for; a longer one (or a date further ahead) asks for this.
// The client caps it further, at HTTP_RETRY_MAX.
inline constexpr long long kLongestRetryAfterSeconds = 366LL * 24 * 3600;
// A Retry-After value longer than this is unreadable (an HTTP date takes 29 characters).
inline constexpr size_t kMaxRetryAfterText = 64;

// Parses a Retry-After header (delta-seconds or an HTTP date, relative to `now_epoch_seconds`):
// a wait from 0 to kLongestRetryAfterSeconds, a date in the past being 0. Returns nothing when
// absent or unreadable (negative, a control byte, not a date).
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value, long long now_epoch_seconds);

// The wait a `RateLimit` header (IETF draft-09, as the Hub sends it on every answer:
// `"api";r=0;t=42`) asks for: `t` seconds (at most kLongestRetryAfterSeconds) when no request is
// left in the window (`r=0`); nothing when requests remain, or the header is absent or unreadable.
std::optional<std::chrono::milliseconds> ParseRateLimit(std::string_view value);

}  // namespace orch
