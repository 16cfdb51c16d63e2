// Secrets never leave: the real binary runs its subcommands with a distinctive value in every
// credential (the Hub token, the database password, the alert webhook, the server's token, the
// webhooks' token) and a worker that prints them all and fails; then every output, every file the
// program wrote and every row of its tables is searched for them.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "demo/demo_database.h"
#include "support/app_database.h"
#include "support/postgres_server.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using testing::AppDatabase;
using testing::ProcessResult;
using testing::Subprocess;
using testing::TempDir;
namespace fs = std::filesystem;

const std::vector<std::string> kSecrets = {"hf_Zq7SecretHubToken", "pw_Zq7SecretDbPassword", "Zq7SecretAlertHook",
                                           "srv_Zq7SecretServeToken", "wh_Zq7SecretWebhook"};

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class Secrets : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") ORCH_REQUIRE_POSTGRES();
    database = AppDatabase::ForEngine(GetParam(), dir.File("app.db"));
    DemoDatabase application(database->database_url(), DemoDataOptions::WithSeed(11));
    application.AddBatch(600);
    std::string url = database->url();
    if (GetParam() == "postgres") {  // the test server trusts loopback: the password is carried, not checked
      const size_t user_end = url.find("postgres@");
      ASSERT_NE(user_end, std::string::npos) << url;
      url.replace(user_end, 9, "postgres:" + kSecrets[1] + "@");
    }
    // A worker that prints every variable it was given, then fails: its last lines go into the error.
    const std::string leaky = "command:sh -c 'env; echo HF_TOKEN=$HF_TOKEN DATABASE_URL=$DATABASE_URL; exit 3'";
    env = {{"PATH", "/usr/bin:/bin"},
           {"DATABASE_URL", url},
           {"HF_TOKEN", kSecrets[0]},
           {"ALERT_WEBHOOK_URL", "http://127.0.0.1:9/hooks/" + kSecrets[2]},
           {"SERVE_TOKEN", kSecrets[3]},
           {"WEBHOOK_TOKEN", kSecrets[4]},
           {"THRESHOLD_DEPARTMENT", "50"},
           {"THRESHOLD_URGENCY", "50"},
           {"POLL_INTERVAL", "0.05"},
           {"POLL_TIMEOUT", "5"},
           {"HTTP_RETRIES", "0"},
           {"WORKER_LOG_DIR", dir.File("logs")},
           {"GITHUB_STEP_SUMMARY", dir.File("step-summary.md")},
           {"GITHUB_OUTPUT", dir.File("github-output")},
           {"PREPARE_DATASET_REPO", leaky},
           {"RETRAIN_DEPARTMENT_REPO", leaky},
           {"RETRAIN_URGENCY_REPO", leaky},
           {"HF_HUB_METADATA_DEPARTMENT", "file://" + dir.File("hub/department/dataset_metadata.json")},
           {"HF_HUB_METADATA_URGENCY", "file://" + dir.File("hub/urgency/dataset_metadata.json")}};
  }

  ProcessResult Orchestrator(std::vector<std::string> args) {
    args.insert(args.begin(), ORCH_BINARY);
    ProcessResult result = Subprocess::Run(args, env, dir.path().string(), 120s);
    EXPECT_FALSE(result.timed_out);
    return result;
  }

  // Fails the test for every secret found in `text`, naming where.
  static void ExpectNoSecret(const std::string& text, const std::string& where) {
    for (const std::string& secret : kSecrets)
      EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in " << where;
  }

  TempDir dir;
  std::unique_ptr<AppDatabase> database;
  std::map<std::string, std::string> env;
};

