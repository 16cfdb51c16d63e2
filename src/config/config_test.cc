#include "config/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "config/env_file.h"
#include "support/temp_dir.h"
#include "util/error.h"

namespace orch {
namespace {

using orch::testing::TempDir;
using orch::testing::WriteFile;

// Loads configurations from real files in a temporary directory. The .env is always named
// explicitly (empty unless a test writes one), so ./.env of the test's directory never leaks in.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(dir_.File("empty.env"), "");
    sources_.env_file = dir_.File("empty.env");
  }

  void Env(const std::string& name, const std::string& value) { sources_.environment[name] = value; }
  void DotEnv(const std::string& text) {
    WriteFile(dir_.File(".env"), text);
    sources_.env_file = dir_.File(".env");
  }
  void Toml(const std::string& text) {
    WriteFile(dir_.File("orchestrator.toml"), text);
    sources_.config_file = dir_.File("orchestrator.toml");
  }
  std::string TomlPath() const { return dir_.File("orchestrator.toml"); }

  Config Load() const { return LoadConfig(sources_); }

  std::string Error() const {
    try {
      LoadConfig(sources_);
    } catch (const ConfigError& error) {
      return error.what();
    }
    return "<no ConfigError>";
  }

  static const ConfigValue& Value(const Config& config, const std::string& key) {
    for (const ConfigValue& value : config.values)
      if (value.key == key) return value;
    throw std::runtime_error("no value " + key);
  }

  static const LabelConfig& Label(const Config& config, const std::string& name) {
    for (const LabelConfig& label : config.labels)
      if (label.name == name) return label;
    throw std::runtime_error("no label " + name);
  }

  TempDir dir_{"orch-config"};
  ConfigSources sources_;
};

::testing::AssertionResult Contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" not in:\n" << text;
}

// ---- Defaults and display ----------------------------------------------------------------------

TEST_F(ConfigTest, DefaultsAreTheOriginals) {
  Config config = Load();
  EXPECT_EQ(config.hf_endpoint, "https://huggingface.co");
  EXPECT_EQ(config.hf_token, "");
  EXPECT_EQ(config.database.kind, DatabaseUrl::Kind::kSqlite);
  EXPECT_EQ(config.database.target, "orchestrator.db");
  EXPECT_EQ(config.correct_ratio, 0.5);
  EXPECT_EQ(config.poll_interval, 60);
  EXPECT_EQ(config.poll_timeout, 1800);
  EXPECT_FALSE(config.dry_run);
  EXPECT_EQ(config.log_format, "text");
  EXPECT_EQ(config.http.max_retries, 4);
  EXPECT_EQ(config.http.max_connections, 16);
  EXPECT_EQ(config.http.retry_base, 0.5);
  ASSERT_EQ(config.labels.size(), 2u);
  EXPECT_EQ(config.labels[0].name, "department");
  EXPECT_EQ(config.labels[0].threshold, 40);
  EXPECT_EQ(config.labels[0].columns.predicted, "model_predicted_department");
  EXPECT_EQ(config.labels[0].columns.correct, "correct_department");
  EXPECT_EQ(config.labels[0].columns.pool, "department");
  EXPECT_EQ(config.labels[0].columns.label, "department");
  EXPECT_EQ(config.labels[1].name, "urgency");
  EXPECT_EQ(config.labels[1].threshold, 30);
  for (const ConfigValue& value : config.values) EXPECT_EQ(value.origin, Origin::kDefault) << value.key;
}

TEST_F(ConfigTest, FormatConfigListsEverySettingInTableOrderThenPerLabel) {
  std::string text = FormatConfig(Load());
  EXPECT_EQ(text.rfind("(default) hf_token = \n", 0), 0u) << text;
  EXPECT_TRUE(Contains(text, "\n(default) poll_interval = 60\n"));
  EXPECT_TRUE(Contains(text, "\n(default) database_url = sqlite:///orchestrator.db\n"));
  EXPECT_TRUE(Contains(text, "\n(default) labels = department,urgency\n"));
  EXPECT_TRUE(Contains(text, "\n(default) labels.department.threshold = 40\n"));
  EXPECT_TRUE(Contains(text, "\n(default) labels.urgency.pool_column = urgency\n"));
  size_t http = text.find("http_max_connections");
  size_t department = text.find("labels.department.threshold");
  size_t urgency = text.find("labels.urgency.threshold");
  EXPECT_LT(text.find("poll_interval"), http);
  EXPECT_LT(http, department);
  EXPECT_LT(department, urgency);
}

TEST_F(ConfigTest, AnUnsetStaleAfterShowsTheValueItDerives) {
  Env("POLL_TIMEOUT", "900");
  EXPECT_NE(FormatConfig(Load()).find("(default) stale_after = 1800 (2 x poll_timeout)\n"), std::string::npos)
      << FormatConfig(Load());
  Env("STALE_AFTER", "600");
  EXPECT_NE(FormatConfig(Load()).find("(environment) stale_after = 600\n"), std::string::npos);
}

TEST_F(ConfigTest, MinNewRowsAndTheCooldownApplyToEveryLabelUnlessOneHasItsOwn) {
  Config defaults = Load();
  EXPECT_EQ(Label(defaults, "department").min_new_rows, 1);
  EXPECT_EQ(Label(defaults, "department").retrain_cooldown, 0);
  Env("MIN_NEW_ROWS", "50");
  Env("MIN_NEW_ROWS_URGENCY", "5");
  Env("RETRAIN_COOLDOWN", "24h");
  Toml("[labels.department]\n[labels.urgency]\nretrain_cooldown = 90\n");
  Config config = Load();
  EXPECT_EQ(Label(config, "department").min_new_rows, 50);
  EXPECT_EQ(Label(config, "urgency").min_new_rows, 5);
  EXPECT_EQ(Label(config, "department").retrain_cooldown, 86400);
  EXPECT_EQ(Label(config, "urgency").retrain_cooldown, 90);
  const std::string shown = FormatConfig(config);
  EXPECT_TRUE(Contains(shown, "(environment) labels.department.min_new_rows = 50\n"));
  EXPECT_TRUE(Contains(shown, "(environment) retrain_cooldown = 1d\n"));
  EXPECT_TRUE(Contains(shown, "(file) labels.urgency.retrain_cooldown = 90s\n"));
}

