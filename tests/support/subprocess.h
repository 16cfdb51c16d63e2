// A child process for tests that run the real orchestrator binary (or a shell) end to end.
//
// The child gets exactly the environment the test passes (nothing is inherited, not even PATH),
// default signal dispositions, the given text (or nothing) on stdin, and pipes for stdout and
// stderr that are drained together so it never blocks on a full pipe. The child leads its own
// process group; a timeout, or destroying a still-running Subprocess, kills the whole group.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orch::testing {

struct ProcessResult {
  int exit_code = -1;   // -1 when the child ended by a signal
  int term_signal = 0;  // the signal that ended the child, 0 when it exited
  long max_rss_kb = 0;  // the child's peak resident memory (getrusage), in KiB
  std::string out, err;
  bool timed_out = false;  // Wait() gave up and killed the child
};

class Subprocess {
 public:
  // Starts argv[0] (looked up in env's PATH, or /usr/bin:/bin, when it has no slash) in `cwd`
  // ("" for the current directory). Throws std::system_error when it cannot be started.
  Subprocess(std::vector<std::string> argv, std::map<std::string, std::string> env, std::string cwd = "",
             std::optional<std::string> stdin_text = std::nullopt);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  // Sends `sig` to the child itself (not its group), as a supervisor would. No-op once reaped.
  void Signal(int sig);
  // Collects output until the child ends; after `timeout` kills it (SIGKILL) and sets timed_out.
  // May be called again: later calls return the same result.
  ProcessResult Wait(std::chrono::milliseconds timeout);
  // Collects output until stdout or stderr contains `needle` (true), or the child ends or `timeout`
  // passes (false). The child keeps running; what was read stays part of Wait()'s result.
  bool WaitForOutput(std::string_view needle, std::chrono::milliseconds timeout);
  // Output collected so far.
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

  static ProcessResult Run(std::vector<std::string> argv, std::map<std::string, std::string> env, std::string cwd,
                           std::chrono::milliseconds timeout, std::optional<std::string> stdin_text = std::nullopt);

 private:
  // An owned file descriptor.
  class Fd {
   public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(other.Release()) {}
    Fd& operator=(Fd&& other) noexcept;
    ~Fd() { Reset(); }
    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    int Release();
    void Reset();

   private:
    int fd_ = -1;
  };

  using Deadline = std::chrono::steady_clock::time_point;

  void Start(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
             const std::string& cwd);
  // Moves data between the pipes and the buffers until `done()` holds, the child has exited and its
  // output is drained, or `deadline` passes. Returns done().
  template <typename Done>
  bool Pump(Done done, Deadline deadline);
  void WriteStdin();
  // Reads what is available on `fd` into `buffer`; closes `fd` at end of file.
  void ReadAvailable(Fd& fd, std::string& buffer);
  // Both reap the child and then collect what is left in the pipes.
  bool ReapIfExited();
  void KillAndReap();
  void DrainAndClose();
  void RecordStatus(int status);

  pid_t pid_ = -1;
  Fd pidfd_;  // readable once the child exits; invalid where the kernel lacks pidfd_open
  Fd stdin_, stdout_, stderr_;
  std::string stdin_text_;
  size_t stdin_written_ = 0;
  std::string out_, err_;
  bool reaped_ = false;
  ProcessResult result_;
};

}  // namespace orch::testing
