#include "support/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <stdexcept>
#include <system_error>

#include "util/spawn.h"

namespace orch::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr size_t kReadChunk = 64 * 1024;
// Without pidfd_open the exit of the child is noticed by polling at this interval.
constexpr int kExitCheckMillis = 10;

[[noreturn]] void ThrowErrno(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

// The child's environment replaces ours, so its PATH (not ours) decides where a bare name is found.
std::string ResolveExecutable(const std::string& name, const std::map<std::string, std::string>& env) {
  const auto path = env.find("PATH");
  const std::optional<std::string_view> search =
      path == env.end() ? std::nullopt : std::optional<std::string_view>(path->second);
  if (std::optional<std::string> found = FindProgram(name, search)) return *found;
  ThrowErrno(ENOENT, "cannot find " + name + " in PATH " + std::string(search.value_or("/usr/bin:/bin")));
}

void SetNonBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) ThrowErrno(errno, "fcntl");
}

// Writing to a pipe whose reader has gone raises SIGPIPE, which would end the test binary; it is
// blocked on this thread for the write and a pending one is consumed, so EPIPE is all that remains.
ssize_t WriteWithoutSigpipe(int fd, const char* data, size_t size) {
  sigset_t sigpipe, previous;
  sigemptyset(&sigpipe);
  sigaddset(&sigpipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &sigpipe, &previous);
  ssize_t written = write(fd, data, size);
  int write_error = errno;
  if (written < 0 && write_error == EPIPE) {
    timespec no_wait{};
    while (sigtimedwait(&sigpipe, nullptr, &no_wait) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  errno = write_error;
  return written;
}

}  // namespace

Subprocess::Fd& Subprocess::Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = other.Release();
  }
  return *this;
}

int Subprocess::Fd::Release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

void Subprocess::Fd::Reset() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

Subprocess::Subprocess(std::vector<std::string> argv, std::map<std::string, std::string> env, std::string cwd,
                       std::optional<std::string> stdin_text)
    : stdin_text_(stdin_text.value_or("")) {
  if (argv.empty()) throw std::invalid_argument("Subprocess needs a program to run");
  Start(argv, env, cwd);
  if (!stdin_text) stdin_.Reset();  // the child sees end of file at once
  WriteStdin();
}

Subprocess::~Subprocess() {
  if (!reaped_) KillAndReap();
}

void Subprocess::Start(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                       const std::string& cwd) {
  std::string program = ResolveExecutable(argv[0], env);
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe2(in_pipe, O_CLOEXEC) != 0) ThrowErrno(errno, "pipe2");
  Fd child_in(in_pipe[0]);
  stdin_ = Fd(in_pipe[1]);
  if (pipe2(out_pipe, O_CLOEXEC) != 0) ThrowErrno(errno, "pipe2");
  Fd child_out(out_pipe[1]);
  stdout_ = Fd(out_pipe[0]);
  if (pipe2(err_pipe, O_CLOEXEC) != 0) ThrowErrno(errno, "pipe2");
  Fd child_err(err_pipe[1]);
  stderr_ = Fd(err_pipe[0]);

  // Our ends only: O_NONBLOCK belongs to each end's own open file, the child's ends stay blocking.
  SetNonBlocking(stdin_.get());
  SetNonBlocking(stdout_.get());
  SetNonBlocking(stderr_.get());

  // The test binary may ignore or block signals (HTTP servers ignore SIGPIPE); Spawn gives the child
  // the defaults back. Its own process group lets a test signal it and its children together.
  std::vector<std::string> environment;
  for (const auto& [name, value] : env) environment.push_back(name + "=" + value);
  try {
    pid_ = Spawn({.program = program,
                  .argv = argv,
                  .environment = std::move(environment),
                  .stdin_fd = child_in.get(),
                  .stdout_fd = child_out.get(),
                  .stderr_fd = child_err.get(),
                  .working_directory = cwd,
                  .group = ProcessGroup::kNewGroup});
  } catch (const std::system_error& error) {
    ThrowErrno(error.code().value(), "cannot start " + program);
  }

  pidfd_ = Fd(static_cast<int>(syscall(SYS_pidfd_open, pid_, 0)));
}

void Subprocess::Signal(int sig) {
  if (!reaped_) kill(pid_, sig);
}

ProcessResult Subprocess::Wait(milliseconds timeout) {
  if (!reaped_) {
    Pump([] { return false; }, steady_clock::now() + timeout);
    if (!reaped_ && !ReapIfExited()) {
      KillAndReap();
      result_.timed_out = true;
    }
  }
  result_.out = out_;
  result_.err = err_;
  return result_;
}