TEST_F(ConfigTest, ABadMinNewRowsOrCooldownNamesTheVariableAndAnExample) {
  Env("MIN_NEW_ROWS_DEPARTMENT", "0");
  EXPECT_TRUE(
      Contains(Error(), "MIN_NEW_ROWS_DEPARTMENT=\"0\" (environment): expected a positive whole number of rows"));
  sources_.environment.clear();
  Env("RETRAIN_COOLDOWN", "soon");
  EXPECT_TRUE(Contains(Error(), "RETRAIN_COOLDOWN=\"soon\" (environment): expected a duration"));
  EXPECT_TRUE(Contains(Error(), "e.g. RETRAIN_COOLDOWN=24h"));
}

TEST_F(ConfigTest, CommandWorkersGetTheSettingsWhereverTheyCameFromAndOnlyWhatTheyNeed) {
  Env("PATH", "/usr/bin:/bin");
  Env("LC_ALL", "C.UTF-8");
  Env("HF_TOKEN", "hf_secret");
  Env("ALERT_WEBHOOK_URL", "https://hooks.example/T0/B0/XX");
  Env("SERVE_TOKEN", "serve_secret");
  Env("UNRELATED_TOKEN", "not for workers");
  Env("WANDB_API_KEY", "wandb");
  Env("WORKER_ENV", "WANDB_API_KEY, AWS_PROFILE");
  DotEnv("DATABASE_URL=sqlite:///app.db\nAWS_PROFILE=training\nTHRESHOLD_DEPT=12\nUNRELATED=x\n");
  Toml("poll_interval = 5\n");
  const Config config = Load();
  std::vector<std::string> environment = config.worker_environment;
  std::sort(environment.begin(), environment.end());
  EXPECT_EQ(environment, (std::vector<std::string>{
                             "AWS_PROFILE=training", "DATABASE_URL=sqlite:///app.db", "HF_TOKEN=hf_secret",
                             "LC_ALL=C.UTF-8", "ORCHESTRATOR_CONFIG=" + TomlPath(), "PATH=/usr/bin:/bin",
                             "THRESHOLD_DEPT=12", "WANDB_API_KEY=wandb", "WORKER_ENV=WANDB_API_KEY, AWS_PROFILE"}));
}

TEST_F(ConfigTest, OrchestratorConfigNamesTheFileWhenNoConfigOptionDoes) {
  Toml("poll_interval = 7\n");
  const std::string path = TomlPath();
  sources_.config_file.reset();
  Env("ORCHESTRATOR_CONFIG", path);
  EXPECT_EQ(Load().poll_interval, 7);
}

TEST_F(ConfigTest, WorkerEnvRefusesWhatIsNotAVariableName) {
  Env("WORKER_ENV", "GOOD,not-a-name");
  EXPECT_TRUE(Contains(Error(), "WORKER_ENV names \"not-a-name\", which is not a variable name"));
}

TEST_F(ConfigTest, TheWebhookTokenMayNotBeAnotherServicesCredential) {
  for (const char* name : {"HF_TOKEN", "SERVE_TOKEN", "DATABASE_URL", "ALERT_WEBHOOK_URL"}) {
    Env("WEBHOOK_TOKEN_ENV", name);
    EXPECT_TRUE(Contains(Error(), std::string("names ") + name + ", a credential for another service")) << name;
  }
  Env("WEBHOOK_TOKEN_ENV", "AIRFLOW_TOKEN");
  EXPECT_EQ(Load().webhook_token_env, "AIRFLOW_TOKEN");
}

TEST_F(ConfigTest, SecretsAreEveryCredentialHeld) {
  Env("HF_TOKEN", "hf_abc");
  Env("SERVE_TOKEN", "serve_abc");
  Env("DATABASE_URL", "postgresql://u:pw_abc@db.example/app");
  Env("WEBHOOK_TOKEN_ENV", "AIRFLOW_TOKEN");
  std::map<std::string, std::string> environment = {{"AIRFLOW_TOKEN", "air_abc"}};
  std::vector<std::string> secrets = Secrets(Load(), environment);
  std::sort(secrets.begin(), secrets.end());
  EXPECT_EQ(secrets, (std::vector<std::string>{"air_abc", "hf_abc", "pw_abc", "serve_abc"}));
}

TEST_F(ConfigTest, AVariableThatLooksLikeASettingIsNamedWithTheOneItMeant) {
  Env("POLL_TIMOUT", "60");
  Env("GITHUB_ACTION", "run");  // GitHub's own, one letter from GITHUB_ACTIONS
  Env("HOME", "/root");
  DotEnv("THRESHOLD_TOPIC=10\nHF_TOKN=x\n");
  const std::vector<std::string> warnings = Load().warnings;
  ASSERT_EQ(warnings.size(), 3u) << ::testing::PrintToString(warnings);
  std::string all;
  for (const std::string& warning : warnings) all += warning + "\n";
  EXPECT_TRUE(Contains(all, "POLL_TIMOUT (environment) is not a setting; did you mean POLL_TIMEOUT?"));
  EXPECT_TRUE(Contains(all, "HF_TOKN (in " + dir_.File(".env") + ") is not a setting; did you mean HF_TOKEN?"));
  EXPECT_TRUE(Contains(all, "THRESHOLD_TOPIC (in " + dir_.File(".env") + ") sets threshold"));
  EXPECT_TRUE(Contains(all, "sets threshold for the label \"topic\", which is not configured: add it to LABELS"));
}

