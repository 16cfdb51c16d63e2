#include "support/pushgateway_server.h"

#include <httplib.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string_view>

#include "support/postgres_server.h"
#include "support/subprocess.h"

namespace orch::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr char kHost[] = "127.0.0.1";
constexpr int kStartAttempts = 5;
constexpr auto kReadyDeadline = std::chrono::seconds(15);
constexpr auto kPollInterval = milliseconds(20);
constexpr auto kStopDeadline = milliseconds(5000);
// What the binary prints when the port was taken between finding it free and binding it.
constexpr std::string_view kBindFailure = "address already in use";

}  // namespace

std::string PushgatewayUnavailableReason() {
  std::error_code error;
  if (std::filesystem::exists(kPushgatewayBinary, error)) return "";
  return std::string("the Prometheus Pushgateway (") + kPushgatewayBinary +
         ") is not installed: run scripts/install-deps.sh (Debian package prometheus-pushgateway)";
}

bool SkipPushgatewayRequested() {
  const char* skip = std::getenv("ORCH_SKIP_PUSHGATEWAY");
  return skip != nullptr && std::string_view(skip) == "1";
}

PushgatewayServer::PushgatewayServer() {
  const std::string missing = PushgatewayUnavailableReason();
  if (!missing.empty()) throw std::runtime_error(missing);
  for (int attempt = 0; attempt < kStartAttempts; ++attempt)
    if (Start(FreeLoopbackPort())) return;
  throw std::runtime_error("the Pushgateway lost its port to another process " + std::to_string(kStartAttempts) +
                           " times in a row");
}

PushgatewayServer::~PushgatewayServer() {
  if (!process_) return;
  process_->Signal(SIGTERM);
  process_->Wait(kStopDeadline);  // kills it when it does not stop in time
}

std::string PushgatewayServer::url() const { return std::string("http://") + kHost + ":" + std::to_string(port_); }

bool PushgatewayServer::Start(int port) {
  port_ = port;
  // No environment is needed; --persistence.file= (empty) keeps Debian's default file under
  // /var/lib out of the tests.
  process_ = std::make_unique<Subprocess>(
      std::vector<std::string>{kPushgatewayBinary,
                               "--web.listen-address=" + std::string(kHost) + ":" + std::to_string(port),
                               "--persistence.file=", "--log.level=info"},
      std::map<std::string, std::string>{});
  if (WaitUntilReady(steady_clock::now() + kReadyDeadline)) return true;
  process_.reset();
  return false;
}

bool PushgatewayServer::WaitUntilReady(steady_clock::time_point deadline) {
  httplib::Client client(kHost, port_);
  client.set_connection_timeout(std::chrono::milliseconds(200));
  client.set_read_timeout(std::chrono::seconds(2));
  while (true) {
    httplib::Result answer = client.Get("/-/ready");
    if (answer && answer->status == 200) return true;
    // Waiting on the child's output paces the polls and notices at once a bind failure or an exit
    // (WaitForOutput returns early, without the needle, only when the child has ended).
    const steady_clock::time_point before = steady_clock::now();
    if (process_->WaitForOutput(kBindFailure, kPollInterval)) return false;
    const bool exited = steady_clock::now() - before < kPollInterval;
    if (exited || steady_clock::now() >= deadline) {
      throw std::runtime_error(std::string("the Pushgateway ") + (exited ? "exited" : "did not become ready") + " on " +
                               url() + "; its output:\n" + process_->out() + process_->err());
    }
  }
}

std::string PushgatewayServer::Metrics() const {
  httplib::Client client(kHost, port_);
  client.set_read_timeout(std::chrono::seconds(5));
  httplib::Result answer = client.Get("/metrics");
  if (!answer) throw std::runtime_error("GET " + url() + "/metrics failed: " + httplib::to_string(answer.error()));
  if (answer->status != 200)
    throw std::runtime_error("GET " + url() + "/metrics answered " + std::to_string(answer->status));
  return answer->body;
}

}  // namespace orch::testing
