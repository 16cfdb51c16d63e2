#include "support/fake_hub.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <stdexcept>

#include "support/drop_connection.h"
#include "support/wait_for_change.h"

namespace orch::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Enough workers that idle keep-alive connections (each holds one) never starve a client's pool.
constexpr size_t kWorkerThreads = 32;
constexpr auto kStartDeadline = std::chrono::seconds(5);
constexpr size_t kSlowBodyPieces = 16;
constexpr size_t kOversizedPiece = 64 * 1024;
constexpr char kJson[] = "application/json";
// Fresh tags look like the prepare worker's ("v" + UTC timestamp), made unique by a counter.
constexpr char kFreshTagPrefix[] = "v20251030_115250_";

const char* ErrorMessageFor(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Invalid credentials in Authorization header";
    case 403: return "Forbidden";
    case 404: return "Repository not found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Error";
  }
}

// The Hub's error shape: a JSON body plus X-Error-Message (and X-Error-Code for some errors).
void SetError(httplib::Response& response, int status, const std::string& message, const std::string& error_code = "") {
  response.status = status;
  response.set_header("X-Error-Message", message);
  if (!error_code.empty()) response.set_header("X-Error-Code", error_code);
  response.set_content(nlohmann::json{{"error", message}}.dump(), kJson);
}

std::string StrongEtag(const std::string& body) {
  uint64_t hash = 14695981039346656037ULL;  // FNV-1a, 64 bit
  for (unsigned char c : body) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  char text[24];
  std::snprintf(text, sizeof text, "\"%016llx\"", static_cast<unsigned long long>(hash));
  return text;
}

// If-None-Match is a list of entity tags, possibly weak (W/"..."), or "*"; comparison is weak.
bool EtagListMatches(std::string_view header, const std::string& etag) {
  size_t start = 0;
  while (start < header.size()) {
    size_t end = header.find(',', start);
    if (end == std::string_view::npos) end = header.size();
    std::string_view item = header.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == "*" || item == etag) return true;
    start = end + 1;
  }
  return false;
}

// "owner/name" when `text` is exactly that: two non-empty names around one slash.
bool IsRepoId(std::string_view text) {
  size_t slash = text.find('/');
  return slash != std::string_view::npos && slash > 0 && slash + 1 < text.size() &&
         text.find('/', slash + 1) == std::string_view::npos;
}

// The dataset of /datasets/{owner}/{name}/resolve/main/dataset_metadata.json, or "".
std::string MetadataRepoOf(std::string_view path) {
  constexpr std::string_view kPrefix = "/datasets/", kSuffix = "/resolve/main/dataset_metadata.json";
  if (!path.starts_with(kPrefix) || !path.ends_with(kSuffix)) return "";
  if (path.size() < kPrefix.size() + kSuffix.size()) return "";
  std::string_view repo = path.substr(kPrefix.size(), path.size() - kPrefix.size() - kSuffix.size());
  return IsRepoId(repo) ? std::string(repo) : "";
}

// The Space and the action of /api/spaces/{owner}/{name}/{action}.
std::optional<std::pair<std::string, std::string>> SpaceActionOf(std::string_view path) {
  constexpr std::string_view kPrefix = "/api/spaces/";
  if (!path.starts_with(kPrefix)) return std::nullopt;
  std::string_view rest = path.substr(kPrefix.size());
  size_t last_slash = rest.rfind('/');
  if (last_slash == std::string_view::npos) return std::nullopt;
  std::string_view space = rest.substr(0, last_slash), action = rest.substr(last_slash + 1);
  if (!IsRepoId(space) || action.empty()) return std::nullopt;
  return std::make_pair(std::string(space), std::string(action));
}

std::string QueryOf(const std::string& target) {
  size_t question = target.find('?');
  return question == std::string::npos ? "" : target.substr(question + 1);
}