TEST_F(ConfigTest, ValuesNameTheirVariable) {
  Config config = Load();
  EXPECT_EQ(Value(config, "poll_interval").env, "POLL_INTERVAL");
  EXPECT_EQ(Value(config, "labels.department.threshold").env, "THRESHOLD_DEPARTMENT");
  EXPECT_EQ(Value(config, "labels.department.retrain").env, "RETRAIN_DEPARTMENT_REPO");
  EXPECT_EQ(Value(config, "labels.department.pool_sql").env, "");
}

TEST_F(ConfigTest, OriginNames) {
  EXPECT_STREQ(OriginName(Origin::kDefault), "default");
  EXPECT_STREQ(OriginName(Origin::kFile), "file");
  EXPECT_STREQ(OriginName(Origin::kDotEnv), ".env");
  EXPECT_STREQ(OriginName(Origin::kEnvironment), "environment");
  EXPECT_STREQ(OriginName(Origin::kCommandLine), "command line");
}

// ---- Sources and precedence --------------------------------------------------------------------

TEST_F(ConfigTest, FileThenDotEnvThenEnvironmentThenCommandLine) {
  Toml("poll_interval = 10\npoll_timeout = 11\nhttp_timeout = 12\nhttp_retries = 3\n");
  DotEnv("POLL_INTERVAL=20\nPOLL_TIMEOUT=21\nHTTP_TIMEOUT=22\n");
  Env("POLL_INTERVAL", "30");
  Env("POLL_TIMEOUT", "31");
  sources_.command_line["POLL_INTERVAL"] = "40";
  Config config = Load();
  EXPECT_EQ(config.poll_interval, 40);
  EXPECT_EQ(config.poll_timeout, 31);
  EXPECT_EQ(config.http.request_timeout, 22);
  EXPECT_EQ(config.http.max_retries, 3);
  EXPECT_EQ(config.correct_ratio, 0.5);
  std::string text = FormatConfig(config);
  EXPECT_TRUE(Contains(text, "(command line) poll_interval = 40\n"));
  EXPECT_TRUE(Contains(text, "(environment) poll_timeout = 31\n"));
  EXPECT_TRUE(Contains(text, "(.env) http_timeout = 22\n"));
  EXPECT_TRUE(Contains(text, "(file) http_retries = 3\n"));
  EXPECT_TRUE(Contains(text, "(default) correct_ratio = 0.5\n"));
}

TEST_F(ConfigTest, DotEnvNeverOverridesTheEnvironment) {
  DotEnv("HF_TOKEN=from_dotenv\nPOLL_INTERVAL=7\nDRY_RUN=1\n");
  Env("HF_TOKEN", "from_environment");
  Env("POLL_INTERVAL", "5");
  Config config = Load();
  EXPECT_EQ(config.hf_token, "from_environment");
  EXPECT_EQ(config.poll_interval, 5);
  EXPECT_TRUE(config.dry_run);
  EXPECT_EQ(Value(config, "dry_run").origin, Origin::kDotEnv);
  EXPECT_EQ(Value(config, "hf_token").origin, Origin::kEnvironment);
}

TEST_F(ConfigTest, EmptyVariablesCountAsNotSet) {
  DotEnv("HF_TOKEN=from_dotenv\nPOLL_TIMEOUT=\n");
  Env("HF_TOKEN", "");
  Env("POLL_INTERVAL", "");
  Env("LABELS", "");
  Env("THRESHOLD_DEPARTMENT", "");
  Config config = Load();
  EXPECT_EQ(config.hf_token, "from_dotenv");
  EXPECT_EQ(Value(config, "hf_token").origin, Origin::kDotEnv);
  EXPECT_EQ(config.poll_interval, 60);
  EXPECT_EQ(config.poll_timeout, 1800);
  EXPECT_EQ(Value(config, "poll_interval").origin, Origin::kDefault);
  EXPECT_EQ(config.labels.size(), 2u);
  EXPECT_EQ(Label(config, "department").threshold, 40);
}

TEST_F(ConfigTest, DotEnvInTheWorkingDirectoryIsReadWhenPresent) {
  struct WorkingDirectory {  // restores the test process's directory whatever happens
    std::filesystem::path saved = std::filesystem::current_path();
    ~WorkingDirectory() { std::filesystem::current_path(saved); }
  } restore;
  std::filesystem::current_path(dir_.path());
  sources_.env_file.reset();
  EXPECT_EQ(Load().poll_interval, 60);  // no ./.env: fine
  WriteFile(dir_.File(".env"), "POLL_INTERVAL=7\n");
  Config config = Load();
  EXPECT_EQ(config.poll_interval, 7);
  EXPECT_EQ(Value(config, "poll_interval").origin, Origin::kDotEnv);
}

TEST_F(ConfigTest, ANamedEnvFileMustExist) {
  sources_.env_file = dir_.File("absent.env");
  EXPECT_TRUE(Contains(Error(), "absent.env\" does not exist"));
}

TEST_F(ConfigTest, MalformedDotEnvNamesFileAndLine) {
  DotEnv("A=1\nthis is not valid\n");
  EXPECT_TRUE(Contains(Error(), dir_.File(".env") + ":2: "));
}

TEST_F(ConfigTest, UnknownVariablesAreIgnoredButUnknownOptionsAreNot) {
  DotEnv("SOMETHING_ELSE=1\nPATH_LIKE=/x\n");
  Env("UNRELATED", "x");
  EXPECT_NO_THROW(Load());
  sources_.command_line["POL_INTERVAL"] = "3";
  EXPECT_EQ(Error(), "unknown setting \"POL_INTERVAL\" on the command line");
}

TEST_F(ConfigTest, CommandLineSetsPerLabelVariables) {
  sources_.command_line["THRESHOLD_URGENCY"] = "3";
  sources_.command_line["DRY_RUN"] = "1";
  Config config = Load();
  EXPECT_EQ(Label(config, "urgency").threshold, 3);
  EXPECT_EQ(Value(config, "labels.urgency.threshold").origin, Origin::kCommandLine);
  EXPECT_TRUE(config.dry_run);
}

