#include "cli/app.h"

#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/commands.h"
#include "util/error.h"
#include "util/redact.h"

namespace orch {
namespace {

constexpr const char* kExitCodes =
    "Exit status:\n"
    "  0  every label below its threshold, a dry run, or every needed retrain triggered\n"
    "  1  a label timed out or failed, or the database or the Hub could not be used\n"
    "  75 another pass holds the run lock (nothing was done; see --wait-lock)\n"
    "  130, 143  stopped by SIGINT or SIGTERM (the summary is written; the next pass resumes)\n"
    "  2  bad command line or configuration (nothing was done)\n";

constexpr const char* kRunDescription =
    "Run one pass: count the reviewed misclassifications per label, restart the prepare-dataset\n"
    "worker if any label has enough data, wait until each such label's new dataset is published,\n"
    "and restart that label's retrain worker. Prints a JSON summary on stdout, logs on stderr.";

void AddCommonOptions(CLI::App& app, CommonOptions& common) {
  app.add_option("--env-file", common.env_file, "Read variables from this file instead of ./.env (never overrides the environment)");
  app.add_option("--config", common.config_file, "TOML file with settings and per-label tables (environment wins over it)");
  app.set_version_flag("--version", "orchestrator " ORCH_VERSION);
}

// The options that set a setting; `config` takes them too, to show what such a run would see.
void AddSettingOptions(CLI::App& app, RunOptions& run) {
  app.add_flag("--dry-run", run.dry_run, "Read the database and the current metadata, restart nothing, say what would happen");
  app.add_option("--log-format", run.log_format, "Log lines on stderr as text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
}

void AddRunOptions(CLI::App& app, RunOptions& run) {
  AddSettingOptions(app, run);
  app.add_option("--summary", run.summary_path, "Also write the JSON summary to this file");
  app.add_option("--wait-lock", run.wait_lock, "Wait up to SECONDS for another pass to finish instead of exiting with 75")
      ->check(CLI::PositiveNumber);
}

}  // namespace

int RunApp(int argc, char** argv) {
  CLI::App app("orchestrator: retrain text classifiers when enough reviewed corrections have piled up.\n\n" +
                   std::string(kRunDescription),
               "orchestrator");
  app.footer(std::string(kExitCodes) + "\nSettings come from the environment, .env and --config; "
                                        "`orchestrator config` lists them all with their origin.");
  app.require_subcommand(0, 1);
  CommonOptions common;
  RunOptions run;
  bool json = false;
  AddCommonOptions(app, common);
  AddRunOptions(app, run);

  CLI::App* run_command = app.add_subcommand("run", "Run one pass (the same as giving no subcommand)");
  run_command->footer(kExitCodes);
  AddCommonOptions(*run_command, common);
  AddRunOptions(*run_command, run);

  CLI::App* config_command = app.add_subcommand("config", "Print every effective setting as (origin) key = value, secrets masked");
  config_command->footer("Origins, weakest first: default, file (--config), .env, environment, command line.\n"
                         "Exit status: 0, or 2 when the configuration is invalid.");
  AddCommonOptions(*config_command, common);
  AddSettingOptions(*config_command, run);
  config_command->add_flag("--json", json, "Print JSON instead of text");

  CLI::App* check_command = app.add_subcommand(
      "check", "Preflight: database and count query, token, Spaces and metadata URLs; one line per check");
  check_command->footer("Exit status: 0 when every check passes (warnings allowed), 1 when one fails, 2 on bad configuration.");
  AddCommonOptions(*check_command, common);
  check_command->add_flag("--json", json, "Print JSON instead of text");

  CLI::App* migrate_command = app.add_subcommand(
      "migrate", "Create or update the orchestrator's own tables (orchestrator_*); a non-dry run does it by itself");
  migrate_command->footer("Only tables named orchestrator_* are created or changed. Exit status: 0, 1 on a database error.");
  AddCommonOptions(*migrate_command, common);

  CLI::App* status_command = app.add_subcommand(
      "status", "Each label: its data against its threshold, its phase, its last dataset and retrained versions");
  status_command->footer("Exit status: 0, 1 when the database cannot be read, 2 on bad configuration.");
  AddCommonOptions(*status_command, common);
  status_command->add_flag("--json", json, "Print JSON instead of text");

  int limit = 20;
  CLI::App* history_command = app.add_subcommand("history", "The past passes, newest first, with their outcome");
  history_command->footer("Exit status: 0, 1 when the database cannot be read, 2 on bad configuration.");
  AddCommonOptions(*history_command, common);
  history_command->add_option("--limit", limit, "How many passes to show (default 20)")->check(CLI::PositiveNumber);
  history_command->add_flag("--json", json, "Print JSON instead of text");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);  // --help, --version
    std::cerr << "orchestrator: " << Printable(error.what()) << "\nRun 'orchestrator --help' for usage.\n";
    return kExitUsage;
  }

  try {
    if (config_command->parsed()) return ConfigCommand(common, run, json);
    if (check_command->parsed()) return CheckCommand(common, json);
    if (migrate_command->parsed()) return MigrateCommand(common);
    if (status_command->parsed()) return StatusCommand(common, json);
    if (history_command->parsed()) return HistoryCommand(common, limit, json);
    return RunCommand(common, run);
  } catch (const Error& error) {
    std::cerr << "orchestrator: " << error.what() << '\n';
    return error.exit_code();
  } catch (const std::exception& error) {
    std::cerr << "orchestrator: internal error: " << error.what() << '\n';
    return kExitFailed;
  }
}

}  // namespace orch
