#include "support/webhook_receiver.h"

#include <httplib.h>
#include <sys/socket.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "support/drop_connection.h"
#include "support/wait_for_change.h"

namespace orch::testing {
namespace {

constexpr char kHost[] = "127.0.0.1";
constexpr char kPath[] = "/hooks/test";
constexpr auto kStartDeadline = std::chrono::seconds(5);

}  // namespace

WebhookReceiver::WebhookReceiver() : server_(std::make_unique<httplib::Server>()) { Start(); }

WebhookReceiver::WebhookReceiver(const TestTls& tls)
    : scheme_("https"), server_(std::make_unique<httplib::SSLServer>(tls.cert_file.c_str(), tls.key_file.c_str())) {
  if (!server_->is_valid()) throw std::runtime_error("WebhookReceiver cannot use the certificate " + tls.cert_file);
  Start();
}

void WebhookReceiver::Start() {
  auto handler = [this](const httplib::Request& request, httplib::Response& response) { Handle(request, response); };
  server_->Get(".*", handler).Post(".*", handler).Put(".*", handler);
  // One request per connection: stopping would otherwise wait for a client's idle keep-alive
  // connection to time out (5 s) before its worker thread ends.
  server_->set_keep_alive_max_count(1);
  // httplib's own options set SO_REUSEPORT, with which two servers binding port 0 may share a port.
  server_->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  port_ = server_->bind_to_any_port(kHost);
  if (port_ <= 0) throw std::runtime_error("WebhookReceiver cannot bind to 127.0.0.1");
  server_thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() only works once the accept loop runs; the socket already queues connections before that.
  auto deadline = std::chrono::steady_clock::now() + kStartDeadline;
  while (!server_->is_running() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  if (!server_->is_running()) {
    Stop();
    throw std::runtime_error("WebhookReceiver did not start");
  }
}

WebhookReceiver::~WebhookReceiver() { Stop(); }

void WebhookReceiver::Stop() {
  server_->stop();
  if (server_thread_.joinable()) server_thread_.join();
}

std::string WebhookReceiver::url() const { return scheme_ + "://" + kHost + ":" + std::to_string(port_) + kPath; }

void WebhookReceiver::SetStatus(int status) {
  std::lock_guard lock(mutex_);
  status_ = status;
}

void WebhookReceiver::InjectFault(Fault fault) {
  std::lock_guard lock(mutex_);
  faults_.push_back({fault, fault.times});
}

void WebhookReceiver::OnDelivery(std::function<void(const Received&)> act) {
  std::lock_guard lock(mutex_);
  act_ = std::move(act);
}

void WebhookReceiver::Refuse() { Stop(); }

std::vector<WebhookReceiver::Received> WebhookReceiver::Requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

int WebhookReceiver::Count() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(requests_.size());
}

int WebhookReceiver::CarriedOut(const std::string& idempotency_key) const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(std::count_if(requests_.begin(), requests_.end(), [&](const Received& received) {
    return received.carried_out && received.idempotency_key == idempotency_key;
  }));
}

bool WebhookReceiver::WaitFor(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
  return WaitForChange(mutex_, changed_, generation_, predicate, timeout);
}

void WebhookReceiver::Handle(const httplib::Request& request, httplib::Response& response) {
  std::unique_lock lock(mutex_);
  Received received{request.method,
                    request.path,
                    request.get_header_value("Content-Type"),
                    request.body,
                    request.get_header_value("Idempotency-Key"),
                    request.get_header_value("Authorization"),
                    false,
                    false,
                    0};
  std::optional<Fault> fault;
  if (!faults_.empty()) {
    fault = faults_.front().fault;
    if (--faults_.front().remaining <= 0) faults_.pop_front();
  }
  const int status = fault ? fault->status : status_;
  const bool refused = fault ? fault->kind == Fault::Kind::kStatus : status >= 300;
  const bool close = fault && fault->kind == Fault::Kind::kCarryOutThenClose;
  const std::string& key = received.idempotency_key;
  received.repeat = !refused && !key.empty() && keys_carried_out_.contains(key);
  received.carried_out = !refused && !received.repeat;
  received.status = close ? 0 : status;
  if (received.carried_out && !key.empty()) keys_carried_out_.insert(key);
  requests_.push_back(received);
  ++generation_;
  changed_.notify_all();
  const std::function<void(const Received&)> act = act_;
  lock.unlock();
  if (received.carried_out && act) act(received);
  if (close) {
    DropConnection(request, response);
    return;
  }
  response.status = status;
  response.set_content(status < 300 ? "ok" : "error", "text/plain");
}

}  // namespace orch::testing
