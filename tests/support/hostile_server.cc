#include "support/hostile_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "util/strings.h"

namespace orch::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr size_t kMaxRequestHead = 64 << 10;
constexpr size_t kReadChunk = 16 << 10;

[[noreturn]] void ThrowErrno(const std::string& what) { throw std::system_error(errno, std::generic_category(), what); }

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 302: return "Found";
    case 404: return "Not Found";
    default: return "Status";
  }
}

std::string Head(int status, const std::vector<std::string>& headers) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) + "\r\n";
  for (const std::string& header : headers) head += header + "\r\n";
  return head + "\r\n";
}

std::string JsonAnswer(int status, const std::string& body) {
  return Head(status, {"Content-Type: application/json", "Content-Length: " + std::to_string(body.size())}) + body;
}

}  // namespace

// One accepted connection: reads requests and writes answers, every wait cut short when the server
// stops or the client goes.
class HostileServer::Connection {
 public:
  Connection(FileDescriptor socket, int wake) : socket_(std::move(socket)), wake_(wake) {
    const int flags = fcntl(socket_.get(), F_GETFL);
    if (flags >= 0) fcntl(socket_.get(), F_SETFL, flags | O_NONBLOCK);
  }

  // The next request's head (and body, which is read and dropped). False once the client has gone,
  // or the server stops.
  bool ReadRequest(Request& request) {
    size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (pending_.size() > kMaxRequestHead || !Receive(std::nullopt)) return false;
    }
    request.head = pending_.substr(0, end + 4);
    pending_.erase(0, end + 4);
    const size_t first_space = request.head.find(' ');
    const size_t second_space = request.head.find(' ', first_space + 1);
    if (first_space == std::string::npos || second_space == std::string::npos) return false;
    request.method = request.head.substr(0, first_space);
    request.target = request.head.substr(first_space + 1, second_space - first_space - 1);
    size_t length = 0;
    for (size_t at = request.head.find("\r\n"); at != std::string::npos && at + 2 < request.head.size();
         at = request.head.find("\r\n", at + 2)) {
      const std::string_view line = std::string_view(request.head).substr(at + 2);
      if (StartsWithIgnoringCase(line, "content-length:"))
        length = static_cast<size_t>(ParseInteger(Trim(line.substr(15, line.find("\r\n") - 15))).value_or(0));
    }
    while (pending_.size() < length)
      if (!Receive(std::nullopt)) return false;
    pending_.erase(0, length);
    return true;
  }

  // Writes all of `data`; false once the client has gone, or the server stops.
  bool Send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t sent = send(socket_.get(), data.data(), data.size(), MSG_NOSIGNAL);
      if (sent > 0) {
        data.remove_prefix(static_cast<size_t>(sent));
        continue;
      }
      if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
      pollfd fds[] = {{socket_.get(), POLLOUT, 0}, {wake_, POLLIN, 0}};
      if (poll(fds, 2, -1) < 0 && errno != EINTR) return false;
      if (fds[1].revents != 0 || (fds[0].revents & (POLLERR | POLLHUP)) != 0) return false;
    }
    return true;
  }

  // Waits `time` (forever: nothing); false when the client goes or the server stops first.
  bool Pause(std::optional<milliseconds> time) {
    const auto deadline = time ? Clock::now() + *time : Clock::time_point::max();
    while (!time || Clock::now() < deadline) {
      std::optional<milliseconds> left;
      if (time) left = std::chrono::ceil<milliseconds>(deadline - Clock::now());
      if (!Receive(left, /*timeout_is_fine=*/true)) return false;
    }
    return true;
  }

 private:
  // Waits for bytes from the client (for `time`, or forever) and keeps them. False when the client
  // has gone or the server stops; a timeout is true only when `timeout_is_fine`.
  bool Receive(std::optional<milliseconds> time, bool timeout_is_fine = false) {
    pollfd fds[] = {{socket_.get(), POLLIN, 0}, {wake_, POLLIN, 0}};
    const int ready = poll(fds, 2, time ? static_cast<int>(std::max<int64_t>(0, time->count())) : -1);
    if (ready < 0) return errno == EINTR;
    if (fds[1].revents != 0) return false;
    if (ready == 0) return timeout_is_fine;
    char buffer[kReadChunk];
    const ssize_t got = recv(socket_.get(), buffer, sizeof buffer, 0);
    if (got > 0) {
      pending_.append(buffer, static_cast<size_t>(got));
      return true;
    }
    return got < 0 && (errno == EAGAIN || errno == EINTR);
  }

  FileDescriptor socket_;
  int wake_;
  std::string pending_;
};

