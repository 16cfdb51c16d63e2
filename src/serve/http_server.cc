#include "serve/http_server.h"

#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "util/error.h"

namespace orch {
namespace {

constexpr size_t kMaxBody = 64 * 1024;  // a POST /api/passes body is a few hundred bytes
constexpr time_t kTimeoutSeconds = 10;  // to read a request or write an answer

HttpRequest FromHttplib(const httplib::Request& in) {
  HttpRequest request;
  request.method = in.method;
  request.path = in.path;
  for (const auto& [key, value] : in.params) request.query.emplace(key, value);
  request.authorization = in.get_header_value("Authorization");
  request.body = in.body;
  request.remote = in.remote_addr;
  return request;
}

}  // namespace

HttpServer::HttpServer(const ListenAddress& address, Handler handler, std::function<void()> answered, int threads)
    : server_(std::make_unique<httplib::Server>()) {
  server_->new_task_queue = [threads] {
    return std::make_unique<httplib::ThreadPool>(static_cast<size_t>(threads)).release();  // httplib owns it
  };
  auto answer = [handler = std::move(handler)](const HttpRequest& request, httplib::Response& out) {
    HttpResponse response = handler(request);
    out.status = response.status;
    for (const auto& [name, value] : response.headers) out.set_header(name, value);
    if (!response.content_type.empty()) out.set_content(std::move(response.body), response.content_type.c_str());
  };
  auto read = [answer](const httplib::Request& in, httplib::Response& out) { answer(FromHttplib(in), out); };
  // Methods that may carry a body read it themselves: httplib refuses a POST without Content-Length
  // (what `curl -X POST` sends) before any handler sees it, and the body of POST /api/passes is optional.
  auto write = [answer](const httplib::Request& in, httplib::Response& out, const httplib::ContentReader& reader) {
    HttpRequest request = FromHttplib(in);
    if (in.has_header("Content-Length") || in.has_header("Transfer-Encoding")) {
      bool too_large = false;
      reader([&](const char* data, size_t length) {
        too_large = request.body.size() + length > kMaxBody;
        if (!too_large) request.body.append(data, length);
        return !too_large;
      });
      if (too_large) {
        out.status = 413;
        out.set_content("{\"error\":\"the body is larger than 64 KiB\"}\n", "application/json");
        return;
      }
    }
    answer(request, out);
  };
  server_->Get(".*", read).Options(".*", read);
  server_->Post(".*", write).Put(".*", write).Patch(".*", write).Delete(".*", write);
  // httplib calls its logger once the answer is written: the moment to tidy up after a request.
  if (answered)
    server_->set_logger(
        [answered = std::move(answered)](const httplib::Request&, const httplib::Response&) { answered(); });
  server_->set_keep_alive_max_count(1);
  server_->set_read_timeout(kTimeoutSeconds, 0);
  server_->set_write_timeout(kTimeoutSeconds, 0);
  server_->set_payload_max_length(kMaxBody);
  // httplib's default options add SO_REUSEPORT, which would let a second server bind the same port
  // and share its connections; SO_REUSEADDR alone only allows a quick restart.
  int listening = -1;
  server_->set_socket_options([&listening](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    // Headers and body go out in separate writes: without TCP_NODELAY the body would wait for the
    // client's delayed ACK (40 ms on loopback).
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    listening = sock;
  });
  const std::string where = FormatListenAddress(address.host, address.port);
  if (address.port == 0) {
    port_ = server_->bind_to_any_port(address.host);
  } else if (server_->bind_to_port(address.host, address.port)) {
    port_ = address.port;
  }
  if (port_ <= 0)
    throw Error("cannot listen on " + where +
                    ": the address is in use, or not one of this machine's; choose another with --listen or "
                    "SERVE_LISTEN (port 0 picks a free one)",
                kExitFailed);
  // httplib listens with a backlog of 5; a burst of clients (a browser and a scraper at once) would
  // wait a second for a SYN retransmission. Listening again only enlarges the queue.
  if (listening >= 0) listen(listening, SOMAXCONN);
}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Start() {
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() takes effect only once the accept loop runs (connections already queue before that);
  // it starts within microseconds.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!server_->is_running() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
}

void HttpServer::Stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

}  // namespace orch
