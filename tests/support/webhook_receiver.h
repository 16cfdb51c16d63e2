// A webhook for the tests (a chat incoming webhook, a workflow engine's trigger endpoint): a small HTTP server on
// loopback that records every request it gets and answers with a status the test chooses, or stops listening so that
// connections are refused.
//
// It acts on a delivery as a receiver that honours Idempotency-Key does: the first delivery of a key that it
// accepts is carried out (OnDelivery's action runs), and a later delivery of that key is a repeat, answered as a
// success but not carried out again. A delivery without the header is carried out each time. Injected faults can
// refuse a delivery (nothing carried out), or carry it out and then lose the answer, as a receiver that dies after
// acting, or a gateway in front of it that gives up, would.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
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
    // Acted on: accepted, and not a repeat of a key carried out before (whatever answer then went out).
    bool carried_out = false;
    bool repeat = false;  // its key was carried out before: dropped, and answered as a success
    int status = 0;       // what was answered; 0: the connection was closed without an answer
  };

  // A misbehaviour shown to the next `times` deliveries.
  struct Fault {
    enum class Kind {
      kStatus,              // answers `status` without acting on the delivery
      kCarryOutThenClose,   // acts on it, then closes the connection before any byte of an answer
      kCarryOutThenStatus,  // acts on it, then answers `status` (a gateway's 502 or 504)
    };
    Kind kind = Kind::kStatus;
    int status = 503;
    int times = 1;

    static Fault Status(int status, int times = 1) { return {Kind::kStatus, status, times}; }
    static Fault CarryOutThenClose(int times = 1) { return {Kind::kCarryOutThenClose, 0, times}; }
    static Fault CarryOutThenStatus(int status, int times = 1) { return {Kind::kCarryOutThenStatus, status, times}; }
  };

  WebhookReceiver();
  // Speaks HTTPS with `tls`'s certificate (see support/test_tls.h).
  explicit WebhookReceiver(const TestTls& tls);
  ~WebhookReceiver();
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  // "http://127.0.0.1:PORT/hooks/test", the URL to post alerts to.
  std::string url() const;

  // The status of every later answer (200 to begin with; the body is "ok" as Slack answers). A
  // status of 300 or more refuses: the delivery is not carried out.
  void SetStatus(int status);
  // Faults are consumed in the order they were injected, before SetStatus's status is looked at.
  void InjectFault(Fault fault);
  // What carrying a delivery out does besides recording it, e.g. publishing what a prepare worker
  // would. Runs once per delivery carried out, before its answer goes out (a delivery's sender waits
  // for it), without the receiver's lock: it may call Requests() and Count().
  void OnDelivery(std::function<void(const Received&)> act);
  // Stops listening: later connections to url() are refused. Requests already recorded stay.
  void Refuse();

  std::vector<Received> Requests() const;
  int Count() const;
  // How many deliveries with this Idempotency-Key were carried out: 1 at most, however many repeats came.
  int CarriedOut(const std::string& idempotency_key) const;

  // Evaluates `predicate` now and after every request recorded; false when `timeout` passes first.
  // The predicate runs without the receiver's lock, so it may call Requests() and Count().
  bool WaitFor(const std::function<bool()>& predicate, std::chrono::milliseconds timeout);

 private:
  struct FaultEntry {
    Fault fault;
    int remaining = 0;
  };

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
  std::deque<FaultEntry> faults_;
  std::function<void(const Received&)> act_;
  std::set<std::string> keys_carried_out_;
  std::vector<Received> requests_;

  // Declared last: started once every member above exists, joined before any is destroyed.
  std::thread server_thread_;
};

}  // namespace orch::testing