const std::vector<HostileServer::Mode>& HostileServer::AllModes() {
  static const std::vector<Mode> kModes = {
      Mode::kSlowHeaders,      Mode::kDrip,          Mode::kDripUnsized, Mode::kHang,
      Mode::kHangAfterHeaders, Mode::kShortBody,     Mode::kHtml,        Mode::kGiantHeader,
      Mode::kBadStatusLine,    Mode::kEndlessChunks, Mode::kRedirectLoop};
  return kModes;
}

const char* HostileServer::ModeName(Mode mode) {
  switch (mode) {
    case Mode::kSlowHeaders: return "slow_headers";
    case Mode::kDrip: return "drip";
    case Mode::kDripUnsized: return "drip_unsized";
    case Mode::kHang: return "hang";
    case Mode::kHangAfterHeaders: return "hang_after_headers";
    case Mode::kShortBody: return "short_body";
    case Mode::kHtml: return "html";
    case Mode::kGiantHeader: return "giant_header";
    case Mode::kBadStatusLine: return "bad_status_line";
    case Mode::kEndlessChunks: return "endless_chunks";
    case Mode::kRedirectLoop: return "redirect_loop";
  }
  return "unknown";
}

bool HostileServer::Waits(Mode mode) {
  switch (mode) {
    case Mode::kSlowHeaders:
    case Mode::kDrip:
    case Mode::kDripUnsized:
    case Mode::kHang:
    case Mode::kHangAfterHeaders:
    case Mode::kEndlessChunks: return true;
    default: return false;
  }
}

