// The subcommands, each a function from parsed options to an exit status.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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
  bool wait = false;                // also wait for each triggered retrain to finish
  std::vector<std::string> labels;  // --label: only these labels (default: every configured one)
  bool force = false;               // --force: prepare even when no data is new
};

// One pass: count, decide, prepare, wait, retrain. Prints the summary on stdout.
int RunCommand(const CommonOptions& common, const RunOptions& options);

// Prints every effective setting with its origin, as a run given the same `settings` options sees it.
int ConfigCommand(const CommonOptions& common, const RunOptions& settings, bool json);

// Preflight: database, token, Spaces, metadata URLs. One line per check.
int CheckCommand(const CommonOptions& common, bool json);

// Applies the orchestrator's own migrations to the database.
int MigrateCommand(const CommonOptions& common);

// Frees a run lock that no live pass holds (an expired SQLite lease); names a live holder.
int UnlockCommand(const CommonOptions& common);

struct LabelOptions {
  std::string action;  // "reset", "pause" or "resume"
  std::string label;
  std::string reason;
};

// Changes one label's state under the run lock and records the change in the history with its
// reason: reset (its unfinished cycle ends, back to idle, its last retrained version kept), pause
// (counted, never prepared; a cycle in flight still ends), resume.
int LabelCommand(const CommonOptions& common, const LabelOptions& options);

// Each label's counts against its threshold, phase and versions.
int StatusCommand(const CommonOptions& common, bool json);

struct HistoryOptions {
  int limit = 20;
  std::optional<int64_t> run;  // one pass in full
  bool json = false;
};

// The past passes, newest first, or one of them.
int HistoryCommand(const CommonOptions& common, const HistoryOptions& options);

// The reference workers of the local loop (see src/workers/).

struct PrepareOptions {
  std::string hub_dir;              // the local dataset hub (<hub>/<label>/...), or hf://datasets/OWNER/NAME-{label}
  std::vector<std::string> labels;  // empty: every configured label at or above its threshold
  bool json = false;
};

// Builds and publishes a new dataset version for each label from the application's database.
int PrepareCommand(const CommonOptions& common, const PrepareOptions& options);

struct RetrainOptions {
  std::string label;
  std::string dataset_dir;             // <hub>/<label>
  std::string models_dir;              // models go to <models>/<label>/...
  std::optional<std::string> version;  // the dataset version; default: the latest published
  bool json = false;
};

// Trains on a dataset version, compares with the deployed model, deploys when better.
int RetrainCommand(const CommonOptions& common, const RetrainOptions& options);

struct PredictOptions {
  std::string label;
  std::string models_dir;
  std::optional<std::string> cache_dir;  // default: $XDG_CACHE_HOME/orchestrator/models
  std::vector<std::string> texts;        // empty: one text per line on stdin
  bool json = false;
};

// Classifies texts with the label's deployed model.
int PredictCommand(const CommonOptions& common, const PredictOptions& options);

struct RollbackOptions {
  std::string label;
  std::string models_dir;
  std::optional<std::string> to;  // the dataset version of the candidate; default: the model deployed before
  std::string reason;
  bool json = false;
};

// Deploys an earlier candidate of the label again and records why.
int RollbackCommand(const CommonOptions& common, const RollbackOptions& options);

struct DemoOptions {
  std::string dir = "orchestrator-demo";  // the demo's database, hub, models and logs
  bool fresh = false;                     // start over instead of reusing what dir holds
};

// The whole loop on this machine: a simulated application, local workers, passes until both
// labels are retrained, and one more pass that does nothing twice.
int DemoCommand(const DemoOptions& options);

struct ServeOptions {
  std::optional<std::string> listen;    // --listen HOST:PORT, as SERVE_LISTEN
  std::optional<std::string> schedule;  // --schedule 6h, as SERVE_SCHEDULE
};

}  // namespace orch
