// Every wait of a pass is bounded, proved with the real binary against a Hub that misbehaves on
// purpose (support/hostile_server.h): slow, dripping, hanging, lying about sizes, answering HTML,
// huge headers, a broken status line, endless chunks, a redirect loop. Each misbehaviour is met at
// each step of the pass that talks to the Hub: the metadata read while waiting for a dataset, the
// prepare Space's restart, and its runtime read while waiting (support/hostile_pass.h).
//
// The pass must end by itself with exit 1 and a message naming the step, without any secret in its
// output; and SIGTERM during any wait the server imposes must stop it with exit 143, long before
// the wait would have ended. The ceilings are generous (the machine may be loaded): they tell an
// ended pass from a hung one, not a fast pass from a slow one (bench/bench_hostile.cc measures).
#include <gtest/gtest.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <tuple>

#include "support/app_database.h"
#include "support/hostile_pass.h"
#include "support/hostile_server.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using testing::HostileServer;
using testing::HostileStep;
using testing::ProcessResult;
using testing::Subprocess;
using testing::TempDir;
using Mode = HostileServer::Mode;

constexpr const char* kToken = "hf_hostileSECRET";

class HostileHub : public ::testing::TestWithParam<std::tuple<Mode, HostileStep>> {
 protected:
  void SetUp() override {
    database = testing::AppDatabase::Sqlite(dir.File("app.db"));
    database->CreateSchema();
    database->AddMisclassified(20, "department");
    database->AddCorrectComplaints(100);
    testing::ArrangeHostileHub(server, mode(), step());
    env = testing::HostilePassEnv(server, database->url(), kToken);
  }

  Mode mode() const { return std::get<Mode>(GetParam()); }
  HostileStep step() const { return std::get<HostileStep>(GetParam()); }

  TempDir dir;
  std::unique_ptr<testing::AppDatabase> database;
  HostileServer server;
  std::map<std::string, std::string> env;
};

TEST_P(HostileHub, ThePassEndsByItselfSayingWhichStepFailed) {
  Subprocess pass({ORCH_BINARY, "run"}, env, dir.path().string());
  const ProcessResult result = pass.Wait(60s);
  ASSERT_FALSE(result.timed_out) << "the pass did not end\n" << result.err;
  ASSERT_EQ(result.term_signal, 0) << result.err;
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_GE(server.Count(HostilePath(step())), FirstHostileRequest(step())) << "the misbehaviour was met";
  EXPECT_EQ(result.out.find(kToken), std::string::npos) << result.out;
  EXPECT_EQ(result.err.find(kToken), std::string::npos) << result.err;

  const nlohmann::json summary = nlohmann::json::parse(result.out);
  EXPECT_EQ(summary["status"], "failed");
  ASSERT_EQ(summary["labels"].size(), 1u) << result.out;
  const nlohmann::json& label = summary["labels"][0];
  const std::string outcome = label["outcome"];
  const std::string error = label["error"].is_string() ? label["error"].get<std::string>() : "";
  switch (step()) {
    case HostileStep::kMetadata:
      EXPECT_TRUE(outcome == "timeout" || outcome == "failed") << result.out;
      EXPECT_NE(error.find("metadata " + server.endpoint() + testing::kHostileMetadataPath + ": "), std::string::npos)
          << error;
      break;
    case HostileStep::kRestart:
      if (mode() == Mode::kHtml) {  // a 200 is a restart, whatever its body; then no dataset comes
        EXPECT_EQ(outcome, "timeout") << error;
      } else {
        EXPECT_EQ(outcome, "failed") << error;
        EXPECT_NE(error.find("restarting the prepare worker owner/prepare failed: Space owner/prepare"),
                  std::string::npos)
            << error;
      }
      break;
    case HostileStep::kRuntime:
      EXPECT_EQ(outcome, "timeout") << error;
      EXPECT_NE(result.err.find("cannot tell how the prepare worker is doing"), std::string::npos) << result.err;
      break;
  }
}

// The misbehaviours that keep the client waiting (the others answer something wrong at once).
class HostileHubWait : public HostileHub {};

TEST_P(HostileHubWait, SigtermDuringTheWaitStopsThePassWith143) {
  // Waits that would last ten minutes and more without the signal.
  env["POLL_TIMEOUT"] = "600";
  env["HTTP_TIMEOUT"] = "600";
  server.set_delay(600s);
  Subprocess pass({ORCH_BINARY, "run"}, env, dir.path().string());
  ASSERT_TRUE(server.WaitFor(HostilePath(step()), FirstHostileRequest(step()), 60s)) << pass.err();
  pass.Signal(SIGTERM);
  const ProcessResult result = pass.Wait(60s);
  ASSERT_FALSE(result.timed_out) << "SIGTERM did not stop the pass\n" << result.err;
  EXPECT_EQ(result.exit_code, 143) << result.err;
  EXPECT_EQ(result.err.find(kToken), std::string::npos) << result.err;
  const nlohmann::json summary = nlohmann::json::parse(result.out);
  EXPECT_EQ(summary["status"], "cancelled") << result.out;
  EXPECT_EQ(summary["labels"][0]["outcome"], "cancelled") << result.out;
}

TEST(HostileDatabase, SigtermWhileConnectingToAServerThatNeverAnswersStopsThePassWith143) {
  TempDir dir;
  HostileServer hub;
  HostileServer silent;  // takes the connection and never says a word
  std::map<std::string, std::string> env = testing::HostilePassEnv(hub, "sqlite:///unused.db", kToken);
  const std::string endpoint = silent.endpoint();
  env["DATABASE_URL"] = "postgresql://orch:Pg-S3cret@127.0.0.1:" + endpoint.substr(endpoint.rfind(':') + 1) +
                        "/app?sslmode=disable&connect_timeout=600";
  Subprocess pass({ORCH_BINARY, "run"}, env, dir.path().string());
  ASSERT_TRUE(silent.WaitForConnections(1, 60s)) << pass.err();
  pass.Signal(SIGTERM);
  const ProcessResult result = pass.Wait(60s);
  ASSERT_FALSE(result.timed_out) << "SIGTERM did not stop the pass\n" << result.err;
  EXPECT_EQ(result.exit_code, 143) << result.err;
  EXPECT_NE(result.err.find("stopped before the pass began: nothing was done"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("Pg-S3cret"), std::string::npos) << result.err;
  const nlohmann::json summary = nlohmann::json::parse(result.out);
  EXPECT_EQ(summary["status"], "cancelled") << result.out;
}

std::string CaseName(const ::testing::TestParamInfo<std::tuple<Mode, HostileStep>>& info) {
  return std::string(HostileServer::ModeName(std::get<Mode>(info.param))) + "_at_" +
         testing::HostileStepName(std::get<HostileStep>(info.param));
}

std::vector<Mode> WaitingModes() {
  std::vector<Mode> modes;
  for (Mode mode : HostileServer::AllModes())
    if (HostileServer::Waits(mode)) modes.push_back(mode);
  return modes;
}

const auto kEveryStep = ::testing::Values(HostileStep::kMetadata, HostileStep::kRestart, HostileStep::kRuntime);

INSTANTIATE_TEST_SUITE_P(EveryMisbehaviourAtEveryStep, HostileHub,
                         ::testing::Combine(::testing::ValuesIn(HostileServer::AllModes()), kEveryStep), CaseName);
INSTANTIATE_TEST_SUITE_P(EveryWaitAtEveryStep, HostileHubWait,
                         ::testing::Combine(::testing::ValuesIn(WaitingModes()), kEveryStep), CaseName);

}  // namespace
}  // namespace orch
