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

// `retrain` has a --version of its own (the dataset version), so it goes without the version flag.
void AddCommonOptions(CLI::App& app, CommonOptions& common, bool version_flag = true) {
  app.add_option("--env-file", common.env_file, "Read variables from this file instead of ./.env (never overrides the environment)");
  app.add_option("--config", common.config_file, "TOML file with settings and per-label tables (environment wins over it)");
  if (version_flag) app.set_version_flag("--version", "orchestrator " ORCH_VERSION);
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
  app.add_flag("--wait", run.wait,
               "Also wait (up to POLL_TIMEOUT) for each retrain this pass triggers to finish, and put the worker's "
               "decision in the summary");
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

  PrepareOptions prepare;
  CLI::App* prepare_command = app.add_subcommand(
      "prepare", "Reference prepare worker: publish a new dataset version per label into a local hub directory");
  prepare_command->footer(
      "Reads every reviewed misclassified row and a seeded sample of correct rows (CORRECT_RATIO, PREPARE_SEED),\n"
      "cleans the text, splits 80/10/10 stratified by label, and publishes <hub>/<label>/<version_tag>/ with\n"
      "dataset_metadata.json written last. Exit status: 0, 1 on a database or disk error, 2 on bad configuration.");
  AddCommonOptions(*prepare_command, common);
  prepare_command->add_option("--hub", prepare.hub_dir, "The local dataset hub directory")->required();
  prepare_command->add_option("--label", prepare.labels, "A label to prepare (repeatable; default: every label at its threshold)");
  prepare_command->add_flag("--json", prepare.json, "Print JSON instead of text");

  RetrainOptions retrain;
  CLI::App* retrain_command = app.add_subcommand(
      "retrain", "Reference retrain worker: train a fastText classifier, deploy it when it beats the deployed one");
  retrain_command->footer(
      "Deploys to <models>/<label>/<model_version>/ and moves <models>/<label>/current only when the new macro-F1\n"
      "exceeds the deployed one by more than DECISION_THRESHOLD; appends the decision to decisions.jsonl.\n"
      "Exit status: 0 when the model was accepted or rejected, 1 on a data or disk error, 2 on bad usage.");
  AddCommonOptions(*retrain_command, common, /*version_flag=*/false);
  retrain_command->add_option("--label", retrain.label, "The label to retrain")->required();
  retrain_command->add_option("--dataset", retrain.dataset_dir, "The label's dataset directory (<hub>/<label>)")->required();
  retrain_command->add_option("--models", retrain.models_dir, "The models directory")->required();
  retrain_command->add_option("--version", retrain.version, "The dataset version to train on (default: the latest)");
  retrain_command->add_flag("--json", retrain.json, "Print the decision as JSON");
  retrain_command->add_flag("--force", retrain.force,
                            "Train even when decisions.jsonl already has a decision for this dataset version");

  PredictOptions predict;
  CLI::App* predict_command = app.add_subcommand("predict", "Classify texts with a label's deployed model");
  predict_command->footer("Texts from the arguments, or one per line on stdin. Exit status: 0, 1 when no model is deployed.");
  AddCommonOptions(*predict_command, common);
  predict_command->add_option("--label", predict.label, "The label to predict")->required();
  predict_command->add_option("--models", predict.models_dir, "The models directory")->required();
  predict_command->add_option("texts", predict.texts, "Texts to classify (default: one per line on stdin)");
  predict_command->add_flag("--json", predict.json, "One JSON object per line: label, id, probability");

  DemoOptions demo;
  CLI::App* demo_command = app.add_subcommand(
      "demo", "Run the whole continuous-learning loop on this machine: SQLite, a local hub, local workers");
  demo_command->footer(
      "Creates (or reuses) DIR with a simulated grievance application (demo.db), a local dataset hub, models and\n"
      "logs, then runs passes with command: workers until both labels are prepared, retrained and evaluated, and\n"
      "one more pass to show that nothing happens twice. DIR/demo.env holds the settings it used, so\n"
      "`orchestrator run --env-file DIR/demo.env` runs a pass of your own. Exit status: 0, or 1 when a step failed.");
  demo_command->add_option("--dir", demo.dir, "Where the demo keeps its files (default ./orchestrator-demo)");
  demo_command->add_flag("--fresh", demo.fresh, "Delete what DIR holds and start over");
  demo_command->set_version_flag("--version", "orchestrator " ORCH_VERSION);

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
    if (prepare_command->parsed()) return PrepareCommand(common, prepare);
    if (retrain_command->parsed()) return RetrainCommand(common, retrain);
    if (predict_command->parsed()) return PredictCommand(common, predict);
    if (demo_command->parsed()) return DemoCommand(demo);
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
