#include "config/settings.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "config/database_url.h"
#include "config/label_name.h"
#include "config/target.h"
#include "config/url_policy.h"
#include "util/duration.h"
#include "util/error.h"
#include "util/strings.h"

namespace orch {
namespace {

using Type = SettingType;

// Longer waits than a year are certainly a mistake, and would overflow clock durations.
constexpr double kMaxSeconds = 365.0 * 24 * 3600;
constexpr std::string_view kMasked = "********";
// The longest an hf-job: worker's Job may be let run: a week.
constexpr int64_t kMaxJobTimeout = 7 * 24 * 3600;
// A Hub user, organization or hardware flavor name is at most this long.
constexpr size_t kMaxHubNameBytes = 96;

template <typename T>
const T& As(const SettingValue& value) {
  return std::get<T>(value);
}

// The global settings. Order = display order.
const SettingSpec kSettings[] = {
    {.key = "hf_token",
     .env = "HF_TOKEN",
     .type = Type::kSecret,
     .default_value = "",
     .doc = "Hugging Face access token, sent as a bearer token to the Hub and the metadata URLs",
     .in_file = false,
     .store = [](Config& c, const SettingValue& v) { c.hf_token = As<std::string>(v); }},
    {.key = "hf_endpoint",
     .env = "HF_ENDPOINT",
     .type = Type::kUrl,
     .default_value = "https://huggingface.co",
     .doc = "Base URL of the Hugging Face Hub API",
     .example = "https://huggingface.co",
     .store = [](Config& c, const SettingValue& v) { c.hf_endpoint = As<std::string>(v); }},
    {.key = "prepare_dataset_repo",
     .env = "PREPARE_DATASET_REPO",
     .type = Type::kTarget,
     .default_value = "",
     .doc = "The Space that prepares datasets, restarted when a label reaches its threshold",
     .example = "owner/prepare_dataset",
     .store = [](Config& c, const SettingValue& v) { c.prepare_target = As<std::string>(v); }},
    {.key = "database_url",
     .env = "DATABASE_URL",
     .type = Type::kDatabaseUrl,
     .default_value = "sqlite:///orchestrator.db",
     .doc = "The application's database: postgresql://... or sqlite:///path.db (a password only from the environment)",
     .example = "postgresql://user:password@host:5432/dbname",
     .store = [](Config& c, const SettingValue& v) { c.database = As<DatabaseUrl>(v); }},
    {.key = "correct_ratio",
     .env = "CORRECT_RATIO",
     .type = Type::kRatio,
     .default_value = "0.5",
     .doc = "Correctly classified rows added per misclassified row when computing the dataset length",
     .example = "0.5",
     .store = [](Config& c, const SettingValue& v) { c.correct_ratio = As<double>(v); }},
    {.key = "poll_interval",
     .env = "POLL_INTERVAL",
     .type = Type::kSeconds,
     .default_value = "60",
     .doc = "Seconds between two reads of a label's dataset metadata",
     .example = "60",
     .store = [](Config& c, const SettingValue& v) { c.poll_interval = As<double>(v); }},
    {.key = "poll_timeout",
     .env = "POLL_TIMEOUT",
     .type = Type::kSeconds,
     .default_value = "1800",
     .doc = "Seconds to wait for a new dataset version before giving up on a label",
     .example = "1800",
     .store = [](Config& c, const SettingValue& v) { c.poll_timeout = As<double>(v); }},
    {.key = "dry_run",
     .env = "DRY_RUN",
     .type = Type::kBool,
     .default_value = "false",
     .doc = "Count and decide, but restart no Space",
     .example = "true",
     .store = [](Config& c, const SettingValue& v) { c.dry_run = As<bool>(v); }},
    {.key = "labels",
     .env = "LABELS",
     .type = Type::kList,
     .default_value = "department,urgency",
     .doc = "The labels to watch, comma separated",
     .example = "department,urgency",
     .store =
         [](Config& c, const SettingValue& v) {
           c.labels.clear();
           for (const std::string& name : As<std::vector<std::string>>(v)) {
             LabelConfig label;
             label.name = name;
             label.columns.label = name;
             c.labels.push_back(std::move(label));
           }
         }},
    {.key = "log_format",
     .env = "LOG_FORMAT",
     .type = Type::kChoice,
     .default_value = "text",
     .doc = "How events are written on stderr",
     .example = "json",
     .choices = "text|json",
     .store = [](Config& c, const SettingValue& v) { c.log_format = As<std::string>(v); }},
    {.key = "github_actions",
     .env = "GITHUB_ACTIONS",
     .type = Type::kTrueFlag,
     .default_value = "false",
     .doc = "Set to true by GitHub Actions: events are grouped and annotated",
     .example = "true",
     .store = [](Config& c, const SettingValue& v) { c.github_actions = As<bool>(v); }},
    {.key = "github_step_summary",
     .env = "GITHUB_STEP_SUMMARY",
     .type = Type::kPath,
     .default_value = "",
     .doc = "File that receives the Markdown summary of the run (set by GitHub Actions)",
     .store = [](Config& c, const SettingValue& v) { c.github_step_summary = As<std::string>(v); }},
    {.key = "github_output",
     .env = "GITHUB_OUTPUT",
     .type = Type::kPath,
     .default_value = "",
     .doc = "File that receives the pass's outputs for later steps: status, exit_code, the labels by outcome "
            "(set by GitHub Actions)",
     .store = [](Config& c, const SettingValue& v) { c.github_output = As<std::string>(v); }},
    {.key = "http_connect_timeout",
     .env = "HTTP_CONNECT_TIMEOUT",
     .type = Type::kSeconds,
     .default_value = "10",
     .doc = "Seconds to establish an HTTP connection",
     .example = "10",
     .store = [](Config& c, const SettingValue& v) { c.http.connect_timeout = As<double>(v); }},
    {.key = "http_timeout",
     .env = "HTTP_TIMEOUT",
     .type = Type::kSeconds,
     .default_value = "30",
     .doc = "Seconds for a whole HTTP request",
     .example = "30",
     .store = [](Config& c, const SettingValue& v) { c.http.request_timeout = As<double>(v); }},
    {.key = "http_retries",
     .env = "HTTP_RETRIES",
     .type = Type::kInteger,
     .default_value = "4",
     .doc = "Retries of a failed HTTP request after the first attempt",
     .example = "4",
     .min = 0,
     .max = 100,
     .store = [](Config& c, const SettingValue& v) { c.http.max_retries = static_cast<int>(As<int64_t>(v)); }},
    {.key = "http_retry_base",
     .env = "HTTP_RETRY_BASE",
     .type = Type::kSeconds,
     .default_value = "0.5",
     .doc = "First retry delay in seconds, doubled for each further retry",
     .example = "0.5",
     .store = [](Config& c, const SettingValue& v) { c.http.retry_base = As<double>(v); }},
    {.key = "http_retry_max",
     .env = "HTTP_RETRY_MAX",
     .type = Type::kSeconds,
     .default_value = "30",
     .doc = "Longest retry delay in seconds, also the longest Retry-After honoured",
     .example = "30",
     .store = [](Config& c, const SettingValue& v) { c.http.retry_max = As<double>(v); }},
    {.key = "http_max_connections",
     .env = "HTTP_MAX_CONNECTIONS",
     .type = Type::kInteger,
     .default_value = "16",
     .doc = "Concurrent HTTP transfers at most",
     .example = "16",
     .min = 1,
     .max = 256,
     .store = [](Config& c, const SettingValue& v) { c.http.max_connections = static_cast<int>(As<int64_t>(v)); }},
    {.key = "http_ca_bundle",
     .env = "HTTP_CA_BUNDLE",
     .type = Type::kPath,
     .default_value = "",
     .doc = "File of CA certificates (PEM) HTTPS servers are verified against, instead of the system's (a company's "
            "own authority)",
     .example = "/etc/ssl/certs/company-ca.pem",
     .store = [](Config& c, const SettingValue& v) { c.http.ca_bundle = As<std::string>(v); }},
    {.key = "orchestrator_name",
     .env = "ORCHESTRATOR_NAME",
     .type = Type::kIdentifier,
     .default_value = "orchestrator",
     .doc = "Name of this orchestrator: keys its run lock and its metrics instance",
     .example = "grievances",
     .store = [](Config& c, const SettingValue& v) { c.name = As<std::string>(v); }},
    {.key = "stale_after",
     .env = "STALE_AFTER",
     .type = Type::kSeconds,
     .default_value = "",
     .doc = "Seconds after which an unfinished prepare cycle is abandoned and prepared anew (default 2 x POLL_TIMEOUT)",
     .example = "3600",
     .store = [](Config& c, const SettingValue& v) { c.stale_after = As<double>(v); }},
    {.key = "min_new_rows",
     .env = "MIN_NEW_ROWS",
     .type = Type::kPositiveInteger,
     .default_value = "1",
     .doc = "Reviewed corrections that must be new since a label's last retrained dataset before it is prepared again",
     .example = "50",
     .unit = "rows",
     .min = 1,
     .max = std::numeric_limits<int64_t>::max(),
     .store = [](Config& c, const SettingValue& v) { c.min_new_rows = As<int64_t>(v); }},
    {.key = "retrain_cooldown",
     .env = "RETRAIN_COOLDOWN",
     .type = Type::kDuration,
     .default_value = "",
     .doc = "Least time from a label's retrain to its next prepare, e.g. 24h, 30m, 3600 (none when empty)",
     .example = "24h",
     .store = [](Config& c, const SettingValue& v) { c.retrain_cooldown = As<double>(v); }},
    {.key = "lock_lease",
     .env = "LOCK_LEASE",
     .type = Type::kSeconds,
     .default_value = "60",
     .doc = "Seconds a SQLite run lock lasts unless renewed (a killed pass frees it after this)",
     .example = "60",
     .store = [](Config& c, const SettingValue& v) { c.lock_lease = As<double>(v); }},
    {.key = "alert_webhook_url",
     .env = "ALERT_WEBHOOK_URL",
     .type = Type::kSecretUrl,
     .default_value = "",
     .doc = "Slack-compatible incoming webhook for timeouts, failures and lock contention (off when empty)",
     .example = "https://hooks.slack.com/services/T000/B000/XXXX",
     .in_file = false,
     .store = [](Config& c, const SettingValue& v) { c.alert_webhook_url = As<std::string>(v); }},
    {.key = "pushgateway_url",
     .env = "PUSHGATEWAY_URL",
     .type = Type::kUrl,
     .default_value = "",
     .doc = "Prometheus Pushgateway that receives the pass's metrics under job orchestrator (off when empty)",
     .example = "https://pushgateway.example.com",
     .store = [](Config& c, const SettingValue& v) { c.pushgateway_url = As<std::string>(v); }},
    {.key = "worker_log_dir",
     .env = "WORKER_LOG_DIR",
     .type = Type::kPath,
     .default_value = "orchestrator-logs",
     .doc = "Directory of the command: workers' log files, one per start (created when missing)",
     .example = "/var/log/orchestrator",
     .store = [](Config& c, const SettingValue& v) { c.worker_log_dir = As<std::string>(v); }},
    {.key = "worker_env",
     .env = "WORKER_ENV",
     .type = Type::kString,
     .default_value = "",
     .doc = "More variables of the environment or .env that command: workers get, comma separated (besides the "
            "system's and the settings)",
     .example = "AWS_PROFILE,WANDB_API_KEY",
     .store = [](Config& c, const SettingValue& v) { c.worker_env = As<std::string>(v); }},
    {.key = "webhook_token_env",
     .env = "WEBHOOK_TOKEN_ENV",
     .type = Type::kString,
     .default_value = "WEBHOOK_TOKEN",
     .doc = "Name of the environment variable whose value webhook: triggers send as a bearer token",
     .example = "AIRFLOW_TOKEN",
     .store = [](Config& c, const SettingValue& v) { c.webhook_token_env = As<std::string>(v); }},
    {.key = "decision_threshold",
     .env = "DECISION_THRESHOLD",
     .type = Type::kRatio,
     .default_value = "0.001",
     .doc = "orchestrator retrain deploys a new model only when its macro-F1 beats the deployed one's by more",
     .example = "0.001",
     .store = [](Config& c, const SettingValue& v) { c.decision_threshold = As<double>(v); }},
    {.key = "prepare_seed",
     .env = "PREPARE_SEED",
     .type = Type::kInteger,
     .default_value = "42",
     .doc = "Seed of orchestrator prepare's sample of correct rows and of its splits (same data, same dataset)",
     .example = "42",
     .store = [](Config& c, const SettingValue& v) { c.prepare_seed = As<int64_t>(v); }},
    {.key = "dataset_languages",
     .env = "DATASET_LANGUAGES",
     .type = Type::kString,
     .default_value = "ne,en",
     .doc = "Language codes (ISO 639) of the texts, comma separated, for the `language` of orchestrator prepare's "
            "dataset cards; empty for none",
     .example = "ne,en",
     .store = [](Config& c, const SettingValue& v) { c.dataset_languages = As<std::string>(v); }},
    {.key = "hf_repo_private",
     .env = "HF_REPO_PRIVATE",
     .type = Type::kBool,
     .default_value = "true",
     .doc = "Whether the dataset and model repositories orchestrator prepare and retrain create on the Hub are private "
            "(one that exists keeps its visibility)",
     .example = "false",
     .store = [](Config& c, const SettingValue& v) { c.hf_repo_private = As<bool>(v); }},
    {.key = "serve_listen",
     .env = "SERVE_LISTEN",
     .type = Type::kString,
     .default_value = "127.0.0.1:8080",
     .doc = "Where orchestrator serve listens, HOST:PORT (port 0: any free port); loopback unless told otherwise",
     .example = "127.0.0.1:8080",
     .store = [](Config& c, const SettingValue& v) { c.serve_listen = As<std::string>(v); }},
    {.key = "serve_token",
     .env = "SERVE_TOKEN",
     .type = Type::kSecret,
     .default_value = "",
     .doc =
         "Bearer token orchestrator serve requires to start a pass (POST /api/passes); passes are refused without it",
     .in_file = false,
     .store = [](Config& c, const SettingValue& v) { c.serve_token = As<std::string>(v); }},
    {.key = "serve_schedule",
     .env = "SERVE_SCHEDULE",
     .type = Type::kString,
     .default_value = "",
     .doc = "Interval at which orchestrator serve runs passes itself, e.g. 6h, 30m, 90s (off when empty)",
     .example = "6h",
     .store = [](Config& c, const SettingValue& v) { c.serve_schedule = As<std::string>(v); }},
    {.key = "serve_refresh",
     .env = "SERVE_REFRESH",
     .type = Type::kSeconds,
     .default_value = "60",
     .doc = "Seconds orchestrator serve answers from one status snapshot before a request makes it count again",
     .example = "60",
     .store = [](Config& c, const SettingValue& v) { c.serve_refresh = As<double>(v); }},
    {.key = "github_repository",
     .env = "GITHUB_REPOSITORY",
     .type = Type::kString,
     .default_value = "",
     .doc = "owner/name of the repository whose workflow runs passes (set by GitHub Actions): serve links to the runs",
     .example = "owner/name",
     .store = [](Config& c, const SettingValue& v) { c.github_repository = As<std::string>(v); }},
    // hf-job: workers (Hugging Face Jobs), each also per label for the label's retrain worker.
    {.key = "hf_job_flavor",
     .env = "HF_JOB_FLAVOR",
     .type = Type::kHubName,
     .default_value = "cpu-basic",
     .doc = "Hardware of the hf-job: workers' Jobs (cpu-basic, cpu-upgrade, t4-small, a10g-small, ...)",
     .example = "cpu-upgrade",
     .store = [](Config& c, const SettingValue& v) { c.hf_job.flavor = As<std::string>(v); }},
    {.key = "hf_job_timeout",
     .env = "HF_JOB_TIMEOUT",
     .type = Type::kDuration,
     .default_value = "30m",
     .doc = "How long the Hub lets an hf-job: worker's Job run before it ends it, e.g. 30m, 2h, 1d (at most 7d; the "
            "Hub's default, 30m, when empty)",
     .example = "2h",
     .min = 1,
     .max = kMaxJobTimeout,
     .store = [](Config& c, const SettingValue& v) { c.hf_job.timeout = As<double>(v); }},
    {.key = "hf_job_namespace",
     .env = "HF_JOB_NAMESPACE",
     .type = Type::kHubName,
     .default_value = "",
     .doc = "User or organization whose Jobs the hf-job: workers are (the token's user when empty)",
     .example = "my-org",
     .store = [](Config& c, const SettingValue& v) { c.hf_job.job_namespace = As<std::string>(v); }},
};

// The settings of each label. Keys are relative to labels.<name>.
const SettingSpec kLabelSettings[] = {
    {.key = "threshold",
     .env = "THRESHOLD_{LABEL}",
     .type = Type::kPositiveInteger,
     .default_value = "",
     .doc = "Rows the label's dataset must reach before the prepare Space is restarted",
     .example = "40",
     .unit = "rows",
     .min = 1,
     .max = std::numeric_limits<int64_t>::max(),
     .store_label = [](LabelConfig& l, const SettingValue& v) { l.threshold = As<int64_t>(v); }},
    {.key = "min_new_rows",
     .env = "MIN_NEW_ROWS_{LABEL}",
     .type = Type::kPositiveInteger,
     .default_value = "",
     .doc = "Reviewed corrections that must be new since the label's last retrained dataset (default MIN_NEW_ROWS)",
     .example = "50",
     .unit = "rows",
     .min = 1,
     .max = std::numeric_limits<int64_t>::max(),
     .store_label = [](LabelConfig& l, const SettingValue& v) { l.min_new_rows = As<int64_t>(v); },
     .inherits = "min_new_rows"},
    {.key = "retrain_cooldown",
     .env = "RETRAIN_COOLDOWN_{LABEL}",
     .type = Type::kDuration,
     .default_value = "",
     .doc = "Least time from the label's retrain to its next prepare (default RETRAIN_COOLDOWN)",
     .example = "24h",
     .store_label = [](LabelConfig& l, const SettingValue& v) { l.retrain_cooldown = As<double>(v); },
     .inherits = "retrain_cooldown"},
    {.key = "retrain",
     .env = "RETRAIN_{LABEL}_REPO",
     .type = Type::kTarget,
     .default_value = "",
     .doc = "The Space that retrains the label's model",
     .example = "owner/retrain_{label}",
     .store_label = [](LabelConfig& l, const SettingValue& v) { l.retrain_target = As<std::string>(v); }},
    {.key = "metadata_url",
     .env = "HF_HUB_METADATA_{LABEL}",
     .type = Type::kMetadataUrl,
     .default_value = "",
     .doc = "URL of the label's dataset_metadata.json",
     .example = "https://huggingface.co/datasets/owner/name/resolve/main/dataset_metadata.json",
     .store_label = [](LabelConfig& l, const SettingValue& v) { l.metadata_url = As<std::string>(v); }},
    {.key = "predicted_column",
     .env = "",
     .type = Type::kIdentifier,
     .default_value = "model_predicted_{label}",
     .doc = "misclassified_complaints column holding the model's prediction",
     .example = "model_predicted_{label}",
     .store_label = [](LabelConfig& l, const SettingValue& v) { l.columns.predicted = As<std::string>(v); }},
    {.key = "correct_column",
     .env = "",
     .type = Type::kIdentifier,
     .default_value = "correct_{label}",
     .doc = "misclassified_complaints column holding the reviewer's correction",
     .example = "correct_{label}",
     .store_label = [](LabelConfig& l, const SettingValue& v) { l.columns.correct = As<std::string>(v); }},
    {.key = "pool_column",
     .env = "",
     .type = Type::kIdentifier,
     .default_value = "{label}",
     .doc = "complaints column holding the label",
     .example = "{label}",
     .store_label = [](LabelConfig& l, const SettingValue& v) { l.columns.pool = As<std::string>(v); }},
    {.key = "misclassified_sql",
     .env = "",
     .type = Type::kSql,
     .default_value = "",
     .doc = "Query counting the label's misclassified rows, instead of the built-in one",
     .store_label = [](LabelConfig& l, const SettingValue& v) { l.misclassified_sql = As<std::string>(v); }},
    {.key = "pool_sql",
     .env = "",
     .type = Type::kSql,
     .default_value = "",
     .doc = "Query counting the label's pool of correct rows, instead of the built-in one",
     .store_label = [](LabelConfig& l, const SettingValue& v) { l.pool_sql = As<std::string>(v); }},
    {.key = "hf_job_flavor",
     .env = "HF_JOB_FLAVOR_{LABEL}",
     .type = Type::kHubName,
     .default_value = "",
     .doc = "Hardware of the label's hf-job: retrain worker (default HF_JOB_FLAVOR)",
     .example = "a10g-small",
     .store_label = [](LabelConfig& l, const SettingValue& v) { l.hf_job.flavor = As<std::string>(v); },
     .inherits = "hf_job_flavor"},
    {.key = "hf_job_timeout",
     .env = "HF_JOB_TIMEOUT_{LABEL}",
     .type = Type::kDuration,
     .default_value = "",
     .doc = "How long the Hub lets the label's hf-job: retrain worker run (default HF_JOB_TIMEOUT)",
     .example = "2h",
     .min = 1,
     .max = kMaxJobTimeout,
     .store_label = [](LabelConfig& l, const SettingValue& v) { l.hf_job.timeout = As<double>(v); },
     .inherits = "hf_job_timeout"},
    {.key = "hf_job_namespace",
     .env = "HF_JOB_NAMESPACE_{LABEL}",
     .type = Type::kHubName,
     .default_value = "",
     .doc = "User or organization whose Jobs the label's hf-job: retrain worker is (default HF_JOB_NAMESPACE)",
     .example = "my-org",
     .store_label = [](LabelConfig& l, const SettingValue& v) { l.hf_job.job_namespace = As<std::string>(v); },
     .inherits = "hf_job_namespace"},
};

// The thresholds of the original program, for its two labels.
struct BuiltInThreshold {
  std::string_view label;
  std::string_view rows;
};
constexpr BuiltInThreshold kBuiltInThresholds[] = {{"department", "40"}, {"urgency", "30"}};

std::string ReplaceAll(std::string_view text, std::string_view from, std::string_view to) {
  std::string result;
  size_t start = 0;
  for (size_t found; (found = text.find(from, start)) != std::string_view::npos; start = found + from.size())
    result.append(text.substr(start, found - start)).append(to);
  return result.append(text.substr(start));
}

// "NAME="value" (where)": the start of every message about a value. Secrets are not quoted.
std::string Subject(const SettingSpec& spec, const RawSetting& raw) {
  bool secret = spec.type == Type::kSecret || spec.type == Type::kDatabaseUrl || spec.type == Type::kSecretUrl;
  std::string value = secret ? "" : "=" + QuoteForMessage(raw.text);
  return raw.name + value + " (" + raw.where + ")";
}

std::string ExampleFor(const SettingSpec& spec, const RawSetting& raw) {
  if (spec.example.empty()) return "";
  std::string example = ReplaceAll(spec.example, "{label}", raw.label);
  bool in_file_syntax = raw.origin == Origin::kFile || raw.origin == Origin::kDefault || spec.env.empty();
  return ", e.g. " + raw.name + (in_file_syntax ? " = " : "=") + example;
}

[[noreturn]] void Reject(const SettingSpec& spec, const RawSetting& raw, const std::string& problem) {
  throw ConfigError(Subject(spec, raw) + ": " + problem);
}

[[noreturn]] void RejectExpected(const SettingSpec& spec, const RawSetting& raw, const std::string& expected) {
  Reject(spec, raw, "expected " + expected + ExampleFor(spec, raw));
}

std::optional<double> ParseDecimal(std::string_view text) {
  double number = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || !std::isfinite(number))
    return std::nullopt;
  return number;
}

std::string IntegerExpectation(const SettingSpec& spec) {
  std::string unit = spec.unit.empty() ? "" : " of " + std::string(spec.unit);
  bool unbounded = spec.max == std::numeric_limits<int64_t>::max() || spec.max == std::numeric_limits<int32_t>::max();
  if (spec.type == Type::kPositiveInteger && unbounded) return "a positive whole number" + unit;
  if (unbounded) return "a whole number" + unit + " >= " + std::to_string(spec.min);
  return "a whole number" + unit + " from " + std::to_string(spec.min) + " to " + std::to_string(spec.max);
}

SettingValue ParseIntegerSetting(const SettingSpec& spec, const RawSetting& raw) {
  std::optional<int64_t> number = ParseInteger(Trim(raw.text));
  int64_t min = spec.type == Type::kPositiveInteger ? std::max<int64_t>(spec.min, 1) : spec.min;
  if (!number || *number < min || *number > spec.max) RejectExpected(spec, raw, IntegerExpectation(spec));
  return *number;
}

SettingValue ParseSeconds(const SettingSpec& spec, const RawSetting& raw) {
  if (raw.text.empty() && spec.default_value.empty()) return 0.0;  // optional: derived from other settings
  std::optional<double> seconds = ParseDecimal(Trim(raw.text));
  if (!seconds || *seconds <= 0 || *seconds > kMaxSeconds)
    RejectExpected(
        spec, raw,
        "a number of seconds greater than 0 and at most " + FormatNumber(kMaxSeconds) + " (decimals allowed)");
  return *seconds;
}

SettingValue ParseDurationSetting(const SettingSpec& spec, const RawSetting& raw) {
  if (Trim(raw.text).empty()) return 0.0;  // none
  std::optional<double> seconds = ParseInterval(raw.text);
  // A setting with bounds of its own (spec.max below a year) names them.
  const bool bounded = static_cast<double>(spec.max) < kMaxSeconds;
  if (bounded && seconds && (*seconds < static_cast<double>(spec.min) || *seconds > static_cast<double>(spec.max)))
    seconds.reset();
  if (!seconds)
    RejectExpected(spec, raw,
                   bounded ? "a duration from " + FormatInterval(static_cast<double>(spec.min)) + " to " +
                                 FormatInterval(static_cast<double>(spec.max)) +
                                 ": seconds, or a number then s, m, h or d (none when empty)"
                           : "a duration greater than 0 and at most a year: seconds, or a number then s, m, h or d "
                             "(none when empty)");
  return *seconds;
}

// A Hub user or organization, or a hardware flavor: letters, digits, '-', '_' and '.', not starting
// with '-' or '.'; "" when optional and unset.
SettingValue ParseHubName(const SettingSpec& spec, const RawSetting& raw) {
  const std::string name(Trim(raw.text));
  if (name.empty() && spec.default_value.empty()) return name;
  const bool valid = !name.empty() && name.size() <= kMaxHubNameBytes && name.front() != '-' && name.front() != '.' &&
                     std::all_of(name.begin(), name.end(), [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                              c == '_' || c == '.';
                     });
  if (!valid)
    RejectExpected(spec, raw,
                   "a name of letters, digits, '-', '_' and '.' (not starting with '-' or '.', at most " +
                       std::to_string(kMaxHubNameBytes) + " bytes)");
  return name;
}

SettingValue ParseRatio(const SettingSpec& spec, const RawSetting& raw) {
  std::optional<double> ratio = ParseDecimal(Trim(raw.text));
  if (!ratio || *ratio < 0 || *ratio > 100) RejectExpected(spec, raw, "a decimal number from 0 to 100");
  return *ratio;
}

SettingValue ParseBool(const SettingSpec& spec, const RawSetting& raw) {
  std::string word = ToLower(Trim(raw.text));
  if (word == "1" || word == "true" || word == "yes" || word == "on") return true;
  if (word.empty() || word == "0" || word == "false" || word == "no" || word == "off") return false;
  RejectExpected(spec, raw, "true or false (also 1/0, yes/no, on/off)");
}

SettingValue ParseChoice(const SettingSpec& spec, const RawSetting& raw) {
  std::string word = ToLower(Trim(raw.text));
  std::string_view choices = spec.choices;
  for (size_t start = 0; start <= choices.size();) {
    size_t bar = std::min(choices.find('|', start), choices.size());
    if (choices.substr(start, bar - start) == word) return word;
    start = bar + 1;
  }
  RejectExpected(spec, raw, "one of " + ReplaceAll(spec.choices, "|", ", "));
}

SettingValue ParseTargetSetting(const SettingSpec& spec, const RawSetting& raw) {
  if (raw.text.empty()) return std::string();
  try {
    ParseTarget(raw.text);
  } catch (const ConfigError& error) {
    Reject(spec, raw, error.what() + ExampleFor(spec, raw));
  }
  return raw.text;
}

SettingValue ParseUrl(const SettingSpec& spec, const RawSetting& raw) {
  std::string url = raw.text;
  if (url.empty() && spec.default_value.empty()) return url;  // an optional URL left unset
  if (spec.type == Type::kUrl || spec.type == Type::kSecretUrl)
    while (!url.empty() && url.back() == '/') url.pop_back();
  std::string problem = UrlPolicyProblem(url, spec.type == Type::kMetadataUrl);
  if (!problem.empty()) Reject(spec, raw, problem + ExampleFor(spec, raw));
  return url;
}

// A token travels in an HTTP header: surrounding blanks (a copy-paste slip) are dropped, and a
// space or control character inside would split the header, so it is refused.
SettingValue ParseSecret(const SettingSpec& spec, const RawSetting& raw) {
  std::string_view token = Trim(raw.text);
  bool one_word = std::none_of(token.begin(), token.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) == 0x7f;
  });
  if (!one_word) Reject(spec, raw, "contains a space or control character; a token is a single word");
  return std::string(token);
}

