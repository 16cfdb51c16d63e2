#include "config/job_environment.h"

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace orch {
namespace {

using orch::testing::TempDir;
using orch::testing::WriteFile;

Config Load(const std::map<std::string, std::string>& environment, const TempDir& dir) {
  WriteFile(dir.File("empty.env"), "");
  ConfigSources sources;
  sources.env_file = dir.File("empty.env");
  sources.environment = environment;
  WriteFile(dir.File("orchestrator.toml"), "[labels.department]\nhf_job_flavor = \"a10g-small\"\n");
  sources.config_file = dir.File("orchestrator.toml");
  return LoadConfig(sources);
}

TEST(JobEnvironment, SecretsGoApartAndWhatOnlyThisMachineHasStaysHere) {
  TempDir dir;
  const Config config = Load({{"PATH", "/usr/local/bin:/usr/bin"},
                              {"HOME", "/home/ops"},
                              {"HF_TOKEN", "hf_secret"},
                              {"DATABASE_URL", "postgresql://app:pa55@db.internal:5432/app"},
                              {"LABELS", "department,urgency"},
                              {"HF_JOB_TIMEOUT", "2h"},
                              {"WORKER_ENV", "WANDB_API_KEY"},
                              {"WANDB_API_KEY", "wandb_secret"},
                              {"SERVE_TOKEN", "serve_secret"}},
                             dir);
  const JobEnvironment job = JobEnvironmentOf(config);
  EXPECT_EQ(job.secrets,
            (std::map<std::string, std::string>{{"DATABASE_URL", "postgresql://app:pa55@db.internal:5432/app"},
                                                {"HF_TOKEN", "hf_secret"},
                                                {"WANDB_API_KEY", "wandb_secret"}}));
  EXPECT_EQ(job.environment.at("LABELS"), "department,urgency");
  EXPECT_EQ(job.environment.at("HF_JOB_TIMEOUT"), "2h");
  for (const char* local : {"PATH", "HOME", "ORCHESTRATOR_CONFIG", "SERVE_TOKEN"})
    EXPECT_EQ(job.environment.count(local) + job.secrets.count(local), 0u) << local;
  for (const auto& [name, value] : job.environment)
    for (const char* secret : {"hf_secret", "pa55", "wandb_secret", "serve_secret"})
      EXPECT_EQ(value.find(secret), std::string::npos) << name;
}

TEST(JobEnvironment, ADatabaseWithoutAPasswordIsNoSecret) {
  TempDir dir;
  const JobEnvironment job = JobEnvironmentOf(Load({{"DATABASE_URL", "sqlite:///state/app.db"}}, dir));
  EXPECT_EQ(job.environment.at("DATABASE_URL"), "sqlite:///state/app.db");
  EXPECT_TRUE(job.secrets.empty());
}

TEST(JobEnvironment, EachLabelsJobSettingsInheritTheGlobalOnesUnlessSet) {
  TempDir dir;
  const Config config =
      Load({{"LABELS", "department,urgency"}, {"HF_JOB_NAMESPACE", "my-org"}, {"HF_JOB_TIMEOUT_URGENCY", "90m"}}, dir);
  ASSERT_EQ(config.labels.size(), 2u);
  EXPECT_EQ(config.hf_job.flavor, "cpu-basic");
  EXPECT_EQ(config.hf_job.timeout, 1800);
  EXPECT_EQ(config.hf_job.job_namespace, "my-org");
  const LabelConfig& department = config.labels[0];
  const LabelConfig& urgency = config.labels[1];
  EXPECT_EQ(department.hf_job.flavor, "a10g-small");
  EXPECT_EQ(department.hf_job.timeout, 1800);
  EXPECT_EQ(department.hf_job.job_namespace, "my-org");
  EXPECT_EQ(urgency.hf_job.flavor, "cpu-basic");
  EXPECT_EQ(urgency.hf_job.timeout, 5400);
}

}  // namespace
}  // namespace orch