// ---- Values of every type ---------------------------------------------------------------------

TEST_F(ConfigTest, ThresholdIsARowCountNotAPercentage) {
  Env("THRESHOLD_DEPARTMENT", "40%");
  EXPECT_EQ(Error(),
            "THRESHOLD_DEPARTMENT=\"40%\" (environment): expected a positive whole number of rows, "
            "e.g. THRESHOLD_DEPARTMENT=40");
  for (const char* bad : {"0", "-3", "1.5", "abc", " ", "99999999999999999999"}) {
    Env("THRESHOLD_DEPARTMENT", bad);
    EXPECT_TRUE(Contains(Error(), "expected a positive whole number of rows")) << bad;
  }
  Env("THRESHOLD_DEPARTMENT", "120");
  EXPECT_EQ(Label(Load(), "department").threshold, 120);
}

struct BadValue {
  const char* name;
  const char* value;
  const char* message;
};

TEST_F(ConfigTest, BadValuesAreRefusedWithWhatWasExpected) {
  const BadValue bad_values[] = {
      {"POLL_INTERVAL", "0", "expected a number of seconds greater than 0 and at most 31536000"},
      {"POLL_INTERVAL", "-1", "expected a number of seconds greater than 0"},
      {"POLL_INTERVAL", "soon", "e.g. POLL_INTERVAL=60"},
      {"POLL_INTERVAL", "nan", "expected a number of seconds"},
      {"POLL_INTERVAL", "inf", "expected a number of seconds"},
      {"POLL_INTERVAL", "1e12", "at most 31536000"},
      {"POLL_TIMEOUT", "30m", "e.g. POLL_TIMEOUT=1800"},
      {"HTTP_TIMEOUT", "0x10", "expected a number of seconds"},
      {"CORRECT_RATIO", "-0.1", "expected a decimal number from 0 to 100"},
      {"CORRECT_RATIO", "100.5", "expected a decimal number from 0 to 100"},
      {"CORRECT_RATIO", "half", "e.g. CORRECT_RATIO=0.5"},
      {"DRY_RUN", "maybe", "expected true or false (also 1/0, yes/no, on/off)"},
      {"DRY_RUN", "2", "expected true or false"},
      {"HTTP_RETRIES", "-1", "expected a whole number from 0 to 100, e.g. HTTP_RETRIES=4"},
      {"HTTP_RETRIES", "1.5", "expected a whole number from 0 to 100"},
      {"HTTP_RETRIES", "101", "expected a whole number from 0 to 100"},
      {"HTTP_MAX_CONNECTIONS", "0", "expected a whole number from 1 to 256"},
      {"HTTP_MAX_CONNECTIONS", "257", "expected a whole number from 1 to 256"},
      {"LOG_FORMAT", "xml", "expected one of text, json, e.g. LOG_FORMAT=json"},
      {"PREPARE_DATASET_REPO", "noslash", "expected a Space as owner/name or hf-space:owner/name"},
      {"PREPARE_DATASET_REPO", "a/b/c", "owner/name"},
      {"PREPARE_DATASET_REPO", "owner/", "owner/name"},
      {"PREPARE_DATASET_REPO", "hf-space:", "owner/name"},
      {"PREPARE_DATASET_REPO", "owner/..", "owner/name"},
      {"PREPARE_DATASET_REPO", "ow ner/x", "owner/name"},
      {"PREPARE_DATASET_REPO", "https://huggingface.co/spaces/o/n", "owner/name"},
      {"HF_ENDPOINT", "http://huggingface.co", "plain http is allowed only for loopback hosts; use https://"},
      {"HF_ENDPOINT", "ftp://hub.example", "the scheme ftp:// is not accepted here"},
      {"HF_ENDPOINT", "huggingface.co", "not a valid absolute URL"},
      {"HF_ENDPOINT", "file:///srv/hub", "the scheme file:// is not accepted here"},
      {"LABELS", "department,department", "the label \"department\" is listed twice"},
      {"LABELS", "department,", "label name \"\" is not valid"},
      {"DATABASE_URL", "mysql://u@h/db", "the scheme \"mysql\" is not supported; accepted forms:"},
      {"DATABASE_URL", "sqlite:///:memory:", "in-memory"},
  };
  for (const BadValue& bad : bad_values) {
    sources_.environment = {{bad.name, bad.value}};
    std::string message = Error();
    EXPECT_TRUE(Contains(message, bad.message)) << bad.name << "=" << bad.value;
    EXPECT_EQ(message.rfind(std::string(bad.name), 0), 0u) << message;
    EXPECT_TRUE(Contains(message, "(environment)")) << bad.name;
  }
}

TEST_F(ConfigTest, GoodValuesOfEveryType) {
  for (const char* yes : {"1", "true", "TRUE", "Yes", "on", " on "}) {
    Env("DRY_RUN", yes);
    EXPECT_TRUE(Load().dry_run) << yes;
  }
  for (const char* no : {"0", "false", "False", "no", "OFF", ""}) {
    Env("DRY_RUN", no);
    EXPECT_FALSE(Load().dry_run) << no;
  }
  Env("POLL_INTERVAL", "0.25");
  Env("POLL_TIMEOUT", " 30 ");
  Env("CORRECT_RATIO", "0");
  Env("HTTP_RETRIES", "0");
  Env("HTTP_MAX_CONNECTIONS", "256");
  Env("LOG_FORMAT", "JSON");
  Env("HF_ENDPOINT", "https://hub.example/mirror//");
  Env("PREPARE_DATASET_REPO", "hf-space:my-org/prepare.v2_x");
  Env("GITHUB_STEP_SUMMARY", "/tmp/summary.md");
  Config config = Load();
  EXPECT_EQ(config.poll_interval, 0.25);
  EXPECT_EQ(config.poll_timeout, 30);
  EXPECT_EQ(config.correct_ratio, 0);
  EXPECT_EQ(config.http.max_retries, 0);
  EXPECT_EQ(config.http.max_connections, 256);
  EXPECT_EQ(config.log_format, "json");
  EXPECT_EQ(config.hf_endpoint, "https://hub.example/mirror");
  EXPECT_EQ(config.prepare_target, "hf-space:my-org/prepare.v2_x");
  EXPECT_EQ(config.github_step_summary, "/tmp/summary.md");
  EXPECT_TRUE(Contains(FormatConfig(config), "(environment) poll_interval = 0.25\n"));
}

