#include "hub/http_client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <queue>

#include "config/url_policy.h"
#include "hub/response_headers.h"
#include "hub/retry.h"
#include "util/durable_file.h"
#include "util/redact.h"
#include "util/strings.h"

namespace orch {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr int kMaxRedirects = 5;

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct ListDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
struct CurlStringDeleter {
  void operator()(char* text) const { curl_free(text); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using HeaderList = std::unique_ptr<curl_slist, ListDeleter>;
using CurlString = std::unique_ptr<char, CurlStringDeleter>;

long Milliseconds(double seconds) { return static_cast<long>(seconds * 1000); }

// Resolves `location` (absolute or relative) against `base`. Empty on failure.
std::string ResolveUrl(const std::string& base, const std::string& location) {
  std::unique_ptr<CURLU, UrlDeleter> url(curl_url());
  if (!url || curl_url_set(url.get(), CURLUPART_URL, base.c_str(), 0) != CURLUE_OK) return "";
  if (curl_url_set(url.get(), CURLUPART_URL, location.c_str(), 0) != CURLUE_OK) return "";
  char* joined = nullptr;
  if (curl_url_get(url.get(), CURLUPART_URL, &joined, 0) != CURLUE_OK) return "";
  CurlString owner(joined);
  return joined;
}

// "cannot <action> <path>: <the system's reason>".
std::string FileProblem(const char* action, const std::filesystem::path& path, int error_number) {
  return std::string("cannot ") + action + " " + path.string() + ": " + std::strerror(error_number);
}

bool HasHeader(const std::vector<std::string>& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(), [&](const std::string& header) {
    return header.size() > name.size() && header[name.size()] == ':' && StartsWithIgnoringCase(header, name);
  });
}

}  // namespace

std::string WithQueryParameter(const std::string& url, std::string_view name, std::string_view value) {
  std::unique_ptr<CURLU, UrlDeleter> handle(curl_url());
  const std::string parameter = std::string(name) + "=" + std::string(value);
  if (!handle || curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK ||
      curl_url_set(handle.get(), CURLUPART_QUERY, parameter.c_str(), CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK)
    return url;
  char* joined = nullptr;
  if (curl_url_get(handle.get(), CURLUPART_URL, &joined, 0) != CURLUE_OK) return url;
  CurlString owner(joined);
  return joined;
}

std::string HttpResponse::Header(const std::string& lower_case_name) const {
  const auto found = headers.find(lower_case_name);
  return found == headers.end() ? "" : found->second;
}

// One request on its way: its current hop, its attempts, and the answer being received.
struct HttpClient::Transfer {
  size_t index = 0;
  const HttpRequest* request = nullptr;
  HttpResponse* response = nullptr;
  std::string url;
  std::string method;
  int hops = 0;
  int retries = 0;
  SteadyClock::time_point ready_at;
  std::optional<SteadyClock::time_point> give_up_at;  // the Perform's budget, see Perform
  std::string out_of_budget;                          // what a transfer the budget ends says
  // When the current attempt must have ended: HTTP_TIMEOUT after its first hop, redirects included.
  SteadyClock::time_point attempt_deadline;
  bool redirected = false;  // the next Start continues the current attempt at transfer.url
  EasyHandle easy;
  HeaderList headers;
  std::string body;
  ResponseHeaders answer;
  bool too_large = false;
  std::string refusal;      // why the client stopped the transfer itself (its answer is too large)
  FileDescriptor upload;    // HttpRequest::body_file, open during an attempt
  uint64_t uploaded = 0;    // bytes of it sent in this attempt
  FileDescriptor download;  // HttpRequest::response_file, open during an attempt
  uint64_t downloaded = 0;  // bytes written to it in this attempt
  char error_buffer[CURL_ERROR_SIZE] = {};
};

// The curl multi handle, owned.
class HttpClient::Multi {
 public:
  Multi() : handle_(curl_multi_init()) {
    if (!handle_) throw std::runtime_error("curl_multi_init failed");
  }
  ~Multi() { curl_multi_cleanup(handle_); }
  CURLM* get() const { return handle_; }

 private:
  CURLM* handle_;
};

HttpClient::HttpClient(HttpSettings settings, std::string token, std::string token_origin,
                       std::function<void(const RetryNotice&)> on_retry)
    : settings_(settings),
      token_(std::move(token)),
      token_origin_(std::move(token_origin)),
      on_retry_(std::move(on_retry)),
      random_(std::random_device{}()) {}

HttpClient::~HttpClient() {
  if (!multi_) return;
  multi_.reset();
  curl_global_cleanup();
}

// libcurl and its TLS library are set up on first use: a pass with nothing to do never pays for them.
void HttpClient::EnsureStarted() {
  if (multi_) return;
  curl_global_init(CURL_GLOBAL_DEFAULT);  // reference-counted by libcurl
  multi_ = std::make_unique<Multi>();
  curl_multi_setopt(multi_->get(), CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(settings_.max_connections));
}

HttpResponse HttpClient::Perform(const HttpRequest& request) {
  return Perform(std::span<const HttpRequest>(&request, 1)).front();
}

std::vector<HttpResponse> HttpClient::Perform(std::span<const HttpRequest> requests, TimeBudget budget) {
  std::vector<HttpResponse> responses(requests.size());
  if (requests.empty()) return responses;
  EnsureStarted();
  std::optional<SteadyClock::time_point> give_up_at;
  std::string out_of_budget;
  if (budget) {
    give_up_at = SteadyClock::now() + *budget;
    out_of_budget =
        "no answer within the " + FormatNumber(static_cast<double>(budget->count()) / 1000) + " s the wait had left";
  }
  std::vector<Transfer> transfers(requests.size());
  using Entry = std::pair<SteadyClock::time_point, size_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue;  // by ready time
  for (size_t i = 0; i < requests.size(); ++i) {
    transfers[i].index = i;
    transfers[i].request = &requests[i];
    transfers[i].response = &responses[i];
    transfers[i].url = requests[i].url;
    transfers[i].method = requests[i].method;
    transfers[i].ready_at = SteadyClock::now();
    transfers[i].give_up_at = give_up_at;
    transfers[i].out_of_budget = out_of_budget;
    queue.emplace(transfers[i].ready_at, i);
  }

  size_t active = 0;
  while (active > 0 || !queue.empty()) {
    if (cancellation_ != nullptr && cancellation_->cancelled()) {
      Abandon(transfers, "cancelled");
      break;
    }
    auto now = SteadyClock::now();
    if (give_up_at && now >= *give_up_at) {
      Abandon(transfers, out_of_budget);
      break;
    }
    while (!queue.empty() && queue.top().first <= now && active < static_cast<size_t>(settings_.max_connections)) {
      Transfer& transfer = transfers[queue.top().second];
      queue.pop();
      Start(transfer);
      if (transfer.easy) ++active;
    }
    int running = 0;
    curl_multi_perform(multi_->get(), &running);
    int pending = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_->get(), &pending)) {
      if (message->msg != CURLMSG_DONE) continue;
      char* private_data = nullptr;
      curl_easy_getinfo(message->easy_handle, CURLINFO_PRIVATE, &private_data);
      Transfer& transfer = transfers[reinterpret_cast<uintptr_t>(private_data)];
      int code = message->data.result;
      curl_multi_remove_handle(multi_->get(), message->easy_handle);
      --active;
      Finish(transfer, code);
      if (!transfer.easy) continue;  // finished for good
      transfer.easy.reset();
      queue.emplace(transfer.ready_at, transfer.index);
    }
    if (active == 0 && queue.empty()) break;
    // With a cancellation to watch, wake often enough to notice it.
    auto wait = std::chrono::milliseconds(cancellation_ != nullptr ? 100 : 1000);
    const auto until = [](SteadyClock::time_point at) {
      return std::chrono::ceil<std::chrono::milliseconds>(at - SteadyClock::now());
    };
    if (!queue.empty()) wait = std::clamp(until(queue.top().first), std::chrono::milliseconds(0), wait);
    if (give_up_at) wait = std::clamp(until(*give_up_at), std::chrono::milliseconds(0), wait);
    curl_multi_poll(multi_->get(), nullptr, 0, static_cast<int>(wait.count()), nullptr);
  }
  return responses;
}