bool Subprocess::WaitForOutput(std::string_view needle, milliseconds timeout) {
  auto seen = [&] { return out_.find(needle) != std::string::npos || err_.find(needle) != std::string::npos; };
  return Pump(seen, steady_clock::now() + timeout);
}

ProcessResult Subprocess::Run(std::vector<std::string> argv, std::map<std::string, std::string> env, std::string cwd,
                              milliseconds timeout, std::optional<std::string> stdin_text) {
  Subprocess process(std::move(argv), std::move(env), std::move(cwd), std::move(stdin_text));
  return process.Wait(timeout);
}

template <typename Done>
bool Subprocess::Pump(Done done, Deadline deadline) {
  while (!done()) {
    if (reaped_ && !stdout_.valid() && !stderr_.valid()) return false;
    auto remaining = std::chrono::ceil<milliseconds>(deadline - steady_clock::now());
    if (remaining.count() <= 0) return false;
    int wait_ms = static_cast<int>(std::min<int64_t>(remaining.count(), INT32_MAX));
    if (!pidfd_.valid() && !reaped_) wait_ms = std::min(wait_ms, kExitCheckMillis);

    std::vector<pollfd> watched;
    auto watch = [&](const Fd& fd, short events) {
      if (fd.valid()) watched.push_back({fd.get(), events, 0});
    };
    watch(stdout_, POLLIN);
    watch(stderr_, POLLIN);
    watch(stdin_, POLLOUT);
    if (!reaped_) watch(pidfd_, POLLIN);
    if (poll(watched.data(), watched.size(), wait_ms) < 0) {
      if (errno == EINTR) continue;
      ThrowErrno(errno, "poll");
    }
    // Reading whatever is there (rather than trusting revents) keeps the code short; the fds are non-blocking.
    ReadAvailable(stdout_, out_);
    ReadAvailable(stderr_, err_);
    WriteStdin();
    if (!reaped_) ReapIfExited();
  }
  return true;
}

void Subprocess::WriteStdin() {
  while (stdin_.valid() && stdin_written_ < stdin_text_.size()) {
    ssize_t written =
        WriteWithoutSigpipe(stdin_.get(), stdin_text_.data() + stdin_written_, stdin_text_.size() - stdin_written_);
    if (written > 0) {
      stdin_written_ += static_cast<size_t>(written);
    } else if (written < 0 && errno == EINTR) {
      continue;
    } else if (written < 0 && errno == EAGAIN) {
      return;
    } else {
      stdin_.Reset();  // the child closed its stdin
    }
  }
  stdin_.Reset();  // all written: the child sees end of file
}

void Subprocess::ReadAvailable(Fd& fd, std::string& buffer) {
  char chunk[kReadChunk];
  while (fd.valid()) {
    ssize_t got = read(fd.get(), chunk, sizeof chunk);
    if (got > 0) {
      buffer.append(chunk, static_cast<size_t>(got));
    } else if (got < 0 && errno == EINTR) {
      continue;
    } else if (got < 0 && errno == EAGAIN) {
      return;
    } else {
      fd.Reset();  // end of file or a broken pipe
    }
  }
}

bool Subprocess::ReapIfExited() {
  int status = 0;
  struct rusage usage {};
  pid_t reaped = wait4(pid_, &status, WNOHANG, &usage);
  if (reaped != pid_) return false;
  result_.max_rss_kb = usage.ru_maxrss;
  RecordStatus(status);
  DrainAndClose();
  return true;
}

void Subprocess::KillAndReap() {
  kill(-pid_, SIGKILL);  // the child leads its group: this takes its descendants too
  kill(pid_, SIGKILL);
  int status = 0;
  struct rusage usage {};
  while (wait4(pid_, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  result_.max_rss_kb = usage.ru_maxrss;
  RecordStatus(status);
  DrainAndClose();
}

void Subprocess::DrainAndClose() {
  // Everything the child wrote is in the pipes now; a descendant holding them open is not waited for.
  ReadAvailable(stdout_, out_);
  ReadAvailable(stderr_, err_);
  stdout_.Reset();
  stderr_.Reset();
  stdin_.Reset();
}

void Subprocess::RecordStatus(int status) {
  reaped_ = true;
  pidfd_.Reset();
  if (WIFEXITED(status)) {
    result_.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result_.term_signal = WTERMSIG(status);
  }
}

}  // namespace orch::testing