SettingValue ParseDatabase(const SettingSpec& spec, const RawSetting& raw) {
  DatabaseUrl database;
  try {
    database = ParseDatabaseUrl(raw.text);
  } catch (const ConfigError& error) {
    Reject(spec, raw, error.what());
  }
  if (raw.origin == Origin::kFile && database.redacted != raw.text)
    Reject(spec, raw,
           "holds a password, and secrets are never read from the file; set " + std::string(spec.env) +
               " in the environment or .env");
  return database;
}

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> items;
  if (Trim(text).empty()) return items;
  for (size_t start = 0; start <= text.size();) {
    size_t comma = std::min(text.find(',', start), text.size());
    items.emplace_back(Trim(text.substr(start, comma - start)));
    start = comma + 1;
  }
  return items;
}

SettingValue ParseList(const SettingSpec& spec, const RawSetting& raw) {
  std::vector<std::string> names = raw.items ? *raw.items : SplitList(raw.text);
  if (names.empty()) RejectExpected(spec, raw, "at least one label name");
  std::set<std::string> seen;
  for (const std::string& name : names) {
    std::string problem = LabelNameProblem(name);
    if (!problem.empty()) Reject(spec, raw, problem);
    if (!seen.insert(name).second) Reject(spec, raw, "the label " + QuoteForMessage(name) + " is listed twice");
  }
  return names;
}