namespace {

// Whether any byte of the request left for the server (a refused connection sends none).
bool RequestWasSent(CURL* easy) {
  long request_bytes = 0;
  curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &request_bytes);
  return request_bytes > 0;
}

std::string TooLarge(size_t limit) { return "the answer is larger than " + std::to_string(limit) + " bytes"; }

// Whether the answer being received goes to the request's response_file: a 2xx one does.
bool WritesToFile(const HttpClient::Transfer& transfer) {
  if (!transfer.download.is_open()) return false;
  long status = 0;
  curl_easy_getinfo(transfer.easy.get(), CURLINFO_RESPONSE_CODE, &status);
  return status >= 200 && status < 300;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<HttpClient::Transfer*>(user);
  size_t bytes = size * count;
  if (transfer->body.size() + transfer->downloaded + bytes > transfer->request->max_body_bytes) {
    transfer->too_large = true;
    transfer->refusal = TooLarge(transfer->request->max_body_bytes);
    return 0;  // aborts the transfer
  }
  if (!WritesToFile(*transfer)) {
    transfer->body.append(data, bytes);
    return bytes;
  }
  for (size_t written = 0; written < bytes;) {
    const ssize_t put = ::write(transfer->download.get(), data + written, bytes - written);
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) {
      transfer->refusal = FileProblem("write", transfer->request->response_file, errno);
      return 0;
    }
    written += static_cast<size_t>(put);
  }
  transfer->downloaded += bytes;
  return bytes;
}