nlohmann::json RuntimeJson(const std::string& stage) {
  nlohmann::json current = nullptr;
  if (stage.starts_with("RUNNING")) current = "cpu-basic";
  return {{"stage", stage},
          {"hardware", {{"current", current}, {"requested", "cpu-basic"}}},
          {"storage", nullptr},
          {"gcTimeout", 172800},
          {"replicas", {{"current", 1}, {"requested", 1}}}};
}

std::string UtcNowIso() {
  auto now = std::chrono::system_clock::now();
  std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06lld+00:00", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<long long>(micros));
  return text;
}

// A well-formed metadata document padded to kOversizedBytes, sent chunked so that no Content-Length
// warns the client: only counting what arrives protects it.
void SendOversized(httplib::Response& response) {
  std::string head = R"({"dataset_name":"owner/oversized","version_tag":"v_oversized","num_samples":1,"padding":")";
  std::string tail = "\"}";
  auto body = std::make_shared<const std::string>(
      head + std::string(FakeHub::kOversizedBytes - head.size() - tail.size(), 'x') + tail);
  response.set_chunked_content_provider(kJson, [body](size_t offset, httplib::DataSink& sink) {
    size_t size = std::min(kOversizedPiece, body->size() - offset);
    if (!sink.write(body->data() + offset, size)) return false;
    if (offset + size == body->size()) sink.done();
    return true;
  });
}

// Whether a fault lets its request through to the route before doing its harm.
bool CarriesOut(FakeHub::Fault::Kind kind) {
  using Kind = FakeHub::Fault::Kind;
  return kind == Kind::kSlowBody || kind == Kind::kCarryOutThenClose || kind == Kind::kCarryOutThenStatus;
}

}  // namespace

FakeHub::FakeHub(std::string host)
    : host_(std::move(host)), scheme_("http"), server_(std::make_unique<httplib::Server>()) {
  Start();
}

FakeHub::FakeHub(std::string host, const TestTls& tls)
    : host_(std::move(host)),
      scheme_("https"),
      server_(std::make_unique<httplib::SSLServer>(tls.cert_file.c_str(), tls.key_file.c_str())),
      repos_(host_, tls) {
  if (!server_->is_valid()) throw std::runtime_error("FakeHub cannot use the certificate " + tls.cert_file);
  Start();
}

void FakeHub::Start() {
  // httplib takes ownership of the queue it is given.
  server_->new_task_queue = [] { return std::make_unique<httplib::ThreadPool>(kWorkerThreads).release(); };
  auto handler = [this](const httplib::Request& request, httplib::Response& response) { Handle(request, response); };
  server_->Get(".*", handler).Post(".*", handler).Put(".*", handler).Patch(".*", handler).Delete(".*", handler);
  // httplib's own options set SO_REUSEPORT, with which two fakes binding port 0 may share a port;
  // SO_REUSEADDR alone cannot.
  int listening_socket = -1;
  server_->set_socket_options([&listening_socket](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    // Answers go out as headers and body in separate writes: without TCP_NODELAY (inherited by
    // accepted sockets) each would wait for the client's delayed ACK, 40 ms on loopback.
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    listening_socket = sock;
  });
  port_ = server_->bind_to_any_port(host_);
  if (port_ <= 0) throw std::runtime_error("FakeHub cannot bind to " + host_);
  // httplib listens with a backlog of 5; a burst of concurrent clients would overflow it and wait
  // a second for SYN retransmission. Listening again only enlarges the queue.
  listen(listening_socket, SOMAXCONN);
  publication_timer_ = std::thread([this] { RunPublicationTimer(); });
  server_thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() only works once the accept loop runs; the socket already queues connections before that.
  auto deadline = steady_clock::now() + kStartDeadline;
  while (!server_->is_running() && steady_clock::now() < deadline) std::this_thread::yield();
  if (!server_->is_running()) {
    Stop();
    throw std::runtime_error("FakeHub did not start on " + host_);
  }
}

FakeHub::~FakeHub() { Stop(); }

