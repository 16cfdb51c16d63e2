// Finding and starting orchestrator-serve, the program that runs `orchestrator serve`
// (see RunApp in cli/app.h for why it is a program apart).
#pragma once

#include <filesystem>
#include <vector>

namespace orch {

// Where orchestrator-serve may be, in order: next to this program (a build tree), then where the
// package installs it relative to this program (../libexec/orchestrator/ from bin/).
std::vector<std::filesystem::path> ServeProgramCandidates(const std::filesystem::path& self);

// Replaces this process with the first orchestrator-serve that exists, with the arguments `argv` (ended by
// a null pointer) but the first. Returns only on failure: throws Error (exit 1) naming the places it looked and
// how to get the program.
[[noreturn]] void ExecServeProgram(char* const* argv);

}  // namespace orch
