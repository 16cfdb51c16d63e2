// The command line: subcommands run (the default), config and check.
#pragma once

namespace orch {

// Parses the command line, runs the subcommand, and returns the process exit status.
int RunApp(int argc, char** argv);

}  // namespace orch
