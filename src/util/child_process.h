// A local worker process started by a pass: its own session (a Ctrl-C or a cancelled job
// aimed at the orchestrator does not reach it), an environment of its own (nothing of this
// process's but what it is given), stdin from /dev/null, stdout and stderr appended to a log file
// that only its owner can read.
//
// Like a restarted Space, the worker outlives the pass that started it: destroying the object
// neither kills nor waits for it. A pass that stays (--wait, or to watch a prepare worker) asks
// Poll() how it ended.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace orch {

class ChildProcess {
 public:
  // Starts argv[0] (searched on this process's PATH) with `environment` ("NAME=value") as its whole
  // environment. Throws std::runtime_error saying why it could not start.
  ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& environment,
               const std::string& log_path);
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;
  ~ChildProcess() = default;

  pid_t pid() const { return pid_; }
  // nullopt while it runs; then its exit status (0-255), or 128 + the signal that ended it.
  std::optional<int> Poll();
  // Blocks until it ends; its exit status as Poll() gives it.
  int Wait();

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

// "exited with status 3" / "killed by signal 9" for a status from Poll().
std::string DescribeExit(int status);

// The last `lines` lines of a text file, at most the last 4 KiB of it ("" when unreadable).
std::string LastLines(const std::string& path, int lines);

// The start time of a process (field 22 of /proc/<pid>/stat), to tell a live pid from a reused
// one; nullopt when no such process runs.
std::optional<unsigned long long> ProcessStartTime(pid_t pid);

}  // namespace orch
