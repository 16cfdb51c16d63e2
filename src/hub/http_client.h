// HTTP for the Hub and metadata hosts: many requests at once over a bounded number of
// connections, each with timeouts, retries and redirects, and the token kept to its own host.
//
// Built on libcurl's multi interface, so a thousand requests cost one thread and at most
// HttpSettings::max_connections sockets. A request is retried on network errors, 429 and 5xx
// (honouring Retry-After); 4xx answers are final. A POST is never sent again once an attempt may
// have been carried out (see HttpResponse::may_have_arrived) unless its receiver drops repeats
// (HttpRequest::repeatable): the caller asks the worker what happened instead. Such a POST goes on
// a fresh connection, so that libcurl does not send it again by itself either. Redirects are followed by hand so that
// every hop passes the same scheme check and the token goes only to the origin it was issued for.
// A 429 waits what its Retry-After or RateLimit header asks for (at most HTTP_RETRY_MAX).
//
// Large bodies never sit in memory whole: a request's body can be read from a range of a file as it
// is sent (an LFS upload, one part of it), and an answer's body written to a file as it arrives (a
// download).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "config/config.h"
#include "util/cancellation.h"
#include "util/clock.h"

namespace orch {

struct HttpRequest {
  std::string method = "GET";  // GET, POST or PUT
  std::string url;
  std::string if_none_match;  // sent as If-None-Match when not empty
  size_t max_body_bytes = 4 << 20;
  std::string body;                  // sent with POST and PUT
  std::string content_type;          // of `body`, e.g. "application/json"
  std::vector<std::string> headers;  // further "Name: value" lines (an Accept among them replaces the default)
  // Instead of `body`: `body_file_length` bytes of this file from `body_file_offset`, read as they
  // are sent (again from the start at each attempt). A file that cannot be read, or ends before
  // them, ends the request with an error saying so.
  std::filesystem::path body_file;
  uint64_t body_file_offset = 0;
  uint64_t body_file_length = 0;
  // When set, the body of a 2xx answer goes to this file (created, or emptied at each attempt)
  // instead of HttpResponse::body, still bounded by max_body_bytes; any other answer's body stays
  // in HttpResponse::body. The file is left as the last attempt wrote it: the caller removes it
  // when the request failed.
  std::filesystem::path response_file;
  // Whether sending it again after an attempt that may have been carried out does no harm: true
  // for GET and PUT; for a POST only when its receiver drops repeats (an Idempotency-Key).
  bool repeatable = false;
};

struct HttpResponse {
  int status = 0;  // 0 when no HTTP answer came (see error)
  std::string body;
  std::string etag;
  std::string error;  // why no usable answer came: network error, refused redirect, body too large
  bool body_too_large = false;
  int attempts = 0;  // requests sent, retries included
  // Whether an attempt may have reached the server without an answer saying what it did: the
  // connection broke after the request was sent, a gateway answered 502 or 504, or the exchange
  // was cancelled in flight. A POST that failed with this false certainly did nothing.
  bool may_have_arrived = false;
  std::string final_url;  // after redirects
  // The answer's headers of ResponseHeaders::kKeptHeaders (X-Request-Id, X-Error-Code, Link,
  // RateLimit, ...), by lower-case name.
  std::map<std::string, std::string> headers;
  // The header `lower_case_name`, "" when the answer had none.
  std::string Header(const std::string& lower_case_name) const;
};

// Told about each retry before waiting for it, so the log can say what is going on.
struct RetryNotice {
  std::string method;
  std::string url;
  int attempt = 0;     // the attempt that failed (1 = first)
  std::string reason;  // "HTTP 503", "timeout after 30 s", …
  std::chrono::milliseconds wait{0};
};

class HttpClient {
 public:
  // `token` goes, as "Authorization: Bearer", only to URLs whose origin is `token_origin`.
  HttpClient(HttpSettings settings, std::string token, std::string token_origin,
             std::function<void(const RetryNotice&)> on_retry = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Performs every request, concurrently. Response i answers requests[i]. Never throws for a
  // failed exchange: the response says what happened. With a `budget`, no attempt or retry
  // outlasts it: a request still unanswered then ends with an error saying so (and
  // may_have_arrived when it had been sent).
  std::vector<HttpResponse> Perform(std::span<const HttpRequest> requests, TimeBudget budget = std::nullopt);

  HttpResponse Perform(const HttpRequest& request);

  // Makes Perform give up (unfinished requests answer "cancelled") once `cancellation` is set.
  void SetCancellation(const Cancellation* cancellation) { cancellation_ = cancellation; }

  // Total requests sent by this client (retries and redirect hops included).
  long long requests_sent() const { return requests_sent_; }

  struct Transfer;  // one request on its way (defined in the .cc file)

 private:
  class Multi;

  void EnsureStarted();
  // Ends every unfinished transfer with `why` as its error.
  void Abandon(std::vector<Transfer>& transfers, const std::string& why);
  void Start(Transfer& transfer);
  void Finish(Transfer& transfer, int curl_code);
  bool ScheduleRetry(Transfer& transfer, const std::string& reason, std::chrono::milliseconds floor);
  // False for a POST that may have been carried out, unless it is repeatable.
  bool MayResend(const Transfer& transfer) const;
  bool FollowRedirect(Transfer& transfer);

  HttpSettings settings_;
  std::string token_;
  std::string token_origin_;
  std::function<void(const RetryNotice&)> on_retry_;
  std::mt19937_64 random_;
  std::unique_ptr<Multi> multi_;
  const Cancellation* cancellation_ = nullptr;
  long long requests_sent_ = 0;
};

// `url` with `name=value` added to its query, `value` percent-encoded as libcurl encodes a query
// (a space is '+'). `url` as it is when libcurl cannot parse it.
std::string WithQueryParameter(const std::string& url, std::string_view name, std::string_view value);

}  // namespace orch
