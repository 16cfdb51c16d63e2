#include "cli/app.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <span>
#include <string>
#include <string_view>

#include "cli/commands.h"
#include "cli/completion.h"
#include "cli/serve_program.h"
#include "util/error.h"
#include "util/redact.h"

namespace orch {
namespace {

constexpr const char* kVersion = "orchestrator " ORCH_VERSION;

constexpr const char* kExitCodes =
    "Exit status:\n"
    "  0    every label ended well: below_threshold, up_to_date, cooling_down, paused, deferred,\n"
    "       retrain_triggered, or a dry run\n"
    "  1    a label timed out or failed, or the database or the Hub could not be used\n"
    "  2    bad command line or configuration (nothing was done)\n"
    "  75   another pass holds the run lock (nothing was done; see --wait-lock)\n"
    "  130, 143  stopped by SIGINT or SIGTERM (the summary is written; the next pass resumes)\n";

constexpr const char* kRunDescription =
    "Run one pass: count the reviewed misclassifications per label, restart the prepare-dataset\n"
    "worker if any label has enough data, wait until each such label's new dataset is published,\n"
    "and restart that label's retrain worker. Prints a JSON summary on stdout, logs on stderr.";

// Everything the command line can set; each subcommand's options write into their own part.
struct Invocation {
  CommonOptions common;
  RunOptions run;
  bool json = false;
  HistoryOptions history;
  LabelOptions label;
  PrepareOptions prepare;
  RetrainOptions retrain;
  PredictOptions predict;
  RollbackOptions rollback;
  DemoOptions demo;
  ServeOptions serve;
  std::string shell;
  ServeFunction serve_function = nullptr;  // none: serve in orchestrator-serve
  char** argv = nullptr;                   // the whole command line, for orchestrator-serve
};

void AddEnvFile(CLI::App& app, Invocation& in) {
  app.add_option("--env-file", in.common.env_file,
                 "Read variables from this file instead of ./.env (never overrides the environment)");
}

void AddConfig(CLI::App& app, Invocation& in) {
  app.add_option("--config", in.common.config_file,
                 "TOML file with settings and per-label tables (environment wins over it)");
}

void AddVersion(CLI::App& app) { app.set_version_flag("--version", kVersion); }

// --env-file, --config and --version: what most subcommands take.
void AddCommon(CLI::App& app, Invocation& in) {
  AddEnvFile(app, in);
  AddConfig(app, in);
  AddVersion(app);
}

void AddJson(CLI::App& app, bool& json, const char* what = "Print JSON instead of text") {
  app.add_flag("--json", json, what);
}

// The options that set a setting; `config` takes them too, to show what such a run would see.
void AddSettingOptions(CLI::App& app, RunOptions& run) {
  app.add_flag("--dry-run", run.dry_run,
               "Read the database and the current metadata, restart nothing, say what would happen");
  app.add_option("--log-format", run.log_format, "Log lines on stderr as text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
}

void AddRunOptions(CLI::App& app, Invocation& in) {
  AddCommon(app, in);
  AddSettingOptions(app, in.run);
  app.add_option("--summary", in.run.summary_path, "Also write the JSON summary to this file");
  app.add_option("--wait-lock", in.run.wait_lock,
                 "Wait up to SECONDS for another pass to finish instead of exiting with 75")
      ->check(CLI::PositiveNumber);
  app.add_option(
      "--label", in.run.labels,
      "Only this label (repeatable); the others are neither counted nor touched, their state stays as it is");
  app.add_flag("--force", in.run.force,
               "Prepare a label at its threshold even when it has no data beyond the dataset it last retrained");
  app.add_flag("--wait", in.run.wait,
               "Also wait (up to POLL_TIMEOUT) for each retrain this pass triggers to finish, and put the worker's "
               "decision in the summary");
}

// One subcommand: its name, what --help says of it, its options, and what runs it. The table below
// is the whole command line; RunApp only walks it.
struct Subcommand {
  std::string_view name;
  std::string_view summary;
  std::string_view footer;  // details, examples and exit codes for its --help
  void (*add_options)(CLI::App& command, Invocation& in);
  int (*run)(Invocation& in);
};

const Subcommand kSubcommands[] = {
    {"run", "Run one pass (the same as giving no subcommand)",
     "Examples:\n"
     "  orchestrator run --dry-run            say what a pass would do, restart nothing\n"
     "  orchestrator run --summary out.json   one pass; the summary also goes to out.json\n"
     "  orchestrator run --wait --wait-lock 600\n"
     "  orchestrator run --label urgency --force   a new dataset and retrain for urgency alone\n\n",
     AddRunOptions, [](Invocation& in) { return RunCommand(in.common, in.run); }},
    {"config", "Print every effective setting as (origin) key = value, secrets masked",
     "Origins, weakest first: default, file (--config), .env, environment, command line.\n\n"
     "Examples:\n"
     "  orchestrator config\n"
     "  orchestrator config --env-file prod.env --json | jq '.settings[] | select(.origin != \"default\")'\n\n"
     "Exit status: 0, or 2 when the configuration is invalid.",
     [](CLI::App& app, Invocation& in) {
       AddCommon(app, in);
       AddSettingOptions(app, in.run);
       AddJson(app, in.json);
     },
     [](Invocation& in) { return ConfigCommand(in.common, in.run, in.json); }},
    {"check", "Preflight: database and count query, token, workers and metadata URLs; one line per check",
     "Nothing is restarted: a Space is asked for its runtime, a command is looked up on PATH, a webhook\n"
     "is not called.\n\n"
     "Examples:\n"
     "  orchestrator check\n"
     "  orchestrator check --json\n\n"
     "Exit status: 0 when every check passes (warnings allowed), 1 when one fails, 2 on bad configuration.",
     [](CLI::App& app, Invocation& in) {
       AddCommon(app, in);
       AddJson(app, in.json);
     },
     [](Invocation& in) { return CheckCommand(in.common, in.json); }},
    {"migrate", "Create or update the orchestrator's own tables (orchestrator_*); a non-dry run does it by itself",
     "Only tables named orchestrator_* are created or changed.\n\n"
     "Example:\n"
     "  orchestrator migrate --env-file prod.env\n\n"
     "Exit status: 0, 1 on a database error, 2 on bad configuration.",
     AddCommon, [](Invocation& in) { return MigrateCommand(in.common); }},
    {"status", "Each label: its data against its threshold, its phase, its last dataset and retrained versions",
     "Examples:\n"
     "  orchestrator status\n"
     "  orchestrator status --json | jq '.labels[] | {label, phase}'\n\n"
     "Exit status: 0, 1 when the database cannot be read, 2 on bad configuration.",
     [](CLI::App& app, Invocation& in) {
       AddCommon(app, in);
       AddJson(app, in.json);
     },
     [](Invocation& in) { return StatusCommand(in.common, in.json); }},
    {"history", "The past passes, newest first, with their outcome",
     "Each line: id, start, duration, status, who started it, and each label's outcome.\n\n"
     "Examples:\n"
     "  orchestrator history --limit 5\n"
     "  orchestrator history --run 42          one pass in full: times, each label's outcome and counts\n"
     "  orchestrator history --json\n\n"
     "Exit status: 0, 1 when the database cannot be read, 2 on bad configuration.",
     [](CLI::App& app, Invocation& in) {
       AddCommon(app, in);
       app.add_option("--limit", in.history.limit, "How many passes to show (default 20)")->check(CLI::PositiveNumber);
       app.add_option("--run", in.history.run, "Show this pass in full (its id, as the list shows it)")
           ->check(CLI::PositiveNumber);
       AddJson(app, in.history.json);
     },
     [](Invocation& in) { return HistoryCommand(in.common, in.history); }},
    {"unlock", "Free a run lock left by a killed pass (an expired SQLite lease); name a live holder",
     "A live lock is never taken away. On PostgreSQL a lock dies with its session, so there is no stale\n"
     "one: unlock names the session that holds it.\n\n"
     "Example:\n"
     "  orchestrator unlock --env-file prod.env\n\n"
     "Exit status: 0 when the lock is free (or was freed), 75 when a live pass holds it, 1 on a database error.",
     AddCommon, [](Invocation& in) { return UnlockCommand(in.common); }},
    {"label", "Operate on one label: reset, pause or resume it, recorded in the history",
     "Examples:\n"
     "  orchestrator label reset urgency --reason \"the prepare worker was rebuilt; start over\"\n"
     "  orchestrator label pause department --reason \"reviewers are relabelling; wait for them\"\n"
     "  orchestrator label resume department --reason \"relabelling done\"\n\n"
     "Each action takes the run lock, so it never changes a label a pass is working on, and `history`\n"
     "shows it with its reason. reset ends the label's unfinished cycle (back to idle, its last retrained\n"
     "version kept); a paused label is counted but never prepared (a cycle in flight still ends) until\n"
     "it is resumed.\n"
     "Exit status: 0 (also when there was nothing to change), 2 for an unknown label or an empty reason,\n"
     "75 while a pass holds the lock.",
     [](CLI::App& app, Invocation& in) {
       AddCommon(app, in);
       app.require_subcommand(1);
       const struct {
         const char* name;
         const char* summary;
         const char* reason;
       } actions[] = {
           {"reset", "End the label's unfinished cycle: back to idle", "Why, for the history"},
           {"pause", "Count the label but prepare it no more, until it is resumed", "Why, for the history"},
           {"resume", "Prepare the label again when its data is there", "Why, for the history (default: resumed)"},
       };
       for (const auto& action : actions) {
         CLI::App* command = app.add_subcommand(action.name, action.summary);
         command->add_option("label", in.label.label, "The label")->required();
         CLI::Option* reason = command->add_option("--reason", in.label.reason, action.reason);
         if (std::string_view(action.name) != "resume") reason->required();
         command->parse_complete_callback([&in, name = std::string(action.name)] {
           in.label.action = name;
           if (name == "resume" && in.label.reason.empty()) in.label.reason = "resumed";
         });
         AddCommon(*command, in);
       }
     },
     [](Invocation& in) { return LabelCommand(in.common, in.label); }},
    {"prepare", "Reference prepare worker: publish a new dataset version per label into a hub directory or the Hub",
     "Reads every reviewed misclassified row and a seeded sample of correct rows (CORRECT_RATIO, PREPARE_SEED),\n"
     "cleans the text, splits 80/10/10 stratified by label, and publishes a version into the label's dataset\n"
     "repository <hub>/<label>, or on the Hugging Face Hub (hf://datasets/OWNER/NAME, {label} standing for the\n"
     "label's name; created when missing, private unless HF_REPO_PRIVATE=false; HF_TOKEN needs write access):\n"
     "the data and dataset card in one commit on main, dataset_metadata.json in the next, tagged <version_tag>.\n\n"
     "Examples:\n"
     "  orchestrator prepare --hub ./hub\n"
     "  orchestrator prepare --hub ./hub --label urgency --json\n"
     "  orchestrator prepare --hub hf://datasets/acme/grievances-{label}\n\n"
     "Exit status: 0, 1 on a database or disk error, 2 on bad configuration.",
     [](CLI::App& app, Invocation& in) {
       AddCommon(app, in);
       app.add_option("--hub", in.prepare.hub_dir,
                      "The local dataset hub directory, or hf://datasets/OWNER/NAME-{label} on the Hub")
           ->required();
       app.add_option("--label", in.prepare.labels,
                      "A label to prepare (repeatable; default: every label at its threshold)");
       AddJson(app, in.prepare.json);
     },
     [](Invocation& in) { return PrepareCommand(in.common, in.prepare); }},
    {"retrain", "Reference retrain worker: train a fastText classifier, deploy it when it beats the deployed one",
     "The label's models live in the model repository <models>/<label>: every model trained is committed onto its\n"
     "branch candidates and tagged with the dataset version; main is the deployed model (model.bin, model.json, a\n"
     "README.md model card, decisions.jsonl). The new model is deployed, by a commit on main, only when its macro-F1\n"
     "exceeds the deployed one's by more than DECISION_THRESHOLD; every decision is a line of decisions.jsonl.\n"
     "A dataset version is trained once: one whose candidate tag exists is answered with its decision.\n"
     "Here --version names a dataset version, not the program's.\n\n"
     "Reads the version at its tag: the latest is the one main's dataset_metadata.json names.\n"
     "On the Hugging Face Hub, --dataset hf://datasets/OWNER/NAME[@VERSION] and --models hf://OWNER/NAME name the\n"
     "repositories themselves; the model repository is created when missing, private unless HF_REPO_PRIVATE=false,\n"
     "and HF_TOKEN needs write access to it.\n\n"
     "Examples:\n"
     "  orchestrator retrain --label urgency --dataset ./hub/urgency --models ./models\n"
     "  orchestrator retrain --label urgency --dataset ./hub/urgency@v3 --models ./models --json\n"
     "  orchestrator retrain --label urgency --dataset hf://datasets/acme/grievances-urgency \\\n"
     "      --models hf://acme/grievances-urgency-model\n\n"
     "Exit status: 0 when the model was accepted or rejected (or the version was decided already), 1 on a data,\n"
     "repository or disk error, 2 on bad usage.",
     [](CLI::App& app, Invocation& in) {
       AddEnvFile(app, in);
       AddConfig(app, in);
       app.add_option("--label", in.retrain.label, "The label to retrain")->required();
       app.add_option("--dataset", in.retrain.dataset_dir,
                      "The label's dataset repository, <hub>/<label>[@<version>], or "
                      "hf://datasets/OWNER/NAME[@<version>] on the Hub")
           ->required();
       app.add_option("--models", in.retrain.models_dir,
                      "The models directory (the label's model repository is <models>/<label>), or the label's "
                      "model repository hf://OWNER/NAME on the Hub")
           ->required();
       app.add_option("--version", in.retrain.version, "The dataset version to train on (default: the latest)");
       AddJson(app, in.retrain.json, "Print the decision as JSON");
     },
     [](Invocation& in) { return RetrainCommand(in.common, in.retrain); }},
    {"predict", "Classify texts with a label's deployed model",
     "Texts from the arguments, or one per line on stdin. The deployed model is main's of the model repository\n"
     "<models>/<label>, or of hf://OWNER/NAME on the Hub, read once per commit into the cache directory.\n\n"
     "Examples:\n"
     "  orchestrator predict --label urgency --models ./models \"water pipe burst near the school\"\n"
     "  orchestrator predict --label department --models ./models --json < texts.txt\n"
     "  orchestrator predict --label urgency --models hf://acme/grievances-urgency-model \"no water since monday\"\n\n"
     "Exit status: 0, 1 when no model is deployed, it is damaged, or a line of stdin is longer than 1 MiB.",
     [](CLI::App& app, Invocation& in) {
       AddCommon(app, in);
       app.add_option("--label", in.predict.label, "The label to predict")->required();
       app.add_option("--models", in.predict.models_dir,
                      "The models directory, or the label's model repository hf://OWNER/NAME on the Hub")
           ->required();
       app.add_option("--cache", in.predict.cache_dir,
                      "Where to keep the models read, by repository and commit (default "
                      "$XDG_CACHE_HOME/orchestrator/models, else ~/.cache/orchestrator/models)");
       app.add_option("texts", in.predict.texts, "Texts to classify (default: one per line on stdin)");
       AddJson(app, in.predict.json, "One JSON object per line: label, id, probability");
     },
     [](Invocation& in) { return PredictCommand(in.common, in.predict); }},
    {"rollback", "Deploy an earlier model of a label again, and record why",
     "Deploys a candidate of the model repository <models>/<label> again by a commit on main, and records the\n"
     "rollback and its reason in decisions.jsonl and the model card. Without --to it undoes the last deployment:\n"
     "it deploys the model deployed before the current one, and a second rollback goes further back. --to names\n"
     "a candidate by the dataset version it was trained on, deployed before or rejected.\n\n"
     "Examples:\n"
     "  orchestrator rollback --label urgency --models ./models --reason \"misroutes water complaints\"\n"
     "  orchestrator rollback --label urgency --models ./models --to v20261126_101502 --json\n"
     "  orchestrator rollback --label urgency --models hf://acme/grievances-urgency-model --reason \"too eager\"\n\n"
     "Exit status: 0 when it was rolled back (or that model is deployed already); 1 when nothing is deployed,\n"
     "there is no earlier model, the candidate is damaged, another retrain or rollback of the label is running,\n"
     "or the repository cannot be written; 2 for a label without models, a version without a candidate, or bad\n"
     "usage.",
     [](CLI::App& app, Invocation& in) {
       AddCommon(app, in);
       app.add_option("--label", in.rollback.label, "The label to roll back")->required();
       app.add_option("--models", in.rollback.models_dir,
                      "The models directory, or the label's model repository hf://OWNER/NAME on the Hub")
           ->required();
       app.add_option("--to", in.rollback.to,
                      "The dataset version whose candidate to deploy (default: the model deployed before)");
       app.add_option("--reason", in.rollback.reason, "Why, for the decision history");
       AddJson(app, in.rollback.json, "Print the rollback's decision line as JSON");
     },
     [](Invocation& in) { return RollbackCommand(in.common, in.rollback); }},
    {"demo", "Run the whole continuous-learning loop on this machine: SQLite, a local hub, local workers",
     "Creates (or reuses) DIR with a simulated grievance application (demo.db), a local dataset hub, models and\n"
     "logs, then runs passes with command: workers until both labels are prepared, retrained and evaluated, and\n"
     "one more pass to show that nothing happens twice. DIR/demo.env holds the settings it used, so\n"
     "`orchestrator run --env-file DIR/demo.env` runs a pass of your own. It takes no --env-file or --config.\n\n"
     "Examples:\n"
     "  orchestrator demo --fresh\n"
     "  orchestrator demo --dir /tmp/try && orchestrator status --env-file /tmp/try/demo.env\n\n"
     "Exit status: 0, or 1 when a step failed.",
     [](CLI::App& app, Invocation& in) {
       app.add_option("--dir", in.demo.dir, "Where the demo keeps its files (default ./orchestrator-demo)");
       app.add_flag("--fresh", in.demo.fresh, "Delete what DIR holds and start over");
       AddVersion(app);
     },
     [](Invocation& in) { return DemoCommand(in.demo); }},
    {"serve", "Serve a status page, a JSON API and /metrics over HTTP; run passes on request or on a schedule",
     "Listens on 127.0.0.1:8080 unless told otherwise (--listen, SERVE_LISTEN; port 0 picks a free one and the\n"
     "log says which). GET / is the status page; it, /api/status and /metrics answer from a snapshot of the\n"
     "counts, taken again when a request finds it SERVE_REFRESH seconds old. POST /api/passes starts a pass with\n"
     "the header 'Authorization: Bearer <SERVE_TOKEN>'; without SERVE_TOKEN no pass starts over HTTP.\n\n"
     "Examples:\n"
     "  orchestrator serve --env-file prod.env\n"
     "  orchestrator serve --listen 127.0.0.1:0 --schedule 6h\n"
     "  curl -X POST -H \"Authorization: Bearer $SERVE_TOKEN\" http://127.0.0.1:8080/api/passes\n\n"
     "Exit status: 0 when stopped by SIGTERM or SIGINT while no pass ran; 128 + the signal (143, 130) when\n"
     "the signal cut a pass short (recorded as cancelled); 1 when it cannot listen; 2 on bad configuration.",
     [](CLI::App& app, Invocation& in) {
       AddCommon(app, in);
       app.add_option("--listen", in.serve.listen, "HOST:PORT to listen on (default SERVE_LISTEN, 127.0.0.1:8080)");
       app.add_option("--schedule", in.serve.schedule,
                      "Also run a pass this often, e.g. 6h, 30m, 90s (default SERVE_SCHEDULE: none)");
     },
     [](Invocation& in) -> int {
       if (in.serve_function) return in.serve_function(in.common, in.serve);
       ExecServeProgram(in.argv);  // returns only by throwing
       return kExitFailed;
     }},
    {"completion", "Print a shell completion script for bash or zsh",
     "Examples:\n"
     "  source <(orchestrator completion bash)                 in ~/.bashrc\n"
     "  orchestrator completion zsh > \"${fpath[1]}/_orchestrator\"\n\n"
     "The Debian package installs both. Exit status: 0, 2 for another shell.",
     [](CLI::App& app, Invocation& in) {
       app.add_option("shell", in.shell, "bash or zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
     },
     nullptr},  // run by RunApp, which has the whole command line to describe
};

const Subcommand& Find(std::string_view name) {
  for (const Subcommand& subcommand : kSubcommands)
    if (subcommand.name == name) return subcommand;
  return kSubcommands[0];  // no subcommand: run
}

}  // namespace

int RunApp(int argc, char** argv, ServeFunction serve) {
  CLI::App app("orchestrator: retrain text classifiers when enough reviewed corrections have piled up.\n\n" +
                   std::string(kRunDescription),
               "orchestrator");
  app.footer(std::string(kExitCodes) +
             "\nSettings come from the environment, .env and --config; `orchestrator config` lists them all with "
             "their origin.\nEach subcommand has its own --help; the manual is `man orchestrator`.");
  app.require_subcommand(0, 1);
  Invocation in;
  in.serve_function = serve;
  in.argv = argv;
  AddRunOptions(app, in);  // no subcommand means run
  for (const Subcommand& subcommand : kSubcommands) {
    CLI::App* command = app.add_subcommand(std::string(subcommand.name), std::string(subcommand.summary));
    command->footer(std::string(subcommand.footer) + (subcommand.name == "run" ? kExitCodes : ""));
    subcommand.add_options(*command, in);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    if (error.get_exit_code() == 0) return app.exit(error);  // --help, --version
    std::cerr << "orchestrator: " << Printable(error.what()) << "\nRun 'orchestrator --help' for usage.\n";
    return kExitUsage;
  }

  const std::vector<CLI::App*> parsed = app.get_subcommands();
  const Subcommand& chosen = Find(parsed.empty() ? "run" : parsed.front()->get_name());
  try {
    if (chosen.name == "completion") {
      std::cout << CompletionScript(app, in.shell);
      return kExitOk;
    }
    return chosen.run(in);
  } catch (const Error& error) {
    std::cerr << "orchestrator: " << error.what() << '\n';
    return error.exit_code();
  } catch (const std::exception& error) {
    std::cerr << "orchestrator: internal error: " << error.what() << '\n';
    return kExitFailed;
  }
}

}  // namespace orch
