// The HTTP side of `orchestrator serve`, on cpp-httplib: it binds where it is told (loopback by
// default), hands every request to one handler, and answers. Its threads block on the socket and
// on a condition variable; keep-alive is off, because this library waits for a kept-alive
// connection's next request by polling every few milliseconds, and an idle server should not.
#pragma once

#include <functional>
#include <memory>
#include <thread>

#include "serve/endpoints.h"
#include "serve/listen_address.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace orch {

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  // Binds `address` (port 0: a free port, see port()). `answered` runs after each answer has been
  // sent (it may be empty). Throws Error (exit 1) when it cannot bind, saying where and what to do.
  HttpServer(const ListenAddress& address, Handler handler, std::function<void()> answered = {}, int threads = 4);
  // Stop().
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }
  // Accepts connections in a thread of its own until Stop().
  void Start();
  // Stops accepting, lets the requests being answered finish, and waits for the threads.
  void Stop();

 private:
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace orch