SettingValue ParseIdentifier(const SettingSpec& spec, const RawSetting& raw) {
  if (!IsValidIdentifier(raw.text))
    RejectExpected(spec, raw,
                   "an SQL identifier: a lower-case letter or '_', then lower-case letters, digits or '_', "
                   "63 characters at most");
  return raw.text;
}

}  // namespace

const char* SettingTypeName(SettingType type) {
  switch (type) {
    case Type::kString: return "string";
    case Type::kSecret: return "secret";
    case Type::kSecretUrl: return "secret url";
    case Type::kBool: return "bool";
    case Type::kTrueFlag: return "flag (true only)";
    case Type::kInteger: return "integer";
    case Type::kPositiveInteger: return "positive integer";
    case Type::kSeconds: return "seconds";
    case Type::kDuration: return "duration";
    case Type::kRatio: return "ratio";
    case Type::kUrl: return "url";
    case Type::kMetadataUrl: return "url or file";
    case Type::kDatabaseUrl: return "database url";
    case Type::kTarget: return "space";
    case Type::kChoice: return "choice";
    case Type::kList: return "list";
    case Type::kIdentifier: return "sql identifier";
    case Type::kSql: return "sql";
    case Type::kPath: return "path";
    case Type::kHubName: return "hub name";
  }
  return "string";
}