TEST_F(ConfigTest, HubEndpointOverLoopbackHttpIsAccepted) {
  Env("HF_ENDPOINT", "http://127.0.0.1:8080/");
  EXPECT_EQ(Load().hf_endpoint, "http://127.0.0.1:8080");
  Env("HF_ENDPOINT", "http://localhost:9");
  EXPECT_EQ(Load().hf_endpoint, "http://localhost:9");
}

TEST_F(ConfigTest, GithubActionsIsTrueOnlyForTrue) {
  Env("GITHUB_ACTIONS", "true");
  EXPECT_TRUE(Load().github_actions);
  for (const char* other : {"1", "TRUE", "yes", "", "false"}) {
    Env("GITHUB_ACTIONS", other);
    EXPECT_FALSE(Load().github_actions) << other;
  }
}

TEST_F(ConfigTest, DatabaseUrlFromTheEnvironmentIsDisplayedRedacted) {
  Env("DATABASE_URL", "postgresql+psycopg2://demo_user:demo_pass@db.example.com:5432/project_db");
  Config config = Load();
  EXPECT_EQ(config.database.kind, DatabaseUrl::Kind::kPostgres);
  EXPECT_EQ(config.database.target, "postgresql://demo_user:demo_pass@db.example.com:5432/project_db");
  std::string text = FormatConfig(config) + ConfigToJson(config);
  EXPECT_TRUE(Contains(text, "(environment) database_url = postgresql+psycopg2://demo_user:****@db.example.com"));
  EXPECT_EQ(text.find("demo_pass"), std::string::npos);
}

// ---- Labels ------------------------------------------------------------------------------------

TEST_F(ConfigTest, LabelsAreTrimmedAndKeepTheirOrder) {
  Env("LABELS", " urgency , department,topic ");
  Env("THRESHOLD_TOPIC", "5");
  Config config = Load();
  ASSERT_EQ(config.labels.size(), 3u);
  EXPECT_EQ(config.labels[0].name, "urgency");
  EXPECT_EQ(config.labels[1].name, "department");
  EXPECT_EQ(config.labels[2].name, "topic");
  EXPECT_EQ(config.labels[2].threshold, 5);
  EXPECT_EQ(config.labels[2].columns.correct, "correct_topic");
  EXPECT_TRUE(Contains(FormatConfig(config), "(environment) labels = urgency,department,topic\n"));
}

TEST_F(ConfigTest, ANewLabelNeedsAThreshold) {
  Env("LABELS", "topic");
  std::string message = Error();
  EXPECT_EQ(message,
            "THRESHOLD_TOPIC is not set: the label \"topic\" has no default threshold; set it in the environment "
            "or .env (e.g. THRESHOLD_TOPIC=40), or as labels.topic.threshold in the --config file");
}

TEST_F(ConfigTest, HostileLabelNamesAreRefusedQuotedAndEscaped) {
  const std::pair<std::string, std::string> hostile[] = {
      {"Dept", "\"Dept\""},
      {"a;drop", "\"a;drop\""},
      {"x y", "\"x y\""},
      {std::string(64, 'a'), "\"" + std::string(64, 'a') + "\""},
      {"d\xc3\xa9pt", "\"d\\xc3\\xa9pt\""},
      {"a\x1b[2Jb", "\"a\\x1b[2Jb\""},
      {"1st", "\"1st\""},
  };
  for (const auto& [name, quoted] : hostile) {
    sources_.environment = {{"LABELS", name}};
    std::string message = Error();
    EXPECT_TRUE(Contains(message, "label name " + quoted + " is not valid")) << message;
    EXPECT_TRUE(Contains(message, "[a-z][a-z0-9_]{0,62}"));
    EXPECT_EQ(message.find('\x1b'), std::string::npos);
  }
}

TEST_F(ConfigTest, TheLongestLabelNameNeedsShorterColumnNames) {
  std::string name = "l" + std::string(62, 'x');
  Env("LABELS", name);
  Env("THRESHOLD_" + std::string("L") + std::string(62, 'X'), "5");
  std::string message = Error();
  EXPECT_EQ(message.rfind("labels." + name + ".predicted_column=", 0), 0u) << message;
  EXPECT_TRUE(Contains(message, "(default): expected an SQL identifier"));
}

TEST_F(ConfigTest, DeptAndDepartmentBothWorkForEveryPerLabelVariable) {
  Env("THRESHOLD_DEPT", "55");
  Env("RETRAIN_DEPT_REPO", "owner/retrain_dept");
  Env("HF_HUB_METADATA_DEPT", "https://huggingface.co/datasets/o/d/resolve/main/dataset_metadata.json");
  Config config = Load();
  const LabelConfig& department = Label(config, "department");
  EXPECT_EQ(department.threshold, 55);
  EXPECT_EQ(department.retrain_target, "owner/retrain_dept");
  EXPECT_EQ(department.metadata_url, "https://huggingface.co/datasets/o/d/resolve/main/dataset_metadata.json");
  EXPECT_EQ(Value(config, "labels.department.threshold").env, "THRESHOLD_DEPT");

  sources_.environment = {{"THRESHOLD_DEPARTMENT", "56"},
                          {"RETRAIN_DEPARTMENT_REPO", "owner/r2"},
                          {"HF_HUB_METADATA_DEPARTMENT", "https://hub.example/m.json"}};
  config = Load();
  EXPECT_EQ(Label(config, "department").threshold, 56);
  EXPECT_EQ(Label(config, "department").retrain_target, "owner/r2");
  EXPECT_EQ(Label(config, "department").metadata_url, "https://hub.example/m.json");
}

