// A copy of what `orchestrator demo` leaves behind (a SQLite application database with three passes
// in its history, retrain decisions included, a local dataset hub and deployed models), for tests
// that need a realistic database without training models themselves.
//
// The demo runs once per machine, user and binary (its size and modification time) into a template
// directory in $TMPDIR, under a file lock so that the tests ctest starts side by side wait for one
// another rather than each training the same models; every later test only copies the directory.
// A new template removes the older ones no test is copying, so rebuilds leave no trail behind.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace orch::testing {

// Copies the demo into `dir` (which must exist), running the demo first when there is no template
// yet for `binary`. Throws std::runtime_error with the demo's output when the demo fails.
void CopyDemo(const std::string& binary, const std::filesystem::path& dir);

// The settings of the demo in `dir` (as its demo.env holds them, with the paths of `dir`): the
// database, both labels at threshold 300, command: workers that are `binary` itself, and PATH.
std::map<std::string, std::string> DemoEnvironment(const std::string& binary, const std::filesystem::path& dir);

}  // namespace orch::testing
