#include "config/settings.h"

#include <gtest/gtest.h>

#include <set>

#include "util/error.h"

namespace orch {
namespace {

RawSetting Raw(std::string text, std::string name = "X", Origin origin = Origin::kEnvironment) {
  return RawSetting{std::move(text), std::nullopt, std::move(name), "environment", origin, "department"};
}

TEST(SettingsTest, EveryRowIsCompleteAndUnique) {
  std::set<std::string_view> keys, envs;
  for (const SettingSpec& spec : Settings()) {
    EXPECT_FALSE(spec.key.empty());
    EXPECT_FALSE(spec.env.empty()) << spec.key;
    EXPECT_FALSE(spec.doc.empty()) << spec.key;
    EXPECT_NE(spec.store, nullptr) << spec.key;
    EXPECT_TRUE(keys.insert(spec.key).second) << spec.key;
    EXPECT_TRUE(envs.insert(spec.env).second) << spec.env;
  }
  for (const SettingSpec& spec : LabelSettings()) {
    EXPECT_FALSE(spec.doc.empty()) << spec.key;
    EXPECT_NE(spec.store_label, nullptr) << spec.key;
    EXPECT_TRUE(spec.env.empty() || spec.env.find("{LABEL}") != std::string_view::npos) << spec.env;
  }
}

TEST(SettingsTest, TheDocumentedVariablesAreThere) {
  const std::pair<std::string_view, std::string_view> expected[] = {
      {"hf_token", "HF_TOKEN"},
      {"hf_endpoint", "HF_ENDPOINT"},
      {"prepare_dataset_repo", "PREPARE_DATASET_REPO"},
      {"database_url", "DATABASE_URL"},
      {"correct_ratio", "CORRECT_RATIO"},
      {"poll_interval", "POLL_INTERVAL"},
      {"poll_timeout", "POLL_TIMEOUT"},
      {"dry_run", "DRY_RUN"},
      {"labels", "LABELS"},
      {"log_format", "LOG_FORMAT"},
      {"github_actions", "GITHUB_ACTIONS"},
      {"github_step_summary", "GITHUB_STEP_SUMMARY"},
      {"github_output", "GITHUB_OUTPUT"},
      {"http_connect_timeout", "HTTP_CONNECT_TIMEOUT"},
      {"http_timeout", "HTTP_TIMEOUT"},
      {"http_retries", "HTTP_RETRIES"},
      {"http_retry_base", "HTTP_RETRY_BASE"},
      {"http_retry_max", "HTTP_RETRY_MAX"},
      {"http_max_connections", "HTTP_MAX_CONNECTIONS"},
      {"http_ca_bundle", "HTTP_CA_BUNDLE"},
      {"orchestrator_name", "ORCHESTRATOR_NAME"},
      {"stale_after", "STALE_AFTER"},
      {"min_new_rows", "MIN_NEW_ROWS"},
      {"retrain_cooldown", "RETRAIN_COOLDOWN"},
      {"lock_lease", "LOCK_LEASE"},
      {"alert_webhook_url", "ALERT_WEBHOOK_URL"},
      {"pushgateway_url", "PUSHGATEWAY_URL"},
      {"worker_log_dir", "WORKER_LOG_DIR"},
      {"worker_env", "WORKER_ENV"},
      {"webhook_token_env", "WEBHOOK_TOKEN_ENV"},
      {"decision_threshold", "DECISION_THRESHOLD"},
      {"prepare_seed", "PREPARE_SEED"},
      {"dataset_languages", "DATASET_LANGUAGES"},
      {"hf_repo_private", "HF_REPO_PRIVATE"},
      {"serve_listen", "SERVE_LISTEN"},
      {"serve_token", "SERVE_TOKEN"},
      {"serve_schedule", "SERVE_SCHEDULE"},
      {"serve_refresh", "SERVE_REFRESH"},
      {"github_repository", "GITHUB_REPOSITORY"},
      {"hf_job_flavor", "HF_JOB_FLAVOR"},
      {"hf_job_timeout", "HF_JOB_TIMEOUT"},
      {"hf_job_namespace", "HF_JOB_NAMESPACE"},
  };
  ASSERT_EQ(Settings().size(), std::size(expected));
  for (size_t i = 0; i < std::size(expected); ++i) {
    EXPECT_EQ(Settings()[i].key, expected[i].first);
    EXPECT_EQ(Settings()[i].env, expected[i].second);
  }
  EXPECT_EQ(FindSetting("poll_interval")->env, "POLL_INTERVAL");
  EXPECT_EQ(FindSetting("nope"), nullptr);
  EXPECT_EQ(FindLabelSetting("threshold")->env, "THRESHOLD_{LABEL}");
  EXPECT_EQ(FindLabelSetting("pool_column")->env, "");
  EXPECT_FALSE(FindSetting("hf_token")->in_file);
}

TEST(SettingsTest, AJobsTimeoutIsBoundedAndItsNamespaceAndFlavorAreHubNames) {
  const SettingSpec& timeout = *FindSetting("hf_job_timeout");
  EXPECT_EQ(std::get<double>(ParseSetting(timeout, Raw("2h", "HF_JOB_TIMEOUT"))), 7200);
  EXPECT_EQ(std::get<double>(ParseSetting(timeout, Raw("7d", "HF_JOB_TIMEOUT"))), 7 * 86400);
  EXPECT_EQ(std::get<double>(ParseSetting(timeout, Raw("", "HF_JOB_TIMEOUT"))), 0);  // the Hub's default
  try {
    ParseSetting(timeout, Raw("8d", "HF_JOB_TIMEOUT"));
    ADD_FAILURE() << "8d was accepted";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("a duration from 1s to 7d"), std::string::npos) << error.what();
  }
  for (const char* key : {"hf_job_namespace", "hf_job_flavor"}) {
    const SettingSpec& spec = *FindSetting(key);
    EXPECT_EQ(std::get<std::string>(ParseSetting(spec, Raw("my-org.team_1", "X"))), "my-org.team_1");
    for (const char* bad : {"-org", "my org", "a/b", ".x"})
      EXPECT_THROW(ParseSetting(spec, Raw(bad, "X")), ConfigError) << bad;
  }
  EXPECT_EQ(std::get<std::string>(ParseSetting(*FindSetting("hf_job_namespace"), Raw("", "X"))), "");
  EXPECT_THROW(ParseSetting(*FindSetting("hf_job_flavor"), Raw("", "X")), ConfigError);
  EXPECT_EQ(FindLabelSetting("hf_job_flavor")->env, "HF_JOB_FLAVOR_{LABEL}");
  EXPECT_EQ(FindLabelSetting("hf_job_timeout")->inherits, "hf_job_timeout");
}

TEST(SettingsTest, EveryDefaultAndExampleIsValid) {
  for (const SettingSpec& spec : Settings()) {
    EXPECT_NO_THROW(ParseSetting(spec, Raw(std::string(spec.default_value), std::string(spec.env)))) << spec.key;
    if (!spec.example.empty()) {
      EXPECT_NO_THROW(ParseSetting(spec, Raw(std::string(spec.example), std::string(spec.env)))) << spec.key;
    }
  }
  for (const SettingSpec& spec : LabelSettings()) {
    std::optional<std::string> value = LabelDefault(spec, "department");
    ASSERT_TRUE(value.has_value()) << spec.key;
    EXPECT_NO_THROW(ParseSetting(spec, Raw(*value))) << spec.key;
  }
}

TEST(SettingsTest, DefaultsDisplayAsWritten) {
  for (const SettingSpec& spec : Settings())
    EXPECT_EQ(DisplaySetting(spec, ParseSetting(spec, Raw(std::string(spec.default_value)))), spec.default_value)
        << spec.key;
}

TEST(SettingsTest, LabelDefaults) {
  const SettingSpec& threshold = *FindLabelSetting("threshold");
  EXPECT_EQ(LabelDefault(threshold, "department"), "40");
  EXPECT_EQ(LabelDefault(threshold, "urgency"), "30");
  EXPECT_EQ(LabelDefault(threshold, "topic"), std::nullopt);
  EXPECT_EQ(LabelDefault(*FindLabelSetting("predicted_column"), "topic"), "model_predicted_topic");
  EXPECT_EQ(LabelDefault(*FindLabelSetting("correct_column"), "topic"), "correct_topic");
  EXPECT_EQ(LabelDefault(*FindLabelSetting("pool_column"), "topic"), "topic");
  EXPECT_EQ(LabelDefault(*FindLabelSetting("retrain"), "topic"), "");
}

TEST(SettingsTest, LabelEnvNames) {
  EXPECT_EQ(LabelEnvName(*FindLabelSetting("threshold"), "DEPT"), "THRESHOLD_DEPT");
  EXPECT_EQ(LabelEnvName(*FindLabelSetting("retrain"), "URGENCY"), "RETRAIN_URGENCY_REPO");
  EXPECT_EQ(LabelEnvName(*FindLabelSetting("metadata_url"), "DEPARTMENT"), "HF_HUB_METADATA_DEPARTMENT");
  EXPECT_EQ(LabelEnvName(*FindLabelSetting("pool_sql"), "DEPARTMENT"), "");
}

TEST(SettingsTest, TypeNamesAreDistinct) {
  std::set<std::string> names;
  for (int type = 0; type <= static_cast<int>(SettingType::kPath); ++type)
    EXPECT_TRUE(names.insert(SettingTypeName(static_cast<SettingType>(type))).second) << type;
}

TEST(SettingsTest, SecretsAreMaskedAndNeverQuoted) {
  const SettingSpec& token = *FindSetting("hf_token");
  EXPECT_EQ(DisplaySetting(token, std::string("hf_abc")), "********");
  EXPECT_EQ(DisplaySetting(token, std::string()), "");
  const SettingSpec& database = *FindSetting("database_url");
  try {
    ParseSetting(database, Raw("mysql://u:hunter2@h/db", "DATABASE_URL"));
    FAIL() << "no ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()).find("hunter2"), std::string::npos) << error.what();
    EXPECT_EQ(std::string(error.what()).rfind("DATABASE_URL (environment): ", 0), 0u) << error.what();
  }
}

TEST(SettingsTest, ExamplesInMessagesUseTheSourcesSyntax) {
  const SettingSpec& threshold = *FindLabelSetting("threshold");
  RawSetting file{"0", std::nullopt, "labels.department.threshold", "in o.toml:3", Origin::kFile, "department"};
  try {
    ParseSetting(threshold, file);
    FAIL() << "no ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()),
              "labels.department.threshold=\"0\" (in o.toml:3): expected a positive whole number of rows, "
              "e.g. labels.department.threshold = 40");
  }
}

}  // namespace
}  // namespace orch
