#include "hub/retry.h"

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

namespace orch {

bool IsRetryableStatus(int status) { return status == 429 || (status >= 500 && status <= 599); }

std::chrono::milliseconds Backoff(int retry, double base_seconds, double max_seconds, std::mt19937_64& random) {
  double cap = std::min(max_seconds, base_seconds * std::pow(2.0, std::max(0, retry - 1)));
  std::uniform_real_distribution<double> upper_half(cap / 2, cap);
  return std::chrono::milliseconds(static_cast<long long>(upper_half(random) * 1000));
}

std::optional<std::chrono::milliseconds> ParseRetryAfter(std::string_view value, long long now_epoch_seconds) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\r' || value.back() == '\n'))
    value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  long long seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec == std::errc() && end == value.data() + value.size()) {
    if (seconds < 0) return std::nullopt;
    return std::chrono::milliseconds(seconds * 1000);
  }
  // An HTTP date: libcurl already knows every format RFC 9110 allows.
  time_t when = curl_getdate(std::string(value).c_str(), nullptr);
  if (when < 0) return std::nullopt;
  return std::chrono::milliseconds(std::max<long long>(0, when - now_epoch_seconds) * 1000);
}

}  // namespace orch
