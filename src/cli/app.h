// The command line: one table of subcommands (run, the default; config, check, migrate, status,
// history, unlock, label, prepare, retrain, predict, demo, serve, completion), each with its summary,
// help, options and the function that runs it, walked to build the parser, --help and the
// completion scripts.
#pragma once

#include "cli/commands.h"

namespace orch {

// Runs `orchestrator serve` once its command line is parsed.
using ServeFunction = int (*)(const CommonOptions& common, const ServeOptions& options);

// Parses the command line, runs the subcommand, and returns the process exit status.
//
// `serve` lives in a program of its own, orchestrator-serve, so that the HTTP server's libraries
// (and the TLS library one of them sets up when it is loaded) cost nothing to the other commands.
// orchestrator-serve passes the function that serves; without one, `orchestrator serve` replaces
// the process with orchestrator-serve and the same command line (cli/serve_program.h).
int RunApp(int argc, char** argv, ServeFunction serve = nullptr);

}  // namespace orch
