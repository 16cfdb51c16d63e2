#include "hub/retry.h"

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

#include "util/strings.h"

namespace orch {

bool IsRetryableStatus(int status) { return status == 429 || (status >= 500 && status <= 599); }

std::chrono::milliseconds Backoff(int retry, double base_seconds, double max_seconds, std::mt19937_64& random) {
  double cap = std::min(max_seconds, base_seconds * std::pow(2.0, std::max(0, retry - 1)));
  std::uniform_real_distribution<double> upper_half(cap / 2, cap);
  return std::chrono::milliseconds(static_cast<long long>(upper_half(random) * 1000));
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value, long long now_epoch_seconds) {
  value = Trim(value);
  if (value.empty() || value.size() > kMaxRetryAfterText) return std::nullopt;
  for (char c : value)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return std::nullopt;
  const auto wait = [](long long seconds) {
    return std::chrono::milliseconds(std::clamp(seconds, 0LL, kLongestRetryAfterSeconds) * 1000);
  };
  long long seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (end == value.data() + value.size()) {
    if (ec == std::errc::result_out_of_range && value.front() != '-') return wait(kLongestRetryAfterSeconds);
    if (ec != std::errc() || seconds < 0) return std::nullopt;
    return wait(seconds);
  }
  // An HTTP date: libcurl already knows every format RFC 9110 allows.
  time_t when = curl_getdate(std::string(value).c_str(), nullptr);
  if (when < 0) return std::nullopt;
  // Saturating: a date far in the future (or a clock far in the past) waits the longest.
  const long long now = std::clamp(now_epoch_seconds, 0LL, static_cast<long long>(when));
  return wait(static_cast<long long>(when) - now);
}

std::optional<std::chrono::milliseconds> ParseRateLimit(std::string_view value) {
  if (value.size() > kMaxRetryAfterText * 4) return std::nullopt;
  std::optional<long long> remaining, reset;
  // Parameters are ';'-separated "key=value" items after the policy's name.
  for (size_t start = 0; start <= value.size();) {
    const size_t end = std::min(value.find(';', start), value.size());
    const std::string_view item = Trim(value.substr(start, end - start));
    start = end + 1;
    if (item.size() < 3 || item[1] != '=' || (item[0] != 'r' && item[0] != 't')) continue;
    const std::optional<int64_t> number = ParseInteger(item.substr(2));
    if (!number || *number < 0) return std::nullopt;
    (item[0] == 'r' ? remaining : reset) = *number;
  }
  if (!remaining || !reset || *remaining != 0) return std::nullopt;
  return std::chrono::milliseconds(std::min(*reset, kLongestRetryAfterSeconds) * 1000);
}

}  // namespace orch