TEST_F(ConfigTest, BothSpellingsWithDifferentValuesAreRefused) {
  Env("RETRAIN_DEPT_REPO", "owner/a");
  Env("RETRAIN_DEPARTMENT_REPO", "owner/a");
  EXPECT_EQ(Label(Load(), "department").retrain_target, "owner/a");  // same value: fine
  Env("RETRAIN_DEPT_REPO", "owner/b");
  EXPECT_EQ(Error(),
            "RETRAIN_DEPARTMENT_REPO and RETRAIN_DEPT_REPO (environment) are both set, to different values; "
            "they name the same setting, set only one");
  sources_.environment.clear();
  DotEnv("THRESHOLD_DEPT=1\nTHRESHOLD_DEPARTMENT=2\n");
  EXPECT_TRUE(Contains(Error(), "THRESHOLD_DEPARTMENT and THRESHOLD_DEPT (in " + dir_.File(".env") + ")"));
}

TEST_F(ConfigTest, AStrongerSourceWinsWhateverTheSpelling) {
  Env("RETRAIN_DEPT_REPO", "owner/from_env");
  DotEnv("RETRAIN_DEPARTMENT_REPO=owner/from_dotenv\n");
  EXPECT_EQ(Label(Load(), "department").retrain_target, "owner/from_env");
}

TEST_F(ConfigTest, TheAliasStepsAsideForALabelOfThatName) {
  Env("LABELS", "department,dept");
  Env("THRESHOLD_DEPT", "7");
  Env("THRESHOLD_DEPARTMENT", "9");
  Config config = Load();
  EXPECT_EQ(Label(config, "department").threshold, 9);
  EXPECT_EQ(Label(config, "dept").threshold, 7);
}

TEST_F(ConfigTest, MetadataUrlsFollowTheUrlPolicy) {
  Env("HF_HUB_METADATA_URGENCY", "file:///srv/urgency/dataset_metadata.json");
  EXPECT_EQ(Label(Load(), "urgency").metadata_url, "file:///srv/urgency/dataset_metadata.json");
  Env("HF_HUB_METADATA_URGENCY", "http://127.0.0.1:8000/m.json");
  EXPECT_NO_THROW(Load());
  Env("HF_HUB_METADATA_URGENCY", "http://hub.example/m.json");
  EXPECT_EQ(Error(),
            "HF_HUB_METADATA_URGENCY=\"http://hub.example/m.json\" (environment): plain http is allowed only for "
            "loopback hosts; use https://, e.g. HF_HUB_METADATA_URGENCY=https://huggingface.co/datasets/owner/name/"
            "resolve/main/dataset_metadata.json");
}

// ---- The TOML file -----------------------------------------------------------------------------

TEST_F(ConfigTest, FileSetsGlobalsWithNativeTypes) {
  Toml(R"(
poll_interval = 30
poll_timeout = 90.5
prepare_dataset_repo = "o/n"
labels = ["a", "b"]
correct_ratio = 1.5
hf_endpoint = "https://hub.example/"
database_url = "postgresql://reader@db.example/app?sslmode=require"
dry_run = true
log_format = "json"
http_max_connections = 4
)");
  Env("THRESHOLD_A", "1");
  Env("THRESHOLD_B", "2");
  Config config = Load();
  EXPECT_EQ(config.poll_interval, 30);
  EXPECT_EQ(config.poll_timeout, 90.5);
  EXPECT_EQ(config.prepare_target, "o/n");
  ASSERT_EQ(config.labels.size(), 2u);
  EXPECT_EQ(config.labels[1].name, "b");
  EXPECT_EQ(config.labels[1].threshold, 2);
  EXPECT_EQ(config.correct_ratio, 1.5);
  EXPECT_EQ(config.hf_endpoint, "https://hub.example");
  EXPECT_EQ(config.database.target, "postgresql://reader@db.example/app?sslmode=require");
  EXPECT_TRUE(config.dry_run);
  EXPECT_EQ(config.log_format, "json");
  EXPECT_EQ(config.http.max_connections, 4);
  std::string text = FormatConfig(config);
  EXPECT_TRUE(Contains(text, "(file) labels = a,b\n"));
  EXPECT_TRUE(Contains(text, "(file) poll_timeout = 90.5\n"));
  EXPECT_TRUE(Contains(text, "(environment) labels.a.threshold = 1\n"));
}

TEST_F(ConfigTest, PerLabelTablesNameTheLabelsAndSetTheirColumns) {
  Toml(R"(
[labels.topic]
threshold = 5
retrain = "hf-space:o/retrain_topic"

[labels.department]
threshold = 120
metadata_url = "file:///srv/department/dataset_metadata.json"
predicted_column = "pred_dep"
correct_column = "fixed_dep"
pool_column = "dep"
misclassified_sql = "SELECT count(*) FROM misclassified_complaints WHERE reviewed"
pool_sql = """
SELECT count(*)
FROM complaints"""
)");
  Config config = Load();
  ASSERT_EQ(config.labels.size(), 2u);
  EXPECT_EQ(config.labels[0].name, "department");  // table names, sorted
  EXPECT_EQ(config.labels[1].name, "topic");
  const LabelConfig& department = config.labels[0];
  EXPECT_EQ(department.threshold, 120);
  EXPECT_EQ(department.metadata_url, "file:///srv/department/dataset_metadata.json");
  EXPECT_EQ(department.columns.predicted, "pred_dep");
  EXPECT_EQ(department.columns.correct, "fixed_dep");
  EXPECT_EQ(department.columns.pool, "dep");
  EXPECT_EQ(department.misclassified_sql, "SELECT count(*) FROM misclassified_complaints WHERE reviewed");
  EXPECT_EQ(department.pool_sql, "SELECT count(*)\nFROM complaints");
  EXPECT_EQ(config.labels[1].retrain_target, "hf-space:o/retrain_topic");
  EXPECT_EQ(config.labels[1].columns.predicted, "model_predicted_topic");
  std::string text = FormatConfig(config);
  EXPECT_TRUE(Contains(text, "(file) labels = department,topic\n"));
  EXPECT_TRUE(Contains(text, "(file) labels.department.threshold = 120\n"));
  EXPECT_TRUE(Contains(text, "(file) labels.department.pool_sql = SELECT count(*)\\nFROM complaints\n"));
  EXPECT_TRUE(Contains(text, "(default) labels.topic.pool_column = topic\n"));
}