TEST_P(Secrets, NoSubcommandWritesOneAnywhere) {
  const ProcessResult pass = Orchestrator({"run", "--wait"});
  EXPECT_EQ(pass.exit_code, 1) << "the worker failed: " << pass.err;
  EXPECT_NE(pass.out.find("HF_TOKEN=***"), std::string::npos) << "the worker's last lines are in the summary, "
                                                                 "without the secret:\n"
                                                              << pass.out;
  ExpectNoSecret(pass.out, "run's stdout");
  ExpectNoSecret(pass.err, "run's stderr");

  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"status"},
                                             {"status", "--json"},
                                             {"history"},
                                             {"history", "--json"},
                                             {"history", "--run", "1"},
                                             {"history", "--run", "1", "--json"},
                                             {"config"},
                                             {"config", "--json"},
                                             {"check"},
                                             {"check", "--json"},
                                             {"run", "--dry-run"},
                                             {"unlock"},
                                             {"label", "pause", "urgency", "--reason", "checking"},
                                             {"label", "resume", "urgency"},
                                             {"label", "reset", "urgency", "--reason", "checking"},
                                             {"serve", "--listen", "not-an-address"},
                                             {"migrate"},
                                             {"prepare", "--hub", dir.File("hub")},
                                             {"prepare", "--hub", dir.File("hub"), "--json"},
                                             {"retrain", "--label", "department", "--dataset",
                                              dir.File("hub/department"), "--models", dir.File("models")},
                                             {"retrain", "--label", "urgency", "--dataset", dir.File("no-such-hub"),
                                              "--models", dir.File("models"), "--json"},
                                             {"predict", "--label", "department", "--models", dir.File("models")},
                                             {"predict", "--label", "urgency", "--models", dir.File("no-models")},
                                             {"completion", "bash"},
                                             {"--help"},
                                             {"run", "--help"}}) {
    const ProcessResult result = Orchestrator(args);
    std::string name;
    for (const std::string& arg : args) name += arg + " ";
    ExpectNoSecret(result.out, name + "stdout");
    ExpectNoSecret(result.err, name + "stderr");
  }

  // Every file the program wrote: the step summary, the outputs, the workers' records. The workers'
  // own logs hold what they printed, which is theirs; only their owner may read them.
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(dir.path())) {
    if (!entry.is_regular_file() || entry.path().filename() == "app.db") continue;
    if (entry.path().extension() == ".log") {
      struct stat info {};
      ASSERT_EQ(::stat(entry.path().c_str(), &info), 0);
      EXPECT_EQ(info.st_mode & 0777, 0600u) << entry.path();
      continue;
    }
    ExpectNoSecret(ReadAll(entry.path()), entry.path().string());
  }

  // The orchestrator's own tables.
  for (const char* table : {"orchestrator_runs", "orchestrator_label_state", "orchestrator_lock"}) {
    const std::string dump =
        database->is_postgres()
            ? Subprocess::Run({"/usr/bin/psql", "-At", database->url(), "-c", std::string("SELECT * FROM ") + table},
                              {{"PATH", "/usr/bin:/bin"}}, dir.path().string(), 30s)
                  .out
            : Subprocess::Run({"/usr/bin/sqlite3", dir.File("app.db"), std::string("SELECT * FROM ") + table},
                              {{"PATH", "/usr/bin:/bin"}}, dir.path().string(), 30s)
                  .out;
    ExpectNoSecret(dump, table);
    if (std::string(table) == "orchestrator_runs") {
      EXPECT_NE(dump.find("HF_TOKEN=***"), std::string::npos) << dump;
    }
  }
}

TEST_P(Secrets, AWorkerGetsTheTokensItNeedsAndNotTheOthers) {
  env["PREPARE_DATASET_REPO"] = "command:sh -c 'env > " + dir.File("worker-env") + "; exit 3'";
  env["UNRELATED_TOKEN"] = "not for workers";
  Orchestrator({"run"});
  const std::string seen = ReadAll(dir.File("worker-env"));
  EXPECT_NE(seen.find("HF_TOKEN=" + kSecrets[0]), std::string::npos) << "a worker that publishes needs the token";
  EXPECT_NE(seen.find("DATABASE_URL="), std::string::npos) << "the prepare worker reads the database";
  for (const std::string& kept : {kSecrets[2], kSecrets[3], kSecrets[4], std::string("UNRELATED_TOKEN")})
    EXPECT_EQ(seen.find(kept), std::string::npos) << kept << " reached the worker:\n" << seen;
}

INSTANTIATE_TEST_SUITE_P(Engines, Secrets, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace orch
