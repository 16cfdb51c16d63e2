// A webhook for the tests (a chat incoming webhook, a workflow engine's trigger endpoint): a small HTTP server on
// loopback that records every request it gets and answers with a status the test chooses, or stops listening so that
// connections are refused.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/test_tls.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace orch::testing {

class WebhookReceiver {
 public:
  struct Received {
    std::string method, path, content_type, body;
    std::string idempotency_key, authorization;  // those headers, "" when absent
  };

  WebhookReceiver();
  // Speaks HTTPS with `tls`'s certificate (see support/test_tls.h).
  explicit WebhookReceiver(const TestTls& tls);
  ~WebhookReceiver();
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  // "http://127.0.0.1:PORT/hooks/test", the URL to post alerts to.
  std::string url() const;

  // The status of every later answer (200 to begin with; the body is "ok" as Slack answers).
  void SetStatus(int status);
  // Stops listening: later connections to url() are refused. Requests already recorded stay.
  void Refuse();

  std::vector<Received> Requests() const;
  int Count() const;

  // Evaluates `predicate` now and after every request recorded; false when `timeout` passes first.
  // The predicate runs without the receiver's lock, so it may call Requests() and Count().
  bool WaitFor(const std::function<bool()>& predicate, std::chrono::milliseconds timeout);

 private:
  void Handle(const httplib::Request& request, httplib::Response& response);
  void Stop();

  void Start();

  std::string scheme_ = "http";
  int port_ = -1;
  std::unique_ptr<httplib::Server> server_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t generation_ = 0;
  int status_ = 200;
  std::vector<Received> requests_;

  // Declared last: started once every member above exists, joined before any is destroyed.
  std::thread server_thread_;
};

}  // namespace orch::testing