TEST_F(ConfigTest, DotEnvAndEnvironmentOverrideTheTables) {
  Toml("[labels.department]\nthreshold = 10\nretrain = \"o/file\"\n");
  DotEnv("THRESHOLD_DEPARTMENT=120\n");
  Env("RETRAIN_DEPT_REPO", "o/env");
  Config config = Load();
  EXPECT_EQ(config.labels.size(), 1u);
  EXPECT_EQ(config.labels[0].threshold, 120);
  EXPECT_EQ(config.labels[0].retrain_target, "o/env");
  std::string text = FormatConfig(config);
  EXPECT_TRUE(Contains(text, "(.env) labels.department.threshold = 120\n"));
  EXPECT_TRUE(Contains(text, "(environment) labels.department.retrain = o/env\n"));
}

TEST_F(ConfigTest, LabelsFromTheEnvironmentChooseAmongTheTables) {
  Toml("[labels.department]\nthreshold = 10\n[labels.topic]\nthreshold = 3\n");
  Env("LABELS", "topic");
  Config config = Load();
  ASSERT_EQ(config.labels.size(), 1u);
  EXPECT_EQ(config.labels[0].name, "topic");
  EXPECT_EQ(config.labels[0].threshold, 3);
}

TEST_F(ConfigTest, UnknownKeysInTheFileAreRefused) {
  Toml("poll_interval = 3\npol_timeout = 4\n");
  std::string message = Error();
  EXPECT_EQ(message.rfind("unknown setting \"pol_timeout\" in " + TomlPath() + ":2", 0), 0u) << message;
  EXPECT_TRUE(Contains(message, "known settings: hf_endpoint, prepare_dataset_repo"));

  Toml("[labels.department]\nthresold = 4\n");
  EXPECT_EQ(Error().rfind("unknown setting \"labels.department.thresold\" in " + TomlPath() + ":2", 0), 0u);

  Toml("POLL_INTERVAL = 4\n");
  EXPECT_TRUE(Contains(Error(), "(did you mean poll_interval?)"));

  Toml("[server]\nport = 4\n");
  EXPECT_TRUE(Contains(Error(), "unknown setting \"server\""));
}

TEST_F(ConfigTest, WrongTypesInTheFileAreRefused) {
  Toml("poll_interval = true\n");
  EXPECT_EQ(Error(), "poll_interval (in " + TomlPath() + ":1): expected a seconds value, not a TOML boolean");
  Toml("[labels.department]\nthreshold = 1.5\n");
  EXPECT_TRUE(Contains(Error(), "expected a positive integer value, not a TOML float"));
  Toml("[labels.department]\nthreshold = \"40%\"\n");
  EXPECT_EQ(Error(), "labels.department.threshold=\"40%\" (in " + TomlPath() +
                         ":2): expected a positive whole number of rows, e.g. labels.department.threshold = 40");
  Toml("labels = [\"a\", 3]\n");
  EXPECT_TRUE(Contains(Error(), "expected an array of strings"));
  Toml("labels = []\n");
  EXPECT_TRUE(Contains(Error(), "expected at least one label name"));
  Toml("labels = { department = 5 }\n");
  EXPECT_TRUE(Contains(Error(), "expected a table [labels.department]"));
  Toml("[labels.department]\npredicted_column = \"x; DROP TABLE complaints\"\n");
  EXPECT_TRUE(Contains(Error(), "expected an SQL identifier"));
  Toml("[labels.department]\nmetadata_url = \"http://hub.example/m.json\"\n");
  EXPECT_TRUE(Contains(Error(), "plain http is allowed only for loopback hosts"));
}

