#include "util/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
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

extern char** environ;

namespace orch {
namespace {

// posix_spawn's attribute and file-action objects, destroyed on every path.
struct SpawnAttributes {
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_t actions;
  SpawnAttributes() {
    posix_spawnattr_init(&attributes);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnAttributes() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;
};

std::vector<char*> PointersTo(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  for (std::string& text : strings) pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

std::vector<std::string> EnvironmentWith(const std::vector<std::string>& extra) {
  std::vector<std::string> environment;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    const std::string_view name = text.substr(0, text.find('='));
    bool replaced = false;
    for (const std::string& added : extra) replaced = replaced || added.substr(0, added.find('=')) == name;
    if (!replaced) environment.emplace_back(text);
  }
  environment.insert(environment.end(), extra.begin(), extra.end());
  return environment;
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                           const std::string& log_path) {
  if (argv.empty()) throw std::runtime_error("no program to start");
  SpawnAttributes spawn;
  // The pass blocks SIGINT and SIGTERM to read them synchronously; the worker must get them back.
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int signal : {SIGINT, SIGTERM, SIGPIPE, SIGHUP}) sigaddset(&defaults, signal);
  posix_spawnattr_setsigmask(&spawn.attributes, &none);
  posix_spawnattr_setsigdefault(&spawn.attributes, &defaults);
  posix_spawnattr_setflags(&spawn.attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSID);
  posix_spawn_file_actions_addopen(&spawn.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&spawn.actions, STDOUT_FILENO, log_path.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&spawn.actions, STDOUT_FILENO, STDERR_FILENO);

  std::vector<std::string> arguments = argv;
  std::vector<std::string> environment = EnvironmentWith(extra_env);
  std::vector<char*> arg_pointers = PointersTo(arguments);
  std::vector<char*> env_pointers = PointersTo(environment);
  const int error = posix_spawnp(&pid_, arguments[0].c_str(), &spawn.actions, &spawn.attributes,
                                 arg_pointers.data(), env_pointers.data());
  if (error != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(error));
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(other.pid_), exit_status_(other.exit_status_) {
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
    if (done == pid_) exit_status_ = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
    else if (done < 0 && errno != EINTR) exit_status_ = 128;  // not our child any more: nothing to wait for
  }
  return *exit_status_;
}

std::optional<std::string> FindProgram(const std::string& name) {
  auto executable = [](const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && ::access(path.c_str(), X_OK) == 0;
  };
  if (name.find('/') != std::string::npos) return executable(name) ? std::optional(name) : std::nullopt;
  const char* path = std::getenv("PATH");
  std::string_view directories = path != nullptr ? path : "/usr/bin:/bin";
  while (!directories.empty()) {
    const size_t colon = directories.find(':');
    std::string directory(directories.substr(0, colon));
    directories.remove_prefix(colon == std::string_view::npos ? directories.size() : colon + 1);
    const std::string candidate = (directory.empty() ? "." : directory) + "/" + name;
    if (executable(candidate)) return candidate;
  }
  return std::nullopt;
}

std::string DescribeExit(int status) {
  if (status > 128) return "killed by signal " + std::to_string(status - 128);
  return "exited with status " + std::to_string(status);
}

std::string LastLines(const std::string& path, int lines) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) return "";
  const std::streamoff size = file.tellg();
  const std::streamoff start = std::max<std::streamoff>(0, size - 4096);
  file.seekg(start);
  std::string tail((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
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