std::span<const SettingSpec> Settings() { return kSettings; }
std::span<const SettingSpec> LabelSettings() { return kLabelSettings; }

const SettingSpec* FindSetting(std::string_view key) {
  for (const SettingSpec& spec : kSettings)
    if (spec.key == key) return &spec;
  return nullptr;
}

const SettingSpec* FindLabelSetting(std::string_view key) {
  for (const SettingSpec& spec : kLabelSettings)
    if (spec.key == key) return &spec;
  return nullptr;
}

std::optional<std::string> LabelDefault(const SettingSpec& spec, std::string_view label) {
  if (spec.store_label && spec.key == "threshold") {
    for (const BuiltInThreshold& built_in : kBuiltInThresholds)
      if (built_in.label == label) return std::string(built_in.rows);
    return std::nullopt;
  }
  if (!spec.inherits.empty()) return std::string(FindSetting(spec.inherits)->default_value);
  return ReplaceAll(spec.default_value, "{label}", label);
}

std::string LabelEnvName(const SettingSpec& spec, std::string_view label_spelling) {
  return ReplaceAll(spec.env, "{LABEL}", label_spelling);
}

SettingValue ParseSetting(const SettingSpec& spec, const RawSetting& raw) {
  switch (spec.type) {
    case Type::kSecret: return ParseSecret(spec, raw);
    case Type::kString:
    case Type::kSql:
    case Type::kPath: return raw.text;
    case Type::kBool: return ParseBool(spec, raw);
    case Type::kTrueFlag: return Trim(raw.text) == "true";
    case Type::kInteger:
    case Type::kPositiveInteger: return ParseIntegerSetting(spec, raw);
    case Type::kSeconds: return ParseSeconds(spec, raw);
    case Type::kDuration: return ParseDurationSetting(spec, raw);
    case Type::kRatio: return ParseRatio(spec, raw);
    case Type::kUrl:
    case Type::kSecretUrl:
    case Type::kMetadataUrl: return ParseUrl(spec, raw);
    case Type::kDatabaseUrl: return ParseDatabase(spec, raw);
    case Type::kTarget: return ParseTargetSetting(spec, raw);
    case Type::kChoice: return ParseChoice(spec, raw);
    case Type::kList: return ParseList(spec, raw);
    case Type::kIdentifier: return ParseIdentifier(spec, raw);
    case Type::kHubName: return ParseHubName(spec, raw);
  }
  return raw.text;
}

std::string DisplaySetting(const SettingSpec& spec, const SettingValue& value) {
  if (spec.type == Type::kSecret || spec.type == Type::kSecretUrl)
    return As<std::string>(value).empty() ? "" : std::string(kMasked);
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  if (const auto* flag = std::get_if<bool>(&value)) return *flag ? "true" : "false";
  if (const auto* integer = std::get_if<int64_t>(&value)) return std::to_string(*integer);
  if (const auto* number = std::get_if<double>(&value)) {
    if (*number == 0 && spec.default_value.empty()) return "";  // unset optional seconds, no duration
    return spec.type == Type::kDuration ? FormatInterval(*number) : FormatNumber(*number);
  }
  if (const auto* database = std::get_if<DatabaseUrl>(&value)) return database->redacted;
  std::string joined;
  for (const std::string& item : As<std::vector<std::string>>(value)) joined += (joined.empty() ? "" : ",") + item;
  return joined;
}

}  // namespace orch
