// When to try an HTTP request again, and how long to wait first.
#pragma once

#include <chrono>
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

// Parses a Retry-After header (delta-seconds or an HTTP date, relative to `now_epoch_seconds`).
// Returns nothing when absent or unreadable.
std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value, long long now_epoch_seconds);

}  // namespace orch