void FakeHub::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    NotifyChanged();  // wakes the publication timer and any slow answer in progress
  }
  publication_timer_.join();
  server_->stop();
  server_thread_.join();
}

std::string FakeHub::endpoint() const { return scheme_ + "://" + host_ + ":" + std::to_string(port_); }

std::string FakeHub::MetadataUrl(const std::string& dataset_repo) const {
  return endpoint() + "/datasets/" + dataset_repo + "/resolve/main/dataset_metadata.json";
}

void FakeHub::SetToken(std::string token) {
  std::lock_guard lock(mutex_);
  token_ = std::move(token);
}

void FakeHub::AllowAnonymous(const std::string& dataset_repo) {
  std::lock_guard lock(mutex_);
  datasets_[dataset_repo].anonymous = true;
}

void FakeHub::AddSpace(const std::string& space, const std::string& stage) {
  std::lock_guard lock(mutex_);
  spaces_[space].stage = stage;
}

void FakeHub::SetSpaceStage(const std::string& space, const std::string& stage) {
  std::lock_guard lock(mutex_);
  SpaceState& state = spaces_[space];
  state.stage = stage;
  state.reads_since_restart = state.stages_after_restart.size();  // ends any scripted walk
  NotifyChanged();
}

std::string FakeHub::SpaceStage(const std::string& space) const {
  std::lock_guard lock(mutex_);
  auto found = spaces_.find(space);
  return found == spaces_.end() ? "" : found->second.stage;
}

void FakeHub::SetStageAfterRestart(const std::string& space, std::vector<std::string> stages) {
  std::lock_guard lock(mutex_);
  SpaceState& state = spaces_[space];
  state.stages_after_restart = std::move(stages);
  state.reads_since_restart = state.stages_after_restart.size();
}

void FakeHub::TrainsOn(const std::string& space, const std::string& dataset_repo) {
  std::lock_guard lock(mutex_);
  spaces_[space].trains_on = dataset_repo;
}

void FakeHub::PublishMetadata(const std::string& dataset_repo, const nlohmann::json& metadata) {
  SetRawMetadata(dataset_repo, metadata.dump(2));
}

void FakeHub::SetRawMetadata(const std::string& dataset_repo, std::string body) {
  std::lock_guard lock(mutex_);
  SetBody(dataset_repo, std::move(body));
}

std::string FakeHub::VersionTag(const std::string& dataset_repo) const {
  std::lock_guard lock(mutex_);
  return VersionTagLocked(dataset_repo);
}

std::vector<std::string> FakeHub::VersionsPublished(const std::string& dataset_repo) const {
  std::lock_guard lock(mutex_);
  auto found = datasets_.find(dataset_repo);
  return found == datasets_.end() ? std::vector<std::string>{} : found->second.versions;
}

std::string FakeHub::VersionTagLocked(const std::string& dataset_repo) const {
  auto found = datasets_.find(dataset_repo);
  if (found == datasets_.end() || !found->second.published) return "";
  auto document = nlohmann::json::parse(found->second.body, nullptr, /*allow_exceptions=*/false);
  if (!document.is_object() || !document.contains("version_tag") || !document["version_tag"].is_string()) return "";
  return document["version_tag"].get<std::string>();
}

nlohmann::json FakeHub::Metadata(const std::string& version_tag, int64_t num_samples, const std::string& label_column,
                                 const std::string& dataset_name) {
  int64_t eval = num_samples / 10;
  int64_t test = num_samples / 10;
  std::string stamp = version_tag.starts_with("v") ? version_tag.substr(1) : version_tag;
  std::string update = label_column.empty() ? "Dataset update" : "Dataset update (" + label_column + ")";
  return {{"dataset_name", dataset_name},
          {"version_tag", version_tag},
          {"label_column", label_column},
          {"num_samples", num_samples},
          {"splits", {{"train", num_samples - eval - test}, {"eval", eval}, {"test", test}}},
          {"created_at", UtcNowIso()},
          {"commit_message", update + " - " + stamp}};
}

