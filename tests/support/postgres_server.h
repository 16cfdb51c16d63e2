// A real PostgreSQL server for the tests, on loopback, in a temporary directory.
//
// One server per test process (SharedPostgres), started on first use and stopped at exit; each
// test creates its own database on it. The server is a child of the test process that dies with
// it, so a crashed or killed test run leaves no server behind. As root, initdb and postgres run as
// the `postgres` user (they refuse root); otherwise as the current user. The binaries come from the
// newest /usr/lib/postgresql/<version>/bin (scripts/install-deps.sh installs them).
//
// Durability is switched off (fsync, synchronous_commit, full_page_writes) and the initdb result
// is kept in $TMPDIR as a template that later processes copy, so a start costs a few hundred
// milliseconds even when ctest runs every test in a process of its own.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace orch::testing {

// The newest /usr/lib/postgresql/<version>/bin holding initdb and postgres; "" when none does.
std::string FindPostgresBinDir();

// Why no PostgreSQL server can run here, with what to do about it; "" when one can.
std::string PostgresUnavailableReason();

// Whether ORCH_SKIP_POSTGRES=1 asks to skip, rather than fail, the tests that need a server.
bool SkipPostgresRequested();

// A loopback TCP port nothing listened on a moment ago (bound to 127.0.0.1:0, then released).
int FreeLoopbackPort();

class PostgresServer {
 public:
  // Creates a cluster (initdb) and starts the server; throws std::runtime_error with the server's
  // log when it cannot.
  PostgresServer();
  // Stops the server and removes its directory; does nothing in a forked child of the process that
  // started it (a child leaving through exit() must not take the parent's server down).
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  // postgresql://postgres@127.0.0.1:PORT/<database>
  std::string Url(const std::string& database) const;
  // Creates the database `name` ([a-z_][a-z0-9_]*) and returns its URL.
  std::string CreateDatabase(const std::string& name);
  // Drops `name`, disconnecting whoever is still connected. Errors are ignored.
  void DropDatabase(const std::string& name) noexcept;
  // "<prefix>_<n>", a name no earlier call on this server returned.
  std::string UniqueDatabaseName(std::string_view prefix);
  // From the constructor's start until the server accepted connections.
  std::chrono::milliseconds start_time() const { return start_time_; }

 private:
  // The server's directory (cluster, socket, log), removed only by the process that made it.
  class Directory {
   public:
    Directory();
    ~Directory();
    Directory(const Directory&) = delete;
    Directory& operator=(const Directory&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::string File(const std::string& name) const { return (path_ / name).string(); }

   private:
    std::filesystem::path path_;
    pid_t owner_;
  };

  // A cluster initdb made once for this machine, user and major version, copied for each server:
  // copying takes a fraction of initdb's time, and ctest starts one server per test.
  std::string TemplatePath() const;
  bool CopyTemplate();  // false when there is no template or the copy failed
  void InitCluster();
  void SaveTemplate();
  bool RunAsServerUser(const std::vector<std::string>& args);
  bool StartOnSomeFreePort();
  // Starts the postmaster on `port`; false when it exited before accepting connections.
  bool Start(int port);
  bool WaitUntilReady(std::chrono::steady_clock::time_point deadline);
  void Stop() noexcept;
  std::string LogTail() const;

  const pid_t owner_;
  Directory dir_;
  std::string bin_dir_;
  std::string log_path_;
  int port_ = 0;
  std::chrono::milliseconds start_time_{0};
  std::atomic<int> databases_created_{0};

  // A detached thread forks the postmaster and reaps it, so the server is tied to a thread that
  // lives exactly as long as it does (the kernel signals the server when that thread ends, or when
  // the test process dies in any way). It reports through these, guarded by mutex_.
  std::mutex mutex_;
  std::condition_variable changed_;
  pid_t postmaster_ = -1;
  bool spawned_ = true;  // the fork happened (postmaster_ is -1 when it failed)
  bool exited_ = true;
};

// The test process's server, started on first use, stopped when the process exits.
PostgresServer& SharedPostgres();

}  // namespace orch::testing

// In a test body or SetUp(): fails, or skips when ORCH_SKIP_POSTGRES=1, if no server can run here.
#define ORCH_REQUIRE_POSTGRES()                                                                \
  do {                                                                                         \
    const std::string orch_postgres_missing = ::orch::testing::PostgresUnavailableReason();    \
    if (!orch_postgres_missing.empty()) {                                                      \
      if (::orch::testing::SkipPostgresRequested()) GTEST_SKIP() << orch_postgres_missing;     \
      FAIL() << orch_postgres_missing << " (or set ORCH_SKIP_POSTGRES=1 to skip these tests)"; \
    }                                                                                          \
  } while (false)

namespace orch::testing {

// Fixture for tests that need the shared server: fails or skips as ORCH_REQUIRE_POSTGRES does.
class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override { ORCH_REQUIRE_POSTGRES(); }
};

}  // namespace orch::testing