// Hands libcurl the next bytes of the request's body_file range.
size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<HttpClient::Transfer*>(user);
  const HttpRequest& request = *transfer->request;
  const size_t wanted =
      static_cast<size_t>(std::min<uint64_t>(size * count, request.body_file_length - transfer->uploaded));
  if (wanted == 0) return 0;
  for (;;) {
    const ssize_t got = ::pread(transfer->upload.get(), buffer, wanted,
                                static_cast<off_t>(request.body_file_offset + transfer->uploaded));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      transfer->refusal = FileProblem("read", request.body_file, errno);
      return CURL_READFUNC_ABORT;
    }
    if (got == 0) {
      transfer->refusal = request.body_file.string() + " ended before byte " +
                          std::to_string(request.body_file_offset + request.body_file_length) +
                          " of the request's body; was it changed while it was sent?";
      return CURL_READFUNC_ABORT;
    }
    transfer->uploaded += static_cast<uint64_t>(got);
    return static_cast<size_t>(got);
  }
}

// Opens the files of `transfer`'s request for an attempt; "" or why one cannot be.
std::string OpenFiles(HttpClient::Transfer& transfer) {
  const HttpRequest& request = *transfer.request;
  transfer.uploaded = 0;
  transfer.downloaded = 0;
  transfer.upload = FileDescriptor();
  transfer.download = FileDescriptor();
  if (!request.body_file.empty()) {
    transfer.upload = FileDescriptor(::open(request.body_file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!transfer.upload.is_open()) return FileProblem("open", request.body_file, errno);
  }
  if (!request.response_file.empty()) {
    transfer.download = FileDescriptor(
        ::open(request.response_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644));
    if (!transfer.download.is_open()) return FileProblem("create", request.response_file, errno);
  }
  return "";
}

// Returning less than the line's size aborts the transfer.
size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<HttpClient::Transfer*>(user);
  if (!transfer->answer.Take(std::string_view(data, size * count))) {
    transfer->refusal =
        "the answer's headers are larger than " + std::to_string(ResponseHeaders::kMaxHeaderBytes / 1024) + " KiB";
    return 0;
  }
  const std::optional<uint64_t> announced = transfer->answer.content_length();
  if (announced && *announced > transfer->request->max_body_bytes) {
    transfer->too_large = true;
    transfer->refusal =
        TooLarge(transfer->request->max_body_bytes) + " (Content-Length " + std::to_string(*announced) + ")";
    return 0;
  }
  return size * count;
}

}  // namespace

