// Fuzz target for the response headers the HTTP client acts on (ResponseHeaders, which libcurl's
// header callback feeds line by line): whatever lines a server sends, the values kept must be safe
// to send back (ETag as If-None-Match) or to follow (Location) and to show: no control byte, each
// within its bound, and the answer's headers as a whole within kMaxHeaderBytes; so are the headers
// kept for callers (X-Request-Id, Link, RateLimit, ...). Retry-After and RateLimit read from them
// give a wait within [0, kLongestRetryAfterSeconds]. Nothing throws.
//
// Input layout: the header lines, each ending in '\n' as libcurl hands them over (a line starting
// "HTTP/" starts a new answer).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "fuzz_check.h"
#include "hub/response_headers.h"
#include "hub/retry.h"
#include "util/strings.h"

namespace orch::fuzz {
namespace {

void CheckValue(std::string_view value, size_t limit, const char* invariant) {
  Check(value.size() <= limit, invariant);
  for (char c : value) Check((static_cast<unsigned char>(c) >= 0x20 || c == '\t') && c != 0x7f, invariant);
}

}  // namespace
}  // namespace orch::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using orch::ResponseHeaders;
  using orch::fuzz::Check;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  ResponseHeaders headers;
  size_t since_status = 0;  // bytes of the current answer's lines
  bool stopped = false;
  while (!input.empty() && !stopped) {
    const size_t end = input.find('\n');
    const std::string_view line = input.substr(0, end == std::string_view::npos ? input.size() : end + 1);
    input.remove_prefix(line.size());
    if (orch::StartsWithIgnoringCase(line, "HTTP/")) since_status = 0;
    since_status += line.size();
    stopped = !headers.Take(line);
    Check(stopped == (since_status > ResponseHeaders::kMaxHeaderBytes),
          "Take stops exactly when an answer's headers pass kMaxHeaderBytes");
  }
  orch::fuzz::CheckValue(headers.etag(), ResponseHeaders::kMaxEtagBytes, "an ETag kept is one bounded line");
  Check(headers.etag().find_first_of(" \t") == std::string::npos, "an ETag kept holds no space");
  orch::fuzz::CheckValue(headers.location(), ResponseHeaders::kMaxLocationBytes, "a Location kept is one bounded line");
  orch::fuzz::CheckValue(headers.retry_after(), orch::kMaxRetryAfterText, "a Retry-After kept is one bounded line");
  const std::optional<std::chrono::milliseconds> wait = orch::ParseRetryAfter(headers.retry_after(), 1764142262);
  if (wait)
    Check(wait->count() >= 0 && wait->count() <= orch::kLongestRetryAfterSeconds * 1000,
          "a Retry-After wait is within [0, kLongestRetryAfterSeconds]");
  for (const auto& [name, value] : headers.kept())
    orch::fuzz::CheckValue(value, ResponseHeaders::kMaxKeptBytes, "a header kept for callers is one bounded line");
  const auto limit = headers.kept().find("ratelimit");
  if (limit != headers.kept().end()) {
    const std::optional<std::chrono::milliseconds> limited = orch::ParseRateLimit(limit->second);
    if (limited)
      Check(limited->count() >= 0 && limited->count() <= orch::kLongestRetryAfterSeconds * 1000,
            "a RateLimit wait is within [0, kLongestRetryAfterSeconds]");
  }
  return 0;
}
