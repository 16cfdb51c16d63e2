// Soak: many passes with random kills, random Hub faults and random publication times, against a
// real PostgreSQL database. Prints how many dataset versions were retrained more than once (must
// be 0) and how many published versions were never retrained after the final passes (must be 0).
//
//   bench_soak [--passes N] [--seed N]
#include <csignal>
#include <cstdio>
#include <iostream>
#include <random>
#include <set>
#include <string>

#include "support/app_database.h"
#include "support/fake_hub.h"
#include "support/orchestrator_env.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"

namespace orch::bench {
namespace {

using namespace std::chrono_literals;
using testing::AppDatabase;
using testing::FakeHub;
using testing::Subprocess;
using Fault = FakeHub::Fault;

constexpr const char* kToken = "hf_soak";
constexpr const char* kRetrainPath = "/api/spaces/owner/retrain_dept/restart";
constexpr const char* kPreparePath = "/api/spaces/owner/prepare/restart";

// Restarts the Hub carried out: answered 200 (a faulted request restarted nothing).
int Restarts(const FakeHub& hub, const std::string& path) {
  int count = 0;
  for (const FakeHub::RecordedCall& call : hub.Calls())
    count += call.method == "POST" && call.path == path && call.status == 200;
  return count;
}

// Retrain restarts the Hub carried out, by the dataset version each started on.
std::map<std::string, int> RetrainsByVersion(const FakeHub& hub) {
  std::map<std::string, int> retrains;
  for (const FakeHub::RecordedCall& call : hub.Calls())
    if (call.method == "POST" && call.path == kRetrainPath && call.status == 200) ++retrains[call.trained_version];
  return retrains;
}

struct Tally {
  std::set<std::string> published;
  int kills = 0, faults = 0, exit_codes[256] = {};
};

void InjectRandomFault(FakeHub& hub, std::mt19937& random, Tally& tally) {
  const char* paths[] = {"owner/department/resolve", "/restart", "/runtime"};
  std::string path = paths[random() % 3];
  switch (random() % 4) {
    case 0: hub.InjectFault(path, Fault::Status(503, 1 + static_cast<int>(random() % 3))); break;
    case 1: hub.InjectFault(path, Fault::RetryAfter(0)); break;
    case 2: hub.InjectFault(path, Fault::Of(Fault::Kind::kCloseConnection)); break;
    default: hub.InjectFault(path, Fault::Status(500)); break;
  }
  ++tally.faults;
}

// One pass, maybe killed at a random moment.
void OnePass(FakeHub& hub, const std::map<std::string, std::string>& env, const std::string& cwd, bool allow_kill,
             std::mt19937& random, Tally& tally) {
  int retrains_before = Restarts(hub, kRetrainPath);
  Subprocess pass({ORCH_BINARY, "run", "--wait-lock", "10"}, env, cwd);
  if (allow_kill && random() % 10 < 3) {
    hub.WaitFor([&] { return false; }, std::chrono::milliseconds(random() % 250));
    pass.Signal(SIGKILL);
    ++tally.kills;
  }
  testing::ProcessResult result = pass.Wait(60s);
  if (result.exit_code >= 0) ++tally.exit_codes[result.exit_code];
  std::string version = hub.VersionTag("owner/department");
  if (!version.empty()) tally.published.insert(version);
  if (std::getenv("ORCH_SOAK_DEBUG"))
    std::fprintf(stderr, "=== version %s, retrain restarts in this pass %d, killed=%d\n%s\n", version.c_str(),
                 Restarts(hub, kRetrainPath) - retrains_before, result.term_signal, result.err.c_str());
}

}  // namespace

int Main(int argc, char** argv) {
  int passes = 1000;
  unsigned seed = 20261126;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--passes") passes = std::stoi(argv[i + 1]);
    if (flag == "--seed") seed = static_cast<unsigned>(std::stoul(argv[i + 1]));
  }
  std::mt19937 random(seed);
  testing::TempDir dir("orch-soak");
  auto database = AppDatabase::Postgres();
  database->CreateSchema();
  database->AddMisclassified(20, "department");
  database->AddCorrectComplaints(100);
  FakeHub hub;
  hub.SetToken(kToken);
  hub.AddSpace("owner/prepare", "PAUSED");
  hub.AddSpace("owner/retrain_dept", "PAUSED");
  hub.AddSpace("owner/retrain_urgency", "PAUSED");
  hub.TrainsOn("owner/retrain_dept", "owner/department");
  hub.PublishMetadata("owner/department", FakeHub::Metadata("v0", 5));
  auto env = testing::OrchestratorEnv(hub, database->url(), kToken);
  env["POLL_TIMEOUT"] = "0.3";
  env["STALE_AFTER"] = "3600";  // no cycle is ever abandoned: every publication must be retrained
  env["HTTP_RETRIES"] = "2";

  Tally tally;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < passes; ++i) {
    // New corrections arrive before every pass (the same data is never prepared twice), and the
    // prepare worker publishes after a random number of polls, sometimes only in a later pass.
    database->AddMisclassified(1, "department");
    hub.OnRestart("owner/prepare",
                  {FakeHub::Publication::AfterPolls("owner/department", 1000000, static_cast<int>(random() % 40))});
    if (random() % 4 == 0) InjectRandomFault(hub, random, tally);
    // A retrain job finishes at some point and its Space pauses itself, as the real ones do.
    if (random() % 2 == 0) hub.SetSpaceStage("owner/retrain_dept", "PAUSED");
    const std::string before = hub.VersionTag("owner/department");
    OnePass(hub, env, dir.path().string(), /*allow_kill=*/true, random, tally);
    // The prepare worker pauses its Space once it has published, as the real one does.
    if (hub.VersionTag("owner/department") != before) hub.SetSpaceStage("owner/prepare", "PAUSED");
  }
  // Calm passes until every cycle has ended: what was published must now be retrained.
  env["POLL_TIMEOUT"] = "5";
  for (int i = 0; i < 5; ++i) OnePass(hub, env, dir.path().string(), false, random, tally);

  const std::map<std::string, int> retrains = RetrainsByVersion(hub);
  int duplicates = 0, untrained = 0;
  for (const auto& [version, count] : retrains) {
    duplicates += count > 1 ? count - 1 : 0;
    if (count > 1 && std::getenv("ORCH_SOAK_DEBUG")) std::fprintf(stderr, "DUPLICATE %s x%d\n", version.c_str(), count);
  }
  for (const std::string& version : tally.published)
    if (version != "v0" && !retrains.contains(version)) {
      ++untrained;
      if (std::getenv("ORCH_SOAK_DEBUG")) std::fprintf(stderr, "UNTRAINED %s\n", version.c_str());
    }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "| passes | killed | Hub faults injected | prepare restarts | versions published | retrain restarts |"
      " duplicate retrains | published but never retrained | time |\n"
      "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  std::printf("| %d | %d | %d | %d | %zu | %d | %d | %d | %.0f s |\n", passes + 5, tally.kills, tally.faults,
              Restarts(hub, kPreparePath), tally.published.size() - tally.published.count("v0"),
              Restarts(hub, kRetrainPath), duplicates, untrained, seconds);
  std::printf("\nExit statuses: ");
  for (int code = 0; code < 256; ++code)
    if (tally.exit_codes[code]) std::printf("%d×%d ", code, tally.exit_codes[code]);
  std::printf("(killed passes have none); seed %u.\n", seed);
  return duplicates == 0 && untrained == 0 ? 0 : 1;
}

}  // namespace orch::bench

int main(int argc, char** argv) { return orch::bench::Main(argc, argv); }
