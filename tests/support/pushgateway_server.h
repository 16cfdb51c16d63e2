// The real Prometheus Pushgateway for the tests: Debian's prometheus-pushgateway binary, started as
// a child process on a free loopback port, without persistence (metrics live in its memory only),
// and stopped when the object is destroyed. scripts/install-deps.sh installs it.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

namespace orch::testing {

class Subprocess;

inline constexpr char kPushgatewayBinary[] = "/usr/bin/prometheus-pushgateway";

// Why no Pushgateway can run here, with what to do about it; "" when one can.
std::string PushgatewayUnavailableReason();

// Whether ORCH_SKIP_PUSHGATEWAY=1 asks to skip, rather than fail, the tests that need one.
bool SkipPushgatewayRequested();

class PushgatewayServer {
 public:
  // Starts the Pushgateway and waits until GET /-/ready answers 200. Throws std::runtime_error with
  // its output when it does not become ready.
  PushgatewayServer();
  // Stops it (SIGTERM, then SIGKILL if it lingers).
  ~PushgatewayServer();
  PushgatewayServer(const PushgatewayServer&) = delete;
  PushgatewayServer& operator=(const PushgatewayServer&) = delete;

  // "http://127.0.0.1:PORT", what PUSHGATEWAY_URL is set to.
  std::string url() const;
  int port() const { return port_; }

  // The body of GET /metrics: every group pushed, in the text format. Throws std::runtime_error
  // when the Pushgateway does not answer 200.
  std::string Metrics() const;

 private:
  // Starts the binary on `port`; false when it could not bind it (taken since it was found free).
  bool Start(int port);
  bool WaitUntilReady(std::chrono::steady_clock::time_point deadline);

  int port_ = 0;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace orch::testing

// In a test body or SetUp(): fails, or skips when ORCH_SKIP_PUSHGATEWAY=1, if the binary is missing.
#define ORCH_REQUIRE_PUSHGATEWAY()                                                                   \
  do {                                                                                               \
    const std::string orch_pushgateway_missing = ::orch::testing::PushgatewayUnavailableReason();    \
    if (!orch_pushgateway_missing.empty()) {                                                         \
      if (::orch::testing::SkipPushgatewayRequested()) GTEST_SKIP() << orch_pushgateway_missing;     \
      FAIL() << orch_pushgateway_missing << " (or set ORCH_SKIP_PUSHGATEWAY=1 to skip these tests)"; \
    }                                                                                                \
  } while (false)
