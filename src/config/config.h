// The orchestrator's effective configuration, and where each value came from.
//
// Values come, from weakest to strongest, from defaults, the TOML file (--config), the .env file,
// the process environment and the command line. Secrets (HF_TOKEN, a password in DATABASE_URL)
// are read from the environment or .env only. Every setting is described once, in the table in
// settings.cc; `orchestrator config` prints that table's effective values with their origins.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/database_url.h"
#include "config/label_columns.h"

namespace orch {

enum class Origin { kDefault, kFile, kDotEnv, kEnvironment, kCommandLine };
const char* OriginName(Origin origin);  // "default", "file", ".env", "environment", "command line"

// One effective setting, as `orchestrator config` shows it.
struct ConfigValue {
  std::string key;    // e.g. "poll_interval", "labels.department.threshold"
  std::string env;    // the environment variable that sets it, e.g. "POLL_INTERVAL" ("" if none)
  std::string value;  // already masked when secret
  Origin origin = Origin::kDefault;
};

// HTTP behaviour towards the Hub and any metadata host.
struct HttpSettings {
  double connect_timeout = 10;  // seconds, HTTP_CONNECT_TIMEOUT
  double request_timeout = 30;  // seconds for a whole request, HTTP_TIMEOUT
  int max_retries = 4;          // retries after the first attempt, HTTP_RETRIES
  double retry_base = 0.5;      // first backoff in seconds, doubled each retry, HTTP_RETRY_BASE
  double retry_max = 30;        // longest backoff or Retry-After honoured, HTTP_RETRY_MAX
  int max_connections = 16;     // concurrent transfers at most, HTTP_MAX_CONNECTIONS
  std::string ca_bundle;        // PEM file HTTPS servers are verified against, HTTP_CA_BUNDLE ("": the system's)
};

// How an hf-job: worker's Jobs run on the Hub.
struct HfJobSettings {
  std::string flavor = "cpu-basic";  // HF_JOB_FLAVOR
  double timeout = 1800;             // seconds, HF_JOB_TIMEOUT (0: the Hub's default)
  std::string job_namespace;         // HF_JOB_NAMESPACE ("": the token's user)
};

struct LabelConfig {
  std::string name;            // validated: [a-z][a-z0-9_]{0,62}
  int64_t threshold = 0;       // rows; > 0
  std::string retrain_target;  // hf-space:owner/name (or owner/name), command:…, webhook:…; "" when not configured
  std::string metadata_url;    // dataset_metadata.json URL; "" when not configured
  LabelColumns columns;        // validated identifiers
  std::string misclassified_sql;  // from the TOML file; "" means the built-in single scan
  std::string pool_sql;           // from the TOML file; "" means the built-in anti-join
  // Paying only for new evidence: the reviewed corrections that must be new since the label's last
  // retrained dataset before it is prepared again (>= 1), and the least seconds from its last
  // retrain to its next prepare (0: none).
  int64_t min_new_rows = 1;
  double retrain_cooldown = 0;
  HfJobSettings hf_job;  // the label's hf-job: retrain worker's
};

struct Config {
  DatabaseUrl database;
  std::string hf_endpoint = "https://huggingface.co";  // no trailing slash
  std::string hf_token;                                // secret; "" when not set
  std::string prepare_target;                          // PREPARE_DATASET_REPO
  double correct_ratio = 0.5;
  double poll_interval = 60;   // seconds
  double poll_timeout = 1800;  // seconds
  bool dry_run = false;
  std::string log_format = "text";  // "text" or "json"
  bool github_actions = false;      // GITHUB_ACTIONS=true
  std::string github_step_summary;  // GITHUB_STEP_SUMMARY path, "" when not set
  std::string github_output;        // GITHUB_OUTPUT path, "" when not set
  HttpSettings http;
  std::string name = "orchestrator";                 // ORCHESTRATOR_NAME: keys the run lock and the metrics instance
  double stale_after = 0;                            // seconds; 0 means 2 × poll_timeout (see StaleAfter)
  int64_t min_new_rows = 1;                          // every label's default (LabelConfig::min_new_rows)
  double retrain_cooldown = 0;                       // every label's default, seconds (0: none)
  double lock_lease = 60;                            // seconds a SQLite run-lock lease lasts without renewal
  std::string alert_webhook_url;                     // "" when alerts are off
  std::string pushgateway_url;                       // "" when metrics are off
  std::string worker_log_dir = "orchestrator-logs";  // command: workers' log files
  std::string worker_env;                            // WORKER_ENV: more variables command: workers get
  std::string webhook_token_env = "WEBHOOK_TOKEN";   // names the variable holding the webhook token
  double decision_threshold = 0.001;                 // macro-F1 gain a retrained model needs to be deployed
  int64_t prepare_seed = 42;                         // seeds orchestrator prepare's sampling and splits
  std::string dataset_languages = "ne,en";           // the language codes orchestrator prepare's cards name
  bool hf_repo_private = true;                       // repositories prepare and retrain create on the Hub
  // orchestrator serve: where it listens, the token POST /api/passes needs (a secret; "" refuses
  // passes over HTTP), its own schedule ("6h"; "" for none), how long a status snapshot is served
  // before a new one is taken, and GITHUB_REPOSITORY (owner/name) for links to workflow runs.
  std::string serve_listen = "127.0.0.1:8080";
  std::string serve_token;
  std::string serve_schedule;
  double serve_refresh = 60;
  std::string github_repository;
  HfJobSettings hf_job;  // every hf-job: worker's default, and the prepare worker's
  std::vector<LabelConfig> labels;
  std::vector<ConfigValue> values;  // every effective setting, in table order, for display
  // The whole environment of a `command:` worker but its request ("NAME=value"), so that whatever
  // set the pass's settings is what its workers see; see WorkerEnvironment.
  std::vector<std::string> worker_environment;
  // Variables of the environment or .env that look like settings and are not (a typo, a label not
  // in LABELS), each with the setting it most likely meant: said, never refused.
  std::vector<std::string> warnings;
};

struct ConfigSources {
  std::map<std::string, std::string> environment;   // the process environment
  std::optional<std::string> env_file;              // --env-file; otherwise ./.env when present
  std::optional<std::string> config_file;           // --config
  std::map<std::string, std::string> command_line;  // settings given as options, by env name (DRY_RUN=1)
};

// Reads and validates every source. Throws ConfigError saying which value is wrong, where it came
// from, and what is expected. Without a --config file, ORCHESTRATOR_CONFIG in the environment names
// one (a `command:` worker gets it from its pass).
Config LoadConfig(const ConfigSources& sources);

// The variables a `command:` worker gets from this process's environment whatever the
// settings: PATH, HOME, USER, LOGNAME, SHELL, LANG, LANGUAGE, TZ, TMPDIR and LC_*.
bool IsWorkerSystemVariable(std::string_view name);

// Whether some worker is a Hugging Face Space or Job, or some metadata is read over https, and so the
// Hub token is needed.
bool UsesHuggingFace(const Config& config);

// Checks that what a non-dry run needs is present (the token when UsesHuggingFace, the prepare
// worker, each label's retrain worker and metadata URL). Throws ConfigError naming each missing
// variable.
void RequireForRun(const Config& config);

// "(origin) key = value" lines, like `ccache --show-config`.
std::string FormatConfig(const Config& config);

// The same as a JSON object: {"settings": [{"key", "env", "value", "origin"}...]}.
std::string ConfigToJson(const Config& config);

// Keeps only the labels `names` names (in the configuration's order). Throws ConfigError naming a
// label that is not configured, and the configured ones.
void KeepOnlyLabels(Config& config, const std::vector<std::string>& names);

// How old a label's unfinished prepare cycle may be before a pass starts a new one.
inline double StaleAfter(const Config& config) {
  return config.stale_after > 0 ? config.stale_after : 2 * config.poll_timeout;
}

// Every secret the program holds, to keep out of every text it writes: the Hub token, the database
// password, the alert webhook URL, the server's token, and the webhook token (the value of the
// variable WEBHOOK_TOKEN_ENV names in `environment`). Empty ones are left out.
std::vector<std::string> Secrets(const Config& config, const std::map<std::string, std::string>& environment);

// Returns the process environment as a map.
std::map<std::string, std::string> ProcessEnvironment();

}  // namespace orch
