#include "cli/serve_program.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "util/error.h"

#ifndef ORCH_SERVE_FROM_BINDIR
#define ORCH_SERVE_FROM_BINDIR "../libexec/orchestrator"
#endif

namespace orch {

constexpr const char* kServeProgram = "orchestrator-serve";

std::vector<std::filesystem::path> ServeProgramCandidates(const std::filesystem::path& self) {
  const std::filesystem::path dir = self.parent_path();
  return {dir / kServeProgram, (dir / ORCH_SERVE_FROM_BINDIR / kServeProgram).lexically_normal()};
}

void ExecServeProgram(char* const* argv) {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error)
    throw Error("orchestrator serve: cannot find this program's own path (/proc/self/exe: " + error.message() +
                    "), so not orchestrator-serve either; run orchestrator-serve serve …",
                kExitFailed);
  std::vector<char*> arguments;
  for (char* const* argument = argv; *argument != nullptr; ++argument) arguments.push_back(*argument);
  arguments.push_back(nullptr);
  std::string looked;
  for (const std::filesystem::path& candidate : ServeProgramCandidates(self)) {
    std::string path = candidate.string();
    arguments[0] = path.data();
    ::execv(path.c_str(), arguments.data());
    looked += (looked.empty() ? "" : ", ") + path + " (" + std::strerror(errno) + ")";
  }
  throw Error("orchestrator serve runs in the program orchestrator-serve, which could not be started: " + looked +
                  ". Install the whole package, or build it with `cmake --build build --target orchestrator-serve`",
              kExitFailed);
}

}  // namespace orch