void FakeHub::OnRestart(const std::string& prepare_space, std::vector<Publication> publications) {
  std::lock_guard lock(mutex_);
  SpaceState& state = spaces_[prepare_space];
  state.script = std::move(publications);
  state.script_source = nullptr;
}

void FakeHub::OnRestart(const std::string& prepare_space, std::function<std::vector<Publication>()> script) {
  std::lock_guard lock(mutex_);
  spaces_[prepare_space].script_source = std::move(script);
}

void FakeHub::StartPublications(const std::string& worker, std::vector<Publication> publications) {
  std::lock_guard lock(mutex_);
  ArmPublications(worker, publications, steady_clock::now());
}

bool FakeHub::PublicationsPending(const std::string& worker) const {
  std::lock_guard lock(mutex_);
  return std::any_of(pending_.begin(), pending_.end(),
                     [&](const PendingPublication& pending) { return pending.space == worker; });
}

void FakeHub::InjectFault(const std::string& path_substring, Fault fault, int after) {
  std::lock_guard lock(mutex_);
  int times = fault.times;
  faults_.push_back({path_substring, std::move(fault), times, after});
}

void FakeHub::ClearFaults() {
  std::lock_guard lock(mutex_);
  faults_.clear();
}

void FakeHub::SetRedirect(const std::string& path_substring, const std::string& location) {
  std::lock_guard lock(mutex_);
  redirects_.emplace_back(path_substring, location);
}

std::string FakeHub::RefusedEndpoint() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), size) == 0 &&
            getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0;
  close(fd);  // bound but never listening: connecting to it is refused
  if (!ok) throw std::runtime_error("cannot reserve a loopback port");
  return "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port));
}

std::vector<FakeHub::RecordedCall> FakeHub::Calls() const {
  std::lock_guard lock(mutex_);
  return calls_;
}

int FakeHub::Count(std::string_view method, std::string_view path_substring) const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(std::count_if(calls_.begin(), calls_.end(), [&](const RecordedCall& call) {
    return call.method == method && call.path.find(path_substring) != std::string::npos;
  }));
}

int FakeHub::CarriedOut(std::string_view method, std::string_view path) const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(std::count_if(calls_.begin(), calls_.end(), [&](const RecordedCall& call) {
    return call.method == method && call.path == path && call.carried_out;
  }));
}

void FakeHub::ClearCalls() {
  std::lock_guard lock(mutex_);
  calls_.clear();
}

bool FakeHub::WaitFor(const std::function<bool()>& predicate, milliseconds timeout) {
  return WaitForChange(mutex_, changed_, generation_, predicate, timeout);
}

void FakeHub::Handle(const httplib::Request& request, httplib::Response& response) {
  std::unique_lock lock(mutex_);
  PublishDueByTime(steady_clock::now());
  RecordedCall call{request.method,
                    request.path,
                    QueryOf(request.target),
                    request.get_header_value("Host"),
                    request.get_header_value("Authorization"),
                    request.get_header_value("If-None-Match"),
                    request.body,
                    steady_clock::now(),
                    0,
                    false,
                    ""};
  std::optional<Fault> fault = TakeFault(request.method, request.path);
  std::optional<std::string> redirect = RedirectFor(request.path);
  bool answered = true;
  if (fault && !CarriesOut(fault->kind)) {
    answered = ApplyFault(*fault, request, response);
  } else if (redirect) {
    response.set_redirect(*redirect, 302);
    if (fault && fault->kind != Fault::Kind::kSlowBody) answered = LoseAnswer(*fault, request, response);
  } else {
    DecideScript(request, lock);
    Route(request, response);
    // httplib turns a status left at -1 into 200 once the handler returns.
    const int routed = response.status == -1 ? 200 : response.status;
    call.carried_out = (routed >= 200 && routed < 300) || routed == 304;
    if (call.carried_out) call.trained_version = TrainedVersion(request);
    if (fault) answered = LoseAnswer(*fault, request, response);
  }
  if (answered) call.status = response.status == -1 ? 200 : response.status;
  response.set_header("X-Request-Id", "fake-" + std::to_string(calls_.size() + 1));
  calls_.push_back(std::move(call));
  NotifyChanged();
}