TEST_F(ConfigTest, BadLabelTableNamesAreRefused) {
  Toml("[labels.Dept]\nthreshold = 4\n");
  EXPECT_TRUE(Contains(Error(), "label name \"Dept\" is not valid"));
  Toml("[labels.\"a;drop\"]\nthreshold = 4\n");
  EXPECT_TRUE(Contains(Error(), "label name \"a;drop\" is not valid"));
  Toml("[labels.\"new\\nline\"]\nthreshold = 4\n");
  std::string message = Error();
  EXPECT_TRUE(Contains(message, "label name \"new\\nline\" is not valid"));
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST_F(ConfigTest, SecretsAreNeverReadFromTheFile) {
  Toml("hf_token = \"hf_in_the_file\"\n");
  std::string message = Error();
  EXPECT_TRUE(Contains(message, "set HF_TOKEN in the environment"));
  EXPECT_EQ(message.find("hf_in_the_file"), std::string::npos);

  Toml("database_url = \"postgresql://u:pw_in_file@h/db\"\n");
  message = Error();
  EXPECT_TRUE(Contains(message, "holds a password, and secrets are never read from the file; set DATABASE_URL"));
  EXPECT_EQ(message.find("pw_in_file"), std::string::npos);

  sources_.environment = {{"DATABASE_URL", "postgresql://u:pw@h/db"}};
  EXPECT_TRUE(Contains(Error(), "holds a password")) << "refused even where the environment wins";

  Toml("database_url = \"postgresql://u@h/db\"\n");
  EXPECT_EQ(Load().database.target, "postgresql://u:pw@h/db");  // the environment may
}

TEST_F(ConfigTest, FileErrorsReportWhere) {
  Toml("poll_interval = 3\npoll_timeout = = 4\n");
  EXPECT_EQ(Error().rfind(TomlPath() + ":2:", 0), 0u) << Error();
  EXPECT_TRUE(Contains(Error(), "TOML syntax error"));
  sources_.config_file = dir_.File("absent.toml");
  EXPECT_TRUE(Contains(Error(), "absent.toml\" does not exist"));
  sources_.config_file = dir_.path().string();
  EXPECT_TRUE(Contains(Error(), "is a directory, not a regular file"));
}

// A FIFO would block a plain read until someone writes to it, a device would never end.
TEST_F(ConfigTest, SettingsFilesMustBeRegularFilesOfBoundedSize) {
  const std::string fifo = dir_.File("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  sources_.config_file = fifo;
  EXPECT_TRUE(Contains(Error(), "config file " + fifo + " is a FIFO (named pipe), not a regular file")) << Error();
  sources_.config_file = "/dev/zero";
  EXPECT_TRUE(Contains(Error(), "is a character device, not a regular file")) << Error();
  sources_.config_file.reset();
  sources_.env_file = fifo;
  EXPECT_TRUE(Contains(Error(), ".env file " + fifo + " is a FIFO")) << Error();
  sources_.env_file = dir_.File("huge.env");
  std::ofstream(*sources_.env_file).put('#');
  std::filesystem::resize_file(*sources_.env_file, kMaxSettingsFileBytes + 1);
  EXPECT_TRUE(Contains(Error(), "more than the 1048576 bytes")) << Error();
  sources_.env_file = dir_.File("empty.env");
  Env("HTTP_CA_BUNDLE", fifo);
  EXPECT_TRUE(Contains(Error(), "HTTP_CA_BUNDLE " + fifo + " is a FIFO")) << Error();
  Env("HTTP_CA_BUNDLE", dir_.File("absent.pem"));
  EXPECT_TRUE(Contains(Error(), "absent.pem\" does not exist; name a PEM file")) << Error();
}

// ---- Secrets and output -----------------------------------------------------------------------

TEST_F(ConfigTest, TheTokenNeverAppearsInOutput) {
  Env("HF_TOKEN", "hf_VerySecretToken");
  Config config = Load();
  EXPECT_EQ(config.hf_token, "hf_VerySecretToken");
  std::string text = FormatConfig(config);
  std::string json = ConfigToJson(config);
  EXPECT_TRUE(Contains(text, "(environment) hf_token = ********\n"));
  EXPECT_EQ(text.find("VerySecret"), std::string::npos);
  EXPECT_EQ(json.find("VerySecret"), std::string::npos);
}

TEST_F(ConfigTest, TheTokenIsOneWord) {
  Env("HF_TOKEN", "  hf_abc\n");
  EXPECT_EQ(Load().hf_token, "hf_abc");
  for (const char* bad : {"hf_abc\r\nX-Injected: 1", "hf a", "hf\tb"}) {
    Env("HF_TOKEN", bad);
    std::string message = Error();
    EXPECT_EQ(message, "HF_TOKEN (environment): contains a space or control character; a token is a single word");
  }
}

TEST_F(ConfigTest, JsonHasEverySetting) {
  Env("POLL_INTERVAL", "5");
  Config config = Load();
  nlohmann::json json = nlohmann::json::parse(ConfigToJson(config));
  ASSERT_EQ(json["settings"].size(), config.values.size());
  const nlohmann::json& first = json["settings"][0];
  EXPECT_EQ(first["key"], "hf_token");
  EXPECT_EQ(first["env"], "HF_TOKEN");
  EXPECT_EQ(first["value"], "");
  EXPECT_EQ(first["origin"], "default");
  bool found = false;
  for (const nlohmann::json& setting : json["settings"])
    if (setting["key"] == "poll_interval") {
      found = true;
      EXPECT_EQ(setting["value"], "5");
      EXPECT_EQ(setting["origin"], "environment");
    }
  EXPECT_TRUE(found);
}

TEST_F(ConfigTest, JsonSurvivesBytesThatAreNotUtf8) {
  Env("GITHUB_STEP_SUMMARY", "/tmp/\xff\xfe.md");
  EXPECT_NO_THROW(nlohmann::json::parse(ConfigToJson(Load())));
}

// ---- What a run needs --------------------------------------------------------------------------

TEST_F(ConfigTest, ARunNamesEveryMissingVariable) {
  Config config = Load();
  try {
    RequireForRun(config);
    FAIL() << "no ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              "missing: HF_TOKEN, PREPARE_DATASET_REPO, RETRAIN_DEPARTMENT_REPO (or RETRAIN_DEPT_REPO), "
              "HF_HUB_METADATA_DEPARTMENT (or HF_HUB_METADATA_DEPT), RETRAIN_URGENCY_REPO, "
              "HF_HUB_METADATA_URGENCY; set them in the environment or .env");
  }
}

TEST_F(ConfigTest, ARunWithEverythingOrADryRunPasses) {
  Env("DRY_RUN", "1");
  EXPECT_NO_THROW(RequireForRun(Load()));
  DotEnv(
      "DRY_RUN=0\nHF_TOKEN=hf_x\nPREPARE_DATASET_REPO=o/prepare\nRETRAIN_DEPT_REPO=o/rd\n"
      "HF_HUB_METADATA_DEPT=https://hub.example/d.json\nRETRAIN_URGENCY_REPO=o/ru\n");
  sources_.environment.clear();
  try {
    RequireForRun(Load());
    FAIL() << "no ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()), "missing: HF_HUB_METADATA_URGENCY; set them in the environment or .env");
  }
  Env("HF_HUB_METADATA_URGENCY", "https://hub.example/u.json");
  EXPECT_NO_THROW(RequireForRun(Load()));
}

TEST(ConfigProcessEnvironmentTest, ReadsTheRealEnvironment) {
  std::map<std::string, std::string> environment = ProcessEnvironment();
  const char* path = std::getenv("PATH");
  ASSERT_NE(path, nullptr);
  EXPECT_EQ(environment.at("PATH"), path);
}

}  // namespace
}  // namespace orch
