#include "util/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "util/durable_file.h"
#include "util/spawn.h"

namespace orch {
ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& environment,
                           const std::string& log_path) {
  if (argv.empty()) throw std::runtime_error("no program to start");
  const std::optional<std::string> program = FindProgram(argv[0]);
  if (!program) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(ENOENT));
  const FileDescriptor input(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  const FileDescriptor log(::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!input.is_open() || !log.is_open())
    throw std::runtime_error("cannot start " + argv[0] + ": cannot open " + (input.is_open() ? log_path : "/dev/null") +
                             ": " + std::strerror(errno));
  try {
    pid_ = Spawn({.program = *program,
                  .argv = argv,
                  .environment = environment,
                  .stdin_fd = input.get(),
                  .stdout_fd = log.get(),
                  .stderr_fd = log.get(),
                  .working_directory = {},
                  .group = ProcessGroup::kNewSession});
  } catch (const std::system_error& error) {
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(error.code().value()));
  }
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept : pid_(other.pid_), exit_status_(other.exit_status_) {
  other.pid_ = -1;
}

std::optional<int> ChildProcess::Poll() {
  if (exit_status_ || pid_ <= 0) return exit_status_;
  int status = 0;
  pid_t done = waitpid(pid_, &status, WNOHANG);
  if (done == pid_) exit_status_ = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  return exit_status_;
}

int ChildProcess::Wait() {
  while (!Poll()) {
    int status = 0;
    const pid_t done = waitpid(pid_, &status, 0);
    if (done == pid_)
      exit_status_ = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    else if (done < 0 && errno != EINTR)
      exit_status_ = 128;  // not our child any more: nothing to wait for
  }
  return *exit_status_;
}

std::string DescribeExit(int status) {
  if (status > 128) return "killed by signal " + std::to_string(status - 128);
  return "exited with status " + std::to_string(status);
}

std::string LastLines(const std::string& path, int lines) {
  // Only the last 4 KiB of a regular file are read: a log replaced by a FIFO or a device, or one
  // that keeps growing, cannot hold the pass.
  const FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  struct stat status {};
  if (!file.is_open() || ::fstat(file.get(), &status) != 0 || !S_ISREG(status.st_mode)) return "";
  const off_t start = std::max<off_t>(0, status.st_size - 4096);
  std::string tail(static_cast<size_t>(status.st_size - start), '\0');
  const ssize_t got = ::pread(file.get(), tail.data(), tail.size(), start);
  tail.resize(got > 0 ? static_cast<size_t>(got) : 0);
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
  size_t from = tail.size();
  for (int found = 0; found < lines && from != std::string::npos && from > 0; ++found)
    from = tail.rfind('\n', from - 1);
  return from == std::string::npos || from >= tail.size() ? tail : tail.substr(from + 1);
}

std::optional<unsigned long long> ProcessStartTime(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!stat || !std::getline(stat, text)) return std::nullopt;
  // The command name (field 2) may hold spaces and parentheses: fields count from the last ')'.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  char state = '?';
  fields >> state;
  if (state == 'Z' || state == 'X') return std::nullopt;  // a zombie has finished
  for (int index = 4; index <= 21 && fields >> field; ++index) {
  }
  unsigned long long start = 0;
  if (!(fields >> start)) return std::nullopt;
  return start;
}

}  // namespace orch
