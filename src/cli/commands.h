// The subcommands, each a function from parsed options to an exit status.
#pragma once

#include <optional>
#include <string>

namespace orch {

// Options every subcommand takes.
struct CommonOptions {
  std::optional<std::string> env_file;
  std::optional<std::string> config_file;
};

struct RunOptions {
  bool dry_run = false;
  std::optional<std::string> log_format;  // "text" | "json"
  std::optional<std::string> summary_path;
  std::optional<double> wait_lock;  // seconds to wait for another pass's run lock (default: none)
};

// One pass: count, decide, prepare, wait, retrain. Prints the summary on stdout.
int RunCommand(const CommonOptions& common, const RunOptions& options);

// Prints every effective setting with its origin, as a run given the same `settings` options sees it.
int ConfigCommand(const CommonOptions& common, const RunOptions& settings, bool json);

// Preflight: database, token, Spaces, metadata URLs. One line per check.
int CheckCommand(const CommonOptions& common, bool json);

// Applies the orchestrator's own migrations to the database.
int MigrateCommand(const CommonOptions& common);

// Each label's counts against its threshold, phase and versions.
int StatusCommand(const CommonOptions& common, bool json);

// The past passes, newest first.
int HistoryCommand(const CommonOptions& common, int limit, bool json);

}  // namespace orch