void FakeHub::DecideScript(const httplib::Request& request, std::unique_lock<std::mutex>& lock) {
  auto space_action = SpaceActionOf(request.path);
  if (!space_action || space_action->second != "restart" || request.method != "POST") return;
  auto found = spaces_.find(space_action->first);
  if (found == spaces_.end() || !found->second.script_source || !Authorized(request, "")) return;
  const std::function<std::vector<Publication>()> source = found->second.script_source;
  lock.unlock();
  std::vector<Publication> script = source();
  lock.lock();
  spaces_[space_action->first].script = std::move(script);
}

void FakeHub::Route(const httplib::Request& request, httplib::Response& response) {
  std::string dataset = MetadataRepoOf(request.path);
  if (!Authorized(request, dataset)) return SetError(response, 401, ErrorMessageFor(401));
  if (repos_.Route(request, response, /*metadata_may_answer=*/!dataset.empty())) return;
  if (jobs_.Route(request, response)) return;
  bool read = request.method == "GET" || request.method == "HEAD";
  if (!dataset.empty() && read) return ServeMetadata(dataset, request, response);
  if (read && request.path == "/api/whoami-v2") {
    nlohmann::json whoami = {{"name", "tester"}, {"type", "user"}, {"auth", {{"accessToken", {{"role", "write"}}}}}};
    return response.set_content(whoami.dump(), kJson);
  }
  if (auto space_action = SpaceActionOf(request.path)) {
    const auto& [space, action] = *space_action;
    if (action == "restart" && request.method == "POST") return ServeRestart(space, response);
    if (action == "pause" && request.method == "POST") return ServePause(space, response);
    if (action == "runtime" && read) return ServeRuntime(space, response);
  }
  SetError(response, 404, "Not Found");
}

bool FakeHub::Authorized(const httplib::Request& request, const std::string& anonymous_dataset) const {
  if (!request.has_header("Authorization")) {
    auto found = datasets_.find(anonymous_dataset);
    return found != datasets_.end() && found->second.anonymous;
  }
  return request.get_header_value("Authorization") == "Bearer " + token_;
}

void FakeHub::ServeRestart(const std::string& space, httplib::Response& response) {
  auto found = spaces_.find(space);
  if (found == spaces_.end()) return SetError(response, 404, "Repository not found", "RepoNotFound");
  SpaceState& state = found->second;
  state.stage = state.stages_after_restart.empty() ? "BUILDING" : state.stages_after_restart.front();
  state.reads_since_restart = 0;
  ArmPublications(space, state.script, steady_clock::now());
  response.set_content(RuntimeJson(state.stage).dump(), kJson);
}

std::string FakeHub::TrainedVersion(const httplib::Request& request) const {
  auto space_action = SpaceActionOf(request.path);
  if (!space_action || space_action->second != "restart" || request.method != "POST") return "";
  auto found = spaces_.find(space_action->first);
  return found == spaces_.end() || found->second.trains_on.empty() ? "" : VersionTagLocked(found->second.trains_on);
}

void FakeHub::ServePause(const std::string& space, httplib::Response& response) {
  auto found = spaces_.find(space);
  if (found == spaces_.end()) return SetError(response, 404, "Repository not found", "RepoNotFound");
  found->second.stage = "PAUSED";
  found->second.reads_since_restart = found->second.stages_after_restart.size();
  // A paused worker publishes nothing more.
  std::erase_if(pending_, [&](const PendingPublication& pending) { return pending.space == space; });
  response.set_content(RuntimeJson("PAUSED").dump(), kJson);
}

