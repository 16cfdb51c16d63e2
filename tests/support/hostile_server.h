// A Hub that misbehaves on purpose, for the tests and benchmarks that prove every wait of a pass is
// bounded: an HTTP/1.1 server on raw sockets (so it can break the protocol as no HTTP library
// would), on a loopback port the kernel picks, with a thread per connection.
//
// Requests are routed by the first rule whose path part their path contains: Answer rules answer
// properly, Misbehave rules as their mode says. A request no rule takes gets 404 with the Hub's
// JSON error body. Destroying the server closes every connection and returns promptly, whatever
// the connections were doing: every wait inside watches for it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "util/durable_file.h"

namespace orch::testing {

class HostileServer {
 public:
  enum class Mode {
    kSlowHeaders,       // nothing for delay(), then the answer the other rules give
    kDrip,              // 200 with a Content-Length of 1 MB, then a byte of the body each drip_interval(), forever
    kDripUnsized,       // the same without Content-Length (the body ends when the connection does)
    kHang,              // reads the request and never answers
    kHangAfterHeaders,  // the headers of a 200 with a body of 100 bytes, then nothing
    kShortBody,         // a Content-Length larger than the body sent, then the connection closed
    kHtml,              // 200 with an HTML page, which echoes the request (its Authorization included)
    kGiantHeader,       // 200 whose headers take 1 MiB
    kBadStatusLine,     // an answer whose status line is not HTTP ("HTTP/1.1 2 OK")
    kEndlessChunks,     // 200, chunked, a chunk each drip_interval(), never the last one
    kRedirectLoop,      // 302 to the very URL asked, again and again
  };
  static const std::vector<Mode>& AllModes();
  // "slow_headers", "drip", ...: for test names and reports.
  static const char* ModeName(Mode mode);
  // Whether the mode keeps the client waiting (rather than answering something wrong at once).
  static bool Waits(Mode mode);

  HostileServer();
  ~HostileServer();
  HostileServer(const HostileServer&) = delete;
  HostileServer& operator=(const HostileServer&) = delete;

  // "http://127.0.0.1:PORT".
  std::string endpoint() const;

  // Rules, tried in the order they were added. Requests whose path contains `path_part` are
  // answered `status` with the JSON `body`.
  void Answer(std::string path_part, int status, std::string body);
  // Requests whose path contains `path_part` meet `mode`, except the first `spared` of them, which
  // go on to the later rules.
  void Misbehave(std::string path_part, Mode mode, int spared = 0);

  void set_delay(std::chrono::milliseconds delay);
  void set_drip_interval(std::chrono::milliseconds interval);

  // Requests received so far whose path contains `path_part` (counted once their head is read).
  int Count(const std::string& path_part) const;
  // Waits until Count(path_part) >= count; false after `timeout`.
  bool WaitFor(const std::string& path_part, int count, std::chrono::milliseconds timeout) const;
  // Waits until `count` connections were accepted, whatever they send; false after `timeout`.
  bool WaitForConnections(size_t count, std::chrono::milliseconds timeout) const;
  // When the first request whose path contains `path_part` arrived; nothing yet: time_point{}.
  std::chrono::steady_clock::time_point FirstArrival(const std::string& path_part) const;

 private:
  struct Rule {
    std::string path_part;
    bool hostile = false;
    Mode mode = Mode::kHang;
    int spared = 0;
    int status = 200;
    std::string body;
    int seen = 0;
  };
  struct Request {
    std::string method, target, head;
    std::chrono::steady_clock::time_point arrived;
  };
  class Connection;

  void AcceptLoop();
  void Serve(FileDescriptor socket);
  // The rule for `request` (counting it against the hostile rules it meets); nullptr: the 404.
  const Rule* Route(const Request& request, bool answers_only);
  void Record(const Request& request);

  FileDescriptor listener_;
  FileDescriptor wake_read_, wake_write_;  // readable once the server stops
  int port_ = 0;
  std::thread acceptor_;

  mutable std::mutex mutex_;
  mutable std::condition_variable arrived_;
  std::vector<Rule> rules_;
  std::vector<Request> requests_;
  std::vector<std::thread> connections_;
  std::chrono::milliseconds delay_{5000};
  std::chrono::milliseconds drip_interval_{1000};
};

}  // namespace orch::testing
