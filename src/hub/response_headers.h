// The headers of an HTTP answer that the client acts on, read line by line as libcurl hands them
// over: ETag (sent back as If-None-Match), Location (a redirect's target), Retry-After and
// Content-Length (an answer announced larger than the caller accepts is refused before its body),
// and the few that callers read (kKeptHeaders: the Hub's request id and error code, a listing's
// next page, a rate limit's state).
//
// The values come from whatever server answered, so each is kept only when it is usable as it is:
// a value with a control byte (which would forge a header when sent back, or a log line when
// shown) or longer than its bound is dropped, as if the header were absent. The headers of one
// answer are bounded as a whole: a server cannot make the client hold more than kMaxHeaderBytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace orch {

class ResponseHeaders {
 public:
  // Every header line of one answer (status line included) together.
  static constexpr size_t kMaxHeaderBytes = 64 << 10;
  // An ETag longer than this is not sent back (the Hub's are under 100 bytes).
  static constexpr size_t kMaxEtagBytes = 512;
  // A redirect target longer than this is not followed.
  static constexpr size_t kMaxLocationBytes = 8 << 10;
  // The further headers kept for callers (HttpResponse::headers), by lower-case name, each at most
  // kMaxKeptBytes (a longer value is dropped).
  static constexpr const char* kKeptHeaders[] = {"x-request-id",  "x-error-code",  "x-error-message",
                                                 "link",          "ratelimit",     "x-repo-commit",
                                                 "x-linked-size", "x-linked-etag", "content-range"};
  static constexpr size_t kMaxKeptBytes = 2048;

  // Takes one header line as libcurl gives it ("Name: value\r\n"). A status line ("HTTP/1.1 200
  // OK") starts a new answer (after a 100 Continue, or the next hop) and forgets the earlier one.
  // Returns false once this answer's headers exceed kMaxHeaderBytes: the transfer must stop.
  bool Take(std::string_view line);

  const std::string& etag() const { return etag_; }
  const std::string& location() const { return location_; }
  const std::string& retry_after() const { return retry_after_; }
  // The announced body size, when the answer gave a readable one.
  std::optional<uint64_t> content_length() const { return content_length_; }
  // The kKeptHeaders this answer had, by lower-case name (a repeated header: its last value).
  const std::map<std::string, std::string>& kept() const { return kept_; }

  void Clear();

 private:
  std::string etag_;
  std::string location_;
  std::string retry_after_;
  std::optional<uint64_t> content_length_;
  std::map<std::string, std::string> kept_;
  size_t bytes_ = 0;
};

}  // namespace orch