void FakeHub::ServeRuntime(const std::string& space, httplib::Response& response) {
  auto found = spaces_.find(space);
  if (found == spaces_.end()) return SetError(response, 404, "Repository not found", "RepoNotFound");
  SpaceState& state = found->second;
  const auto& walk = state.stages_after_restart;
  if (state.reads_since_restart < walk.size()) state.stage = walk[state.reads_since_restart++];
  response.set_content(RuntimeJson(state.stage).dump(), kJson);
}

void FakeHub::ServeMetadata(const std::string& dataset, const httplib::Request& request, httplib::Response& response) {
  PublishDueByPolls(dataset);
  auto found = datasets_.find(dataset);
  if (found == datasets_.end() || !found->second.published) {
    return SetError(response, 404, "Entry not found", "EntryNotFound");
  }
  const DatasetState& state = found->second;
  response.set_header("ETag", state.etag);
  if (request.has_header("If-None-Match") && EtagListMatches(request.get_header_value("If-None-Match"), state.etag)) {
    response.status = 304;
    return;
  }
  response.set_content(state.body, kJson);
}

std::optional<FakeHub::Fault> FakeHub::TakeFault(const std::string& method, const std::string& path) {
  for (auto entry = faults_.begin(); entry != faults_.end(); ++entry) {
    if (path.find(entry->path_substring) == std::string::npos) continue;
    if (!entry->fault.method.empty() && entry->fault.method != method) continue;
    if (entry->let_through > 0) {
      --entry->let_through;
      continue;
    }
    Fault fault = entry->fault;
    if (--entry->remaining <= 0) faults_.erase(entry);
    return fault;
  }
  return std::nullopt;
}

std::optional<std::string> FakeHub::RedirectFor(const std::string& path) const {
  for (const auto& [substring, location] : redirects_) {
    if (path.find(substring) != std::string::npos) return location;
  }
  return std::nullopt;
}

bool FakeHub::ApplyFault(const Fault& fault, const httplib::Request& request, httplib::Response& response) {
  switch (fault.kind) {
    case Fault::Kind::kStatus: SetError(response, fault.status, ErrorMessageFor(fault.status)); break;
    case Fault::Kind::kRetryAfter:
      SetError(response, 429, ErrorMessageFor(429));
      response.set_header("Retry-After", std::to_string(fault.retry_after_seconds));
      // As the Hub sends them (IETF draft-09): no request left in the window, which resets then.
      response.set_header("RateLimit", "\"api\";r=0;t=" + std::to_string(fault.retry_after_seconds));
      response.set_header("RateLimit-Policy", "\"fixed window\";\"api\";q=1000;w=300");
      break;
    case Fault::Kind::kRateLimited:
      SetError(response, 429, ErrorMessageFor(429));
      response.set_header("RateLimit", "\"api\";r=0;t=" + std::to_string(fault.retry_after_seconds));
      response.set_header("RateLimit-Policy", "\"fixed window\";\"api\";q=500;w=300");
      break;
    case Fault::Kind::kMalformedJson: response.set_content("{not json", kJson); break;
    case Fault::Kind::kOversized: SendOversized(response); break;
    case Fault::Kind::kCloseConnection: return !DropConnection(request, response);
    case Fault::Kind::kRedirect: response.set_redirect(fault.location, 302); break;
    case Fault::Kind::kSlowBody:
    case Fault::Kind::kCarryOutThenClose:
    case Fault::Kind::kCarryOutThenStatus: break;  // applied to the real answer by LoseAnswer()
  }
  return true;
}

bool FakeHub::LoseAnswer(const Fault& fault, const httplib::Request& request, httplib::Response& response) {
  switch (fault.kind) {
    case Fault::Kind::kSlowBody: SendSlowly(response, fault.delay); break;
    case Fault::Kind::kCarryOutThenClose: return !DropConnection(request, response);
    case Fault::Kind::kCarryOutThenStatus:
      response.headers.clear();
      response.body.clear();
      SetError(response, fault.status, ErrorMessageFor(fault.status));
      break;
    default: break;  // the others replace the handling: see ApplyFault()
  }
  return true;
}