void HttpClient::Start(Transfer& transfer) {
  transfer.body.clear();
  transfer.answer.Clear();
  transfer.too_large = false;
  transfer.refusal.clear();
  transfer.error_buffer[0] = '\0';
  // A redirect's next hop gets what is left of its attempt's time, so that HTTP_TIMEOUT bounds an
  // attempt however many hops it takes.
  const auto now = SteadyClock::now();
  if (!transfer.redirected) {
    transfer.attempt_deadline = now + std::chrono::milliseconds(Milliseconds(settings_.request_timeout));
    // Nor beyond the time the whole Perform was given.
    if (transfer.give_up_at) transfer.attempt_deadline = std::min(transfer.attempt_deadline, *transfer.give_up_at);
  }
  transfer.redirected = false;
  const long remaining_ms =
      std::max<long>(1, std::chrono::ceil<std::chrono::milliseconds>(transfer.attempt_deadline - now).count());

  std::string refusal = UrlPolicyProblem(transfer.url, /*allow_file=*/false);
  if (!refusal.empty()) {
    transfer.response->error = "refused to contact " + transfer.url + ": " + refusal;
    transfer.easy.reset();
    return;
  }
  if (std::string problem = OpenFiles(transfer); !problem.empty()) {
    transfer.response->error = problem;
    transfer.easy.reset();
    return;
  }

  transfer.easy.reset(curl_easy_init());
  CURL* easy = transfer.easy.get();
  curl_easy_setopt(easy, CURLOPT_URL, transfer.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PRIVATE, reinterpret_cast<char*>(static_cast<uintptr_t>(transfer.index)));
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);  // followed by hand, see FollowRedirect
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, std::min(Milliseconds(settings_.connect_timeout), remaining_ms));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, remaining_ms);
  if (!settings_.ca_bundle.empty()) curl_easy_setopt(easy, CURLOPT_CAINFO, settings_.ca_bundle.c_str());
  curl_easy_setopt(easy, CURLOPT_USERAGENT, "orchestrator/" ORCH_VERSION);
  curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer.error_buffer);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &transfer);

  const HttpRequest& request = *transfer.request;
  curl_slist* headers = nullptr;
  if (!HasHeader(request.headers, "accept")) headers = curl_slist_append(headers, "Accept: application/json");
  if (!transfer.request->if_none_match.empty())
    headers = curl_slist_append(headers, ("If-None-Match: " + transfer.request->if_none_match).c_str());
  if (!token_.empty() && UrlOrigin(transfer.url) == token_origin_)
    headers = curl_slist_append(headers, ("Authorization: Bearer " + token_).c_str());
  if (!transfer.request->content_type.empty()) {
    headers = curl_slist_append(headers, ("Content-Type: " + transfer.request->content_type).c_str());
  } else if (transfer.method == "POST" || transfer.method == "PUT") {
    // Bytes without a type (an upload to storage), not libcurl's default form type.
    headers = curl_slist_append(headers, "Content-Type:");
  }
  for (const std::string& header : transfer.request->headers) headers = curl_slist_append(headers, header.c_str());
  // A body read from a file is sent at once, not after waiting for a 100 Continue.
  if (!request.body_file.empty()) headers = curl_slist_append(headers, "Expect:");
  transfer.headers.reset(headers);
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);

  // libcurl silently sends a request again when a connection it reused closes without an answer
  // (say a keep-alive connection the server dropped, or a server that died after acting on it). A
  // request that must not be sent twice goes on a fresh connection, where libcurl does not.
  if (transfer.method == "POST" && !transfer.request->repeatable) curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
  if (transfer.method == "POST" || transfer.method == "PUT") {
    curl_easy_setopt(easy, CURLOPT_POST, 1L);
    if (!request.body_file.empty()) {
      // Without POSTFIELDS, libcurl reads the body through OnRead.
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body_file_length));
      curl_easy_setopt(easy, CURLOPT_READFUNCTION, OnRead);
      curl_easy_setopt(easy, CURLOPT_READDATA, &transfer);
    } else {
      // The body is sent from the request, which outlives the transfer.
      curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.c_str());
    }
    if (transfer.method == "PUT") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, "PUT");
  }
  ++transfer.response->attempts;
  ++requests_sent_;
  curl_multi_add_handle(multi_->get(), easy);
}

