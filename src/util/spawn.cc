#include "util/spawn.h"

#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <system_error>

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

bool IsExecutableFile(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

pid_t Spawn(const SpawnRequest& request) {
  SpawnAttributes spawn;
  // dup2 onto 0/1/2 clears close-on-exec there; every other descriptor stays closed in the child.
  if (request.stdin_fd >= 0) posix_spawn_file_actions_adddup2(&spawn.actions, request.stdin_fd, STDIN_FILENO);
  if (request.stdout_fd >= 0) posix_spawn_file_actions_adddup2(&spawn.actions, request.stdout_fd, STDOUT_FILENO);
  if (request.stderr_fd >= 0) posix_spawn_file_actions_adddup2(&spawn.actions, request.stderr_fd, STDERR_FILENO);
  if (!request.working_directory.empty())
    posix_spawn_file_actions_addchdir_np(&spawn.actions, request.working_directory.c_str());

  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&spawn.attributes, &none);
  posix_spawnattr_setsigdefault(&spawn.attributes, &all);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (request.group == ProcessGroup::kNewGroup) {
    posix_spawnattr_setpgroup(&spawn.attributes, 0);
    flags |= POSIX_SPAWN_SETPGROUP;
  } else if (request.group == ProcessGroup::kNewSession) {
    flags |= POSIX_SPAWN_SETSID;
  }
  posix_spawnattr_setflags(&spawn.attributes, flags);

  std::vector<std::string> arguments = request.argv;
  std::vector<std::string> environment = request.environment;
  std::vector<char*> argument_pointers = PointersTo(arguments);
  std::vector<char*> environment_pointers = PointersTo(environment);
  pid_t pid = -1;
  const int error = posix_spawn(&pid, request.program.c_str(), &spawn.actions, &spawn.attributes,
                                argument_pointers.data(), environment_pointers.data());
  if (error != 0) throw std::system_error(error, std::generic_category(), "cannot start " + request.program);
  return pid;
}

std::optional<std::string> FindProgram(const std::string& name, std::optional<std::string_view> search_path) {
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos) return IsExecutableFile(name) ? std::optional(name) : std::nullopt;
  std::string_view directories = search_path.value_or("/usr/bin:/bin");
  while (true) {
    const size_t colon = directories.find(':');
    const std::string directory(directories.substr(0, colon));
    const std::string candidate = (directory.empty() ? "." : directory) + "/" + name;
    if (IsExecutableFile(candidate)) return candidate;
    if (colon == std::string_view::npos) return std::nullopt;
    directories.remove_prefix(colon + 1);
  }
}

std::optional<std::string> FindProgram(const std::string& name) {
  const char* path = std::getenv("PATH");
  return FindProgram(name, path != nullptr ? std::optional<std::string_view>(path) : std::nullopt);
}

std::vector<std::string> CurrentEnvironment() {
  std::vector<std::string> environment;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) environment.emplace_back(*entry);
  return environment;
}

}  // namespace orch
