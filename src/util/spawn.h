// Starting a program: the one posix_spawn wrapper, for the local workers a pass starts and for the
// tests that run the real binary.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orch {

enum class ProcessGroup {
  kInherit,     // the child stays in our process group and session
  kNewGroup,    // its own process group (a test can signal the child and its children at once)
  kNewSession,  // its own session: a Ctrl-C or a signal aimed at our group does not reach it
};

struct SpawnRequest {
  std::string program;                   // a path (see FindProgram)
  std::vector<std::string> argv;         // argv[0] included
  std::vector<std::string> environment;  // the child's whole environment, "NAME=value"
  int stdin_fd = -1;                     // duplicated onto the child's 0, 1 and 2; every other
  int stdout_fd = -1;                    // descriptor of ours must be close-on-exec
  int stderr_fd = -1;
  std::string working_directory;  // "" for ours
  ProcessGroup group = ProcessGroup::kInherit;
};

// Starts the program with no signal blocked and every signal's action back to its default (the
// caller may block or ignore signals it handles itself). Returns its pid. Throws std::system_error
// saying which program could not be started and why.
pid_t Spawn(const SpawnRequest& request);

// Where `name` lives, as a shell would find it: a name with a '/' as it is, any other name in the
// directories of `search_path` (PATH's syntax; "/usr/bin:/bin" when nothing). Nothing when no
// executable regular file is found.
std::optional<std::string> FindProgram(const std::string& name, std::optional<std::string_view> search_path);
// The same on this process's PATH.
std::optional<std::string> FindProgram(const std::string& name);

// The environment of this process, "NAME=value" each.
std::vector<std::string> CurrentEnvironment();

}  // namespace orch
