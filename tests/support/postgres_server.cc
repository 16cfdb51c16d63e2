#include "support/postgres_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <thread>

#include "db/database.h"
#include "db/postgres_database.h"
#include "support/temp_dir.h"

namespace orch::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kPostgresRoot = "/usr/lib/postgresql";
constexpr const char* kInstallHint = "run scripts/install-deps.sh";
constexpr int kStartAttempts = 5;
constexpr auto kStartTimeout = std::chrono::seconds(60);
constexpr auto kStopTimeout = std::chrono::seconds(10);

// A file descriptor closed when it goes out of scope.
class UniqueFd {
 public:
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() {
    if (fd_ >= 0) close(fd_);
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Who the server's processes run as: the postgres user when we are root, else ourselves.
struct RunAs {
  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

std::optional<RunAs> ServerUser() {
  if (geteuid() != 0) return RunAs{};
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (getpwnam_r("postgres", &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr)
    return std::nullopt;
  return RunAs{true, found->pw_uid, found->pw_gid};
}

RunAs RequireServerUser() {
  std::optional<RunAs> user = ServerUser();
  if (!user) throw std::runtime_error(PostgresUnavailableReason());
  return *user;
}

// Runs in the forked child: only async-signal-safe calls until exec. The raw system calls change
// the ids of this one thread without the C library's cross-thread synchronisation.
[[noreturn]] void ExecChild(char* const* argv, const char* work_dir, const RunAs& user, int log_fd, int null_fd,
                            bool tie_to_thread, pid_t parent) {
  if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(log_fd, STDOUT_FILENO) < 0 || dup2(log_fd, STDERR_FILENO) < 0) _exit(127);
  // The test's own directory may be closed to the postgres user.
  if (chdir(work_dir) != 0) _exit(127);
  if (user.switch_user) {
    const gid_t groups[] = {user.gid};
    if (syscall(SYS_setgroups, 1, groups) != 0 || syscall(SYS_setresgid, user.gid, user.gid, user.gid) != 0 ||
        syscall(SYS_setresuid, user.uid, user.uid, user.uid) != 0)
      _exit(127);
  }
  // After the ids changed: changing them clears the parent-death signal.
  if (tie_to_thread) {
    prctl(PR_SET_PDEATHSIG, SIGQUIT);  // SIGQUIT is PostgreSQL's immediate shutdown
    if (getppid() != parent) _exit(127);
  }
  execv(argv[0], argv);
  constexpr char kMessage[] = "exec failed\n";
  [[maybe_unused]] ssize_t ignored = write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
  _exit(127);
}

// Forks and execs `args` in `work_dir`, its output appended to `log_path`. Returns the child's pid.
pid_t Spawn(const std::vector<std::string>& args, const std::string& work_dir, const RunAs& user,
            const std::string& log_path, bool tie_to_thread) {
  std::vector<char*> argv;
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  UniqueFd log(open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  UniqueFd null(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (log.get() < 0 || null.get() < 0) throw std::runtime_error("cannot open " + log_path + " or /dev/null");
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed for " + args[0]);
  if (pid == 0) ExecChild(argv.data(), work_dir.c_str(), user, log.get(), null.get(), tie_to_thread, parent);
  return pid;
}

// Reaps `pid` and returns its wait status.
int WaitForExit(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

// Waits until `pid` has exited but leaves it unreaped, so its pid cannot be reused yet.
void WaitForExitUnreaped(pid_t pid) {
  siginfo_t info{};
  while (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
  }
}

int VersionOf(const fs::path& dir) {
  const std::string name = dir.filename().string();
  return std::atoi(name.c_str());  // "15" -> 15, "9.6" -> 9
}

}  // namespace

std::string FindPostgresBinDir() {
  std::error_code error;
  fs::path best;
  for (const fs::directory_entry& entry : fs::directory_iterator(kPostgresRoot, error)) {
    const fs::path bin = entry.path() / "bin";
    if (!fs::exists(bin / "postgres", error) || !fs::exists(bin / "initdb", error)) continue;
    if (best.empty() || VersionOf(entry.path()) > VersionOf(best.parent_path())) best = bin;
  }
  return best.string();
}

std::string PostgresUnavailableReason() {
  if (FindPostgresBinDir().empty())
    return std::string("PostgreSQL server binaries (initdb, postgres) not found under ") + kPostgresRoot +
           "/*/bin: " + kInstallHint;
  if (!ServerUser())
    return std::string("running as root, and there is no 'postgres' user to run the server as: ") + kInstallHint;
  return "";
}

bool SkipPostgresRequested() {
  const char* skip = std::getenv("ORCH_SKIP_POSTGRES");
  return skip != nullptr && std::string_view(skip) == "1";
}

int FreeLoopbackPort() {
  UniqueFd socket_fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (socket_fd.get() < 0 || bind(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      getsockname(socket_fd.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0)
    throw std::runtime_error("cannot bind a loopback port");
  return ntohs(address.sin_port);
}

PostgresServer::Directory::Directory() : owner_(getpid()) {
  std::string pattern = (fs::temp_directory_path() / "orch-postgres-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
  path_ = pattern;
}

PostgresServer::Directory::~Directory() {
  if (getpid() != owner_) return;
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

PostgresServer::PostgresServer() : owner_(getpid()), bin_dir_(FindPostgresBinDir()) {
  const Clock::time_point started = Clock::now();
  if (bin_dir_.empty()) throw std::runtime_error(PostgresUnavailableReason());
  log_path_ = dir_.File("server.log");
  const RunAs user = RequireServerUser();
  if (user.switch_user && chown(dir_.path().c_str(), user.uid, user.gid) != 0)
    throw std::runtime_error("cannot hand " + dir_.path().string() + " to the postgres user");
  bool from_template = CopyTemplate();
  if (!from_template) InitCluster();
  const auto not_started = [this] {
    return std::runtime_error("PostgreSQL test server did not start; its log ends with:\n" + LogTail());
  };
  if (!StartOnSomeFreePort()) {
    if (!from_template) throw not_started();
    // A damaged template (a /tmp cleaner, a full disk): replace it and start from scratch.
    std::error_code ignored;
    fs::remove_all(TemplatePath(), ignored);
    fs::remove_all(dir_.File("data"), ignored);
    from_template = false;
    InitCluster();
    if (!StartOnSomeFreePort()) throw not_started();
  }
  start_time_ = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  std::cerr << "[postgres] test server " << bin_dir_ << " on 127.0.0.1:" << port_ << " ready in " << start_time_.count()
            << " ms (" << (from_template ? "template cluster copied" : "initdb") << ")\n";
}

PostgresServer::~PostgresServer() {
  if (getpid() == owner_) Stop();
}

std::string PostgresServer::TemplatePath() const {
  const std::string major = fs::path(bin_dir_).parent_path().filename().string();
  return (fs::temp_directory_path() / ("orch-postgres-template-" + major + "-uid" + std::to_string(geteuid())))
      .string();
}

bool PostgresServer::RunAsServerUser(const std::vector<std::string>& args) {
  const int status = WaitForExit(Spawn(args, dir_.path().string(), RequireServerUser(), log_path_, false));
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool PostgresServer::CopyTemplate() {
  std::error_code error;
  if (!fs::exists(fs::path(TemplatePath()) / "PG_VERSION", error)) return false;
  if (RunAsServerUser({"/bin/cp", "-a", TemplatePath(), dir_.File("data")})) return true;
  fs::remove_all(dir_.File("data"), error);
  return false;
}

void PostgresServer::InitCluster() {
  // Trust on loopback only, no fsync of the new files, and the C locale: the fastest initdb.
  if (!RunAsServerUser({bin_dir_ + "/initdb", "-D", dir_.File("data"), "--auth=trust", "-U", "postgres", "--no-sync",
                        "-E", "UTF8", "--locale=C"}))
    throw std::runtime_error("initdb failed; its log ends with:\n" + LogTail());
  SaveTemplate();
}

void PostgresServer::SaveTemplate() {
  // Copied under a name of its own, then renamed: another process sees a whole template or none.
  const std::string staging = TemplatePath() + ".staging-" + std::to_string(getpid());
  std::error_code error;
  if (RunAsServerUser({"/bin/cp", "-a", dir_.File("data"), staging}) &&
      std::rename(staging.c_str(), TemplatePath().c_str()) == 0)
    return;
  fs::remove_all(staging, error);  // another process saved one first, or the copy failed
}

bool PostgresServer::StartOnSomeFreePort() {
  // The port was free a moment ago; another process may take it before the server binds it.
  // Only that failure is worth another port: any other would repeat.
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    const size_t log_before = ReadFile(log_path_).size();
    if (Start(FreeLoopbackPort())) return true;
    const std::string log = ReadFile(log_path_);
    if (log.find("already in use", std::min(log_before, log.size())) == std::string::npos) return false;
  }
  return false;
}

bool PostgresServer::Start(int port) {
  const std::vector<std::string> args = {
      bin_dir_ + "/postgres", "-D", dir_.File("data"), "-p", std::to_string(port), "-k", dir_.path().string(),
      // Durability is worthless for a throw-away cluster, and skipping it makes writes fast.
      "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c",
      "full_page_writes=off"};
  const RunAs user = RequireServerUser();
  {
    std::lock_guard lock(mutex_);
    postmaster_ = -1;
    spawned_ = false;
    exited_ = false;
  }
  // Each notification happens under the lock, and the thread touches no member after its last
  // one, so Stop() may return (and the object go) as soon as it sees exited_.
  std::thread([this, args, user] {
    pid_t pid = -1;
    try {
      pid = Spawn(args, dir_.path().string(), user, log_path_, /*tie_to_thread=*/true);
    } catch (const std::exception& error) {
      std::cerr << "[postgres] " << error.what() << "\n";
    }
    {
      std::lock_guard lock(mutex_);
      postmaster_ = pid;
      spawned_ = true;
      changed_.notify_all();
    }
    // exited_ turns true while the pid is still held, so Stop() never signals a recycled pid.
    if (pid > 0) WaitForExitUnreaped(pid);
    {
      std::lock_guard lock(mutex_);
      exited_ = true;
      changed_.notify_all();
    }
    if (pid > 0) WaitForExit(pid);
  }).detach();
  port_ = port;
  if (WaitUntilReady(Clock::now() + kStartTimeout)) return true;
  Stop();
  return false;
}

bool PostgresServer::WaitUntilReady(Clock::time_point deadline) {
  const std::string conninfo =
      "host=127.0.0.1 port=" + std::to_string(port_) + " dbname=postgres user=postgres connect_timeout=2";
  std::unique_lock lock(mutex_);
  while (!exited_ && Clock::now() < deadline) {
    lock.unlock();
    const bool ready = PQping(conninfo.c_str()) == PQPING_OK;
    lock.lock();
    if (ready) return true;
    // Woken early when the postmaster exits (a taken port, a bad setting).
    changed_.wait_for(lock, std::chrono::milliseconds(10), [this] { return exited_; });
  }
  return false;
}

void PostgresServer::Stop() noexcept {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return spawned_; });
  if (postmaster_ <= 0 || exited_) return;
  kill(postmaster_, SIGQUIT);  // immediate shutdown: nothing in the cluster is worth keeping
  if (changed_.wait_for(lock, kStopTimeout, [this] { return exited_; })) return;
  kill(postmaster_, SIGKILL);
  changed_.wait(lock, [this] { return exited_; });
}

std::string PostgresServer::LogTail() const {
  const std::string log = ReadFile(log_path_);
  constexpr size_t kTail = 3000;
  return log.size() > kTail ? log.substr(log.size() - kTail) : log;
}

std::string PostgresServer::Url(const std::string& database) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + database;
}

std::string PostgresServer::CreateDatabase(const std::string& name) {
  if (!IsValidIdentifier(name)) throw std::invalid_argument("not a database name: " + name);
  PgConnection conn(PQconnectdb(Url("postgres").c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK)
    throw std::runtime_error("cannot connect to the test server: " + std::string(PQerrorMessage(conn.get())));
  PgResult result(PQexec(conn.get(), ("CREATE DATABASE \"" + name + "\"").c_str()));
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK)
    throw std::runtime_error("CREATE DATABASE " + name + " failed: " + PQresultErrorMessage(result.get()));
  return Url(name);
}

void PostgresServer::DropDatabase(const std::string& name) noexcept {
  try {
    if (!IsValidIdentifier(name)) return;
    PgConnection conn(PQconnectdb(Url("postgres").c_str()));
    if (PQstatus(conn.get()) != CONNECTION_OK) return;
    PgResult result(PQexec(conn.get(), ("DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)").c_str()));
  } catch (...) {
    // Only tidiness is lost: the whole cluster goes away with the test process.
  }
}

std::string PostgresServer::UniqueDatabaseName(std::string_view prefix) {
  return std::string(prefix) + "_" + std::to_string(++databases_created_);
}

PostgresServer& SharedPostgres() {
  static PostgresServer server;
  return server;
}

}  // namespace orch::testing
