// The command line: one table of subcommands (run, the default; config, check, migrate, status,
// history, prepare, retrain, predict, demo, completion), each with its summary, help, options and
// the function that runs it, walked to build the parser, --help and the completion scripts.
#pragma once

namespace orch {

// Parses the command line, runs the subcommand, and returns the process exit status.
int RunApp(int argc, char** argv);

}  // namespace orch