void FakeHub::SendSlowly(httplib::Response& response, milliseconds delay) {
  if (response.body.empty()) return;
  auto body = std::make_shared<const std::string>(std::move(response.body));
  response.body.clear();
  std::string content_type = response.get_header_value("Content-Type");
  response.headers.erase("Content-Type");
  size_t piece = (body->size() + kSlowBodyPieces - 1) / kSlowBodyPieces;
  auto interval = delay / static_cast<int>(kSlowBodyPieces);
  response.set_chunked_content_provider(content_type,
                                        [this, body, piece, interval](size_t offset, httplib::DataSink& sink) {
                                          {
                                            // Interruptible pause, so destroying the fake does not wait out a slow
                                            // answer.
                                            std::unique_lock lock(mutex_);
                                            changed_.wait_for(lock, interval, [this] { return stopping_; });
                                            if (stopping_) return false;
                                          }
                                          size_t size = std::min(piece, body->size() - offset);
                                          if (!sink.write(body->data() + offset, size)) return false;
                                          if (offset + size == body->size()) sink.done();
                                          return true;
                                        });
}

void FakeHub::ArmPublications(const std::string& worker, const std::vector<Publication>& script, TimePoint started_at) {
  std::erase_if(pending_, [&](const PendingPublication& pending) { return pending.space == worker; });
  for (const Publication& publication : script) {
    if (publication.never) continue;
    PendingPublication pending{worker, publication, publication.after_polls, std::nullopt};
    if (publication.after_delay) pending.due = started_at + *publication.after_delay;
    bool immediate = pending.due ? *pending.due <= started_at : pending.polls_left <= 0;
    if (immediate) {
      Publish(publication);
    } else {
      pending_.push_back(std::move(pending));
    }
  }
  NotifyChanged();  // the publication timer may have a new deadline
}

void FakeHub::PublishDueByPolls(const std::string& dataset) {
  for (auto pending = pending_.begin(); pending != pending_.end();) {
    if (pending->due || pending->publication.dataset_repo != dataset) {
      ++pending;
    } else if (pending->polls_left > 0) {
      --pending->polls_left;  // this poll still sees the previous content
      ++pending;
    } else {
      Publish(pending->publication);
      pending = pending_.erase(pending);
    }
  }
}

void FakeHub::PublishDueByTime(TimePoint now) {
  for (auto pending = pending_.begin(); pending != pending_.end();) {
    if (pending->due && *pending->due <= now) {
      Publish(pending->publication);
      pending = pending_.erase(pending);
    } else {
      ++pending;
    }
  }
}

void FakeHub::Publish(const Publication& publication) {
  std::string tag = publication.version_tag;
  if (tag.empty()) tag = kFreshTagPrefix + std::to_string(next_tag_number_++);
  SetBody(publication.dataset_repo, Metadata(tag, publication.num_samples, "", publication.dataset_repo).dump(2));
}

void FakeHub::SetBody(const std::string& dataset, std::string body) {
  DatasetState& state = datasets_[dataset];
  state.etag = StrongEtag(body);
  state.body = std::move(body);
  state.published = true;
  std::string tag = VersionTagLocked(dataset);
  if (!tag.empty()) state.versions.push_back(std::move(tag));
  NotifyChanged();
}

void FakeHub::RunPublicationTimer() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    PublishDueByTime(steady_clock::now());
    std::optional<TimePoint> next;
    for (const PendingPublication& pending : pending_) {
      if (pending.due && (!next || *pending.due < *next)) next = pending.due;
    }
    if (next) {
      changed_.wait_until(lock, *next);
    } else {
      changed_.wait(lock);
    }
  }
}

void FakeHub::JobsChanged() {
  std::lock_guard lock(mutex_);
  NotifyChanged();
}

void FakeHub::NotifyChanged() {
  ++generation_;
  changed_.notify_all();
}

}  // namespace orch::testing