void HttpClient::Finish(Transfer& transfer, int curl_code) {
  HttpResponse& response = *transfer.response;
  response.final_url = transfer.url;
  if (curl_code != CURLE_OK) {
    if (!transfer.refusal.empty()) {  // the same answer would come again: not retried
      response.body_too_large = transfer.too_large;
      response.error = transfer.refusal;
      if (RequestWasSent(transfer.easy.get())) response.may_have_arrived = true;
      transfer.easy.reset();
      return;
    }
    std::string reason =
        transfer.error_buffer[0] ? transfer.error_buffer : curl_easy_strerror(static_cast<CURLcode>(curl_code));
    // An attempt cut short by the budget rather than by HTTP_TIMEOUT says so, whichever came first.
    if (curl_code == CURLE_OPERATION_TIMEDOUT && transfer.give_up_at &&
        transfer.attempt_deadline >= *transfer.give_up_at)
      reason = transfer.out_of_budget;
    if (RequestWasSent(transfer.easy.get())) response.may_have_arrived = true;
    if (MayResend(transfer) && ScheduleRetry(transfer, reason, std::chrono::milliseconds(0))) return;
    response.error = reason;
    transfer.easy.reset();
    return;
  }
  long status = 0;
  curl_easy_getinfo(transfer.easy.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status >= 300 && status < 400 && status != 304 && !transfer.answer.location().empty()) {
    if (FollowRedirect(transfer)) return;
    transfer.easy.reset();
    return;
  }
  if (status == 502 || status == 504) response.may_have_arrived = true;  // the gateway lost the upstream's answer
  if (IsRetryableStatus(static_cast<int>(status)) && MayResend(transfer)) {
    auto floor = ParseRetryAfter(transfer.answer.retry_after(), static_cast<long long>(time(nullptr)))
                     .value_or(std::chrono::milliseconds(0));
    if (status == 429) {
      const auto& kept = transfer.answer.kept();
      if (const auto limit = kept.find("ratelimit"); limit != kept.end())
        floor = std::max(floor, ParseRateLimit(limit->second).value_or(std::chrono::milliseconds(0)));
    }
    if (ScheduleRetry(transfer, "HTTP " + std::to_string(status), floor)) return;
  }
  response.status = static_cast<int>(status);
  response.body = std::move(transfer.body);
  response.etag = transfer.answer.etag();
  response.headers = transfer.answer.kept();
  response.error.clear();
  transfer.easy.reset();
}

void HttpClient::Abandon(std::vector<Transfer>& transfers, const std::string& why) {
  for (Transfer& transfer : transfers) {
    if (transfer.easy) {
      if (RequestWasSent(transfer.easy.get())) transfer.response->may_have_arrived = true;
      curl_multi_remove_handle(multi_->get(), transfer.easy.get());
    }
    bool answered = transfer.response->status != 0 || !transfer.response->error.empty();
    if (!answered) transfer.response->error = why;
    transfer.easy.reset();
  }
}

bool HttpClient::MayResend(const Transfer& transfer) const {
  return !transfer.response->may_have_arrived || transfer.method != "POST" || transfer.request->repeatable;
}

bool HttpClient::ScheduleRetry(Transfer& transfer, const std::string& reason, std::chrono::milliseconds floor) {
  if (transfer.retries >= settings_.max_retries) return false;
  ++transfer.retries;
  auto cap = std::chrono::milliseconds(Milliseconds(settings_.retry_max));
  auto wait =
      std::min(std::max(Backoff(transfer.retries, settings_.retry_base, settings_.retry_max, random_), floor), cap);
  const SteadyClock::time_point ready_at = SteadyClock::now() + wait;
  if (transfer.give_up_at && ready_at >= *transfer.give_up_at) return false;  // no time left for it
  if (on_retry_) on_retry_({transfer.method, transfer.url, transfer.response->attempts, reason, wait});
  transfer.ready_at = ready_at;
  return true;
}

bool HttpClient::FollowRedirect(Transfer& transfer) {
  HttpResponse& response = *transfer.response;
  if (++transfer.hops > kMaxRedirects) {
    response.error = "more than " + std::to_string(kMaxRedirects) + " redirects";
    return false;
  }
  const std::string& location = transfer.answer.location();
  if (transfer.method != "GET") {
    response.error = "the server redirected a " + transfer.method + " to " + Printable(location) + "; not followed";
    return false;
  }
  std::string next = ResolveUrl(transfer.url, location);
  if (next.empty()) {
    response.error = "unreadable redirect location '" + Printable(location) + "'";
    return false;
  }
  transfer.url = next;
  transfer.redirected = true;
  transfer.ready_at = SteadyClock::now();
  return true;
}

}  // namespace orch