HostileServer::HostileServer() {
  listener_ = FileDescriptor(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener_.is_open()) ThrowErrno("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;  // the kernel picks
  if (bind(listener_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) ThrowErrno("bind");
  if (listen(listener_.get(), 128) != 0) ThrowErrno("listen");
  socklen_t length = sizeof address;
  if (getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) ThrowErrno("getsockname");
  port_ = ntohs(address.sin_port);
  int wake[2];
  if (pipe2(wake, O_CLOEXEC) != 0) ThrowErrno("pipe2");
  wake_read_ = FileDescriptor(wake[0]);
  wake_write_ = FileDescriptor(wake[1]);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

HostileServer::~HostileServer() {
  const char stop = 's';
  [[maybe_unused]] const ssize_t written = write(wake_write_.get(), &stop, 1);  // wakes every wait, for good
  acceptor_.join();
  std::vector<std::thread> connections;
  {
    std::lock_guard lock(mutex_);
    connections.swap(connections_);
  }
  for (std::thread& connection : connections) connection.join();
}

std::string HostileServer::endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }

void HostileServer::Answer(std::string path_part, int status, std::string body) {
  std::lock_guard lock(mutex_);
  rules_.push_back({std::move(path_part), false, Mode::kHang, 0, status, std::move(body), 0});
}

void HostileServer::Misbehave(std::string path_part, Mode mode, int spared) {
  std::lock_guard lock(mutex_);
  rules_.push_back({std::move(path_part), true, mode, spared, 200, "", 0});
}

void HostileServer::set_delay(milliseconds delay) {
  std::lock_guard lock(mutex_);
  delay_ = delay;
}

void HostileServer::set_drip_interval(milliseconds interval) {
  std::lock_guard lock(mutex_);
  drip_interval_ = interval;
}

int HostileServer::Count(const std::string& path_part) const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(std::count_if(requests_.begin(), requests_.end(), [&](const Request& request) {
    return request.target.find(path_part) != std::string::npos;
  }));
}

bool HostileServer::WaitFor(const std::string& path_part, int count, milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return arrived_.wait_for(lock, timeout, [&] {
    return std::count_if(requests_.begin(), requests_.end(), [&](const Request& request) {
             return request.target.find(path_part) != std::string::npos;
           }) >= count;
  });
}

Clock::time_point HostileServer::FirstArrival(const std::string& path_part) const {
  std::lock_guard lock(mutex_);
  for (const Request& request : requests_)
    if (request.target.find(path_part) != std::string::npos) return request.arrived;
  return {};
}

void HostileServer::AcceptLoop() {
  for (;;) {
    pollfd fds[] = {{listener_.get(), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    FileDescriptor socket(accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!socket.is_open()) continue;
    std::lock_guard lock(mutex_);
    connections_.emplace_back([this, socket = std::move(socket)]() mutable { Serve(std::move(socket)); });
    arrived_.notify_all();
  }
}

bool HostileServer::WaitForConnections(size_t count, milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return arrived_.wait_for(lock, timeout, [&] { return connections_.size() >= count; });
}

void HostileServer::Record(const Request& request) {
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
    requests_.back().arrived = Clock::now();
  }
  arrived_.notify_all();
}

const HostileServer::Rule* HostileServer::Route(const Request& request, bool answers_only) {
  for (Rule& rule : rules_) {
    if (request.target.find(rule.path_part) == std::string::npos) continue;
    if (!rule.hostile) return &rule;
    if (answers_only) continue;
    if (rule.seen++ >= rule.spared) return &rule;
  }
  return nullptr;
}

void HostileServer::Serve(FileDescriptor socket) {
  Connection connection(std::move(socket), wake_read_.get());
  Request request;
  while (connection.ReadRequest(request)) {
    Record(request);
    Rule rule;
    Rule answer{"", false, Mode::kHang, 0, 404, R"({"error":"Repository not found"})", 0};
    milliseconds delay, drip;
    {
      std::lock_guard lock(mutex_);
      if (const Rule* found = Route(request, false)) rule = *found;
      if (const Rule* found = Route(request, true)) answer = *found;
      delay = delay_;
      drip = drip_interval_;
    }
    const std::string proper = JsonAnswer(answer.status, answer.body);
    if (!rule.hostile) {
      if (!connection.Send(proper)) return;
      continue;
    }
    switch (rule.mode) {
      case Mode::kSlowHeaders:
        if (!connection.Pause(delay) || !connection.Send(proper)) return;
        continue;
      case Mode::kDrip:
      case Mode::kDripUnsized: {
        const std::string length = rule.mode == Mode::kDrip ? "Content-Length: 1000000" : "Connection: close";
        if (!connection.Send(Head(200, {"Content-Type: application/json", length}))) return;
        while (connection.Send(" ") && connection.Pause(drip)) {
        }
        return;
      }
      case Mode::kHang: connection.Pause(std::nullopt); return;
      case Mode::kHangAfterHeaders:
        if (connection.Send(Head(200, {"Content-Type: application/json", "Content-Length: 100"})))
          connection.Pause(std::nullopt);
        return;
      case Mode::kShortBody:
        connection.Send(Head(200, {"Content-Type: application/json", "Content-Length: 1000"}) + R"({"stage": "RUN)");
        return;
      case Mode::kHtml: {
        const std::string page = "<!DOCTYPE html>\n<html><body><h1>Welcome to nginx!</h1>\n<pre>" + request.head +
                                 "</pre>\n</body></html>\n";
        if (!connection.Send(Head(200, {"Content-Type: text/html", "Content-Length: " + std::to_string(page.size())}) +
                             page))
          return;
        continue;
      }
      case Mode::kGiantHeader: {
        std::vector<std::string> headers = {"Content-Type: application/json", "Content-Length: 2"};
        for (int i = 0; i < 1024; ++i)
          headers.push_back("X-Filler-" + std::to_string(i) + ": " + std::string(1000, 'a'));
        connection.Send(Head(200, headers) + "{}");
        return;
      }
      case Mode::kBadStatusLine:
        connection.Send("HTTP/1.1 2 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
        return;
      case Mode::kEndlessChunks:
        if (!connection.Send(Head(200, {"Content-Type: application/json", "Transfer-Encoding: chunked"}))) return;
        while (connection.Send("1\r\n \r\n") && connection.Pause(drip)) {
        }
        return;
      case Mode::kRedirectLoop:
        if (!connection.Send(Head(302, {"Location: " + request.target, "Content-Length: 0"}))) return;
        continue;
    }
  }
}

}  // namespace orch::testing
