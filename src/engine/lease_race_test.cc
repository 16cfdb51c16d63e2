// The race the run lock must fence, made to happen on purpose, with real lock objects on a real
// database: pass A holds the lock and hangs inside a request; meanwhile its lock is lost and
// pass B takes it and completes a cycle; then A's request returns. Unfenced, A would send another
// restart and save its stale state over B's, and a later pass would retrain B's version again.
//
// On SQLite the lock is a lease: A hangs longer than it lasts (as a process suspended whole does:
// the thread that renews the lease stalls with it), and the clock the lease is read on moves past
// it. On PostgreSQL the lock lives with A's session: there A's connection drops while it hangs.
//
// A must send nothing after it lost the lock and write nothing (B's state stands), its labels
// end `cancelled` and its report says the lock was lost; the version B retrained is retrained
// once in all, and a pass C after them finds nothing to do.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "db/open_database.h"
#include "db/state_codec.h"
#include "engine/pass.h"
#include "support/app_database.h"
#include "support/engine_fakes.h"
#include "support/postgres_server.h"
#include "support/sqlite_pass_state.h"
#include "support/temp_dir.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using namespace orch::testing;

enum class Engine { kSqlite, kPostgres };

// Where A hangs.
enum class Hang {
  kBaselineRead,   // reading the metadata before its prepare restart: B then runs a whole cycle
  kPollRead,       // polling for the dataset of the cycle it started: B takes that cycle over
  kWorkerAsked,    // asking the prepare worker whether an earlier pass's restart arrived
  kRetrainAnswer,  // waiting for the answer to its retrain restarts, which reached the workers
};

const char* HangName(Hang hang) {
  switch (hang) {
    case Hang::kBaselineRead: return "InTheBaselineRead";
    case Hang::kPollRead: return "InAPollRead";
    case Hang::kWorkerAsked: return "AskingThePrepareWorker";
    case Hang::kRetrainAnswer: return "ForARetrainAnswer";
  }
  return "?";
}

void PrintTo(Hang hang, std::ostream* out) { *out << HangName(hang); }
void PrintTo(Engine engine, std::ostream* out) { *out << (engine == Engine::kPostgres ? "Postgres" : "Sqlite"); }

constexpr auto kLease = 60s;
const std::vector<std::string> kLabels = {"department", "urgency"};

// A pass's state store and run lock, as a pass opens them on either engine.
class PassDatabase {
 public:
  PassDatabase(const AppDatabase& app, const std::string& holder, Clock& clock) {
    if (app.is_postgres()) {
      postgres_ = OpenPassDatabases(app.database_url(), /*with_lock=*/true, "main", holder, kLease);
    } else {
      sqlite_ = std::make_unique<SqlitePassState>(app.database_url().target, holder, clock, kLease);
    }
  }
  StateStore& state() { return sqlite_ ? sqlite_->state : *postgres_.state; }
  RunLock& lock() { return sqlite_ ? sqlite_->lock : *postgres_.lock; }

 private:
  std::unique_ptr<SqlitePassState> sqlite_;
  PassDatabases postgres_;
};

class LeaseRaceTest : public ::testing::TestWithParam<std::tuple<Engine, Hang>> {
 protected:
  LeaseRaceTest() : hub_(clock_), trigger_(clock_), held_hub_(hub_), held_trigger_(trigger_) {
    clock_.SleepUntil(clock_.Now() + 1000000s);
    config_.prepare_target = "owner/prepare";
    config_.poll_interval = 60;
    config_.poll_timeout = 1800;
    for (const std::string& name : kLabels) {
      LabelConfig label;
      label.name = name;
      label.threshold = name == "department" ? 100 : 50;
      label.retrain_target = "owner/retrain_" + name;
      label.metadata_url = Url(name);
      label.columns = LabelColumns::Defaults(name);
      config_.labels.push_back(label);
    }
    database_.misclassified = {{"department", 100}, {"urgency", 60}};
    database_.pool = {{"department", 1000}, {"urgency", 1000}};
    hub_.Publish(Url("department"), "v1", 50, clock_.Now());
    // Each run of the prepare worker publishes a new version of its labels' datasets 30 s later.
    trigger_.on_start = [this](const StartRequest& request) {
      if (request.target != config_.prepare_target) return;
      const std::string version = "v" + std::to_string(++prepare_runs_ + 1);
      for (const std::string& name : kLabels)
        if (("," + request.label + ",").find("," + name + ",") != std::string::npos)
          hub_.Publish(Url(name), version, 100000, clock_.Now() + 30s);
    };
  }

  void SetUp() override {
    if (engine() == Engine::kPostgres) ORCH_REQUIRE_POSTGRES();
    app_ = AppDatabase::ForEngine(engine() == Engine::kPostgres ? "postgres" : "sqlite", dir_.File("app.db"));
    OpenStateStore(app_->database_url())->Migrate();
  }

  Engine engine() const { return std::get<0>(GetParam()); }
  Hang hang() const { return std::get<1>(GetParam()); }
  static std::string Url(const std::string& label) {
    return "https://hub.test/datasets/owner/" + label + "/resolve/main/dataset_metadata.json";
  }

  std::vector<SqlRow> States() {
    std::vector<SqlRow> rows;
    for (const LabelState& state : OpenStateStore(app_->database_url())->LoadLabels(kLabels))
      rows.push_back(EncodeLabelState(state, SqlDialect::kSqlite));
    return rows;
  }

  // An earlier pass recorded a prepare restart of both labels 20 s ago and died; the restart never
  // arrived: the prepare worker is still paused from its run before.
  void EarlierPassRecordedAPrepare() {
    std::vector<LabelState> states;
    for (const std::string& name : kLabels) {
      LabelState state;
      state.label = name;
      state.phase = Phase::kPreparing;
      state.baseline_version = name == "department" ? std::optional<std::string>("v1") : std::nullopt;
      state.required_len = name == "department" ? 150 : 90;
      state.requested_misclassified = database_.misclassified[name];
      state.prepare_requested_at = state.updated_at = clock_.WallNow() - 20s;
      states.push_back(state);
    }
    OpenStateStore(app_->database_url())->SaveLabels(states);
    trigger_.states[config_.prepare_target] = {WorkerState::Health::kFinished, "stage PAUSED"};
  }

  // A's lock is lost while it hangs: its lease runs out, or its connection drops.
  void LoseTheLockOfA() {
    if (engine() == Engine::kSqlite) {
      clock_.SleepUntil(clock_.Now() + kLease + 1s);
      return;
    }
    // pg_terminate_backend with a timeout returns once the backend has exited.
    ASSERT_EQ(app_->QueryInt("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000)) FROM pg_stat_activity "
                             "WHERE application_name = 'orchestrator host-a:1'"),
              1);
  }

  int RetrainsOf(const std::string& label, const std::string& version) const {
    int count = 0;
    for (const FakeTrigger::Started& start : trigger_.started)
      count += start.request.label == label && start.request.dataset_version == version;
    return count;
  }

  TempDir dir_;
  std::unique_ptr<AppDatabase> app_;
  Config config_;
  FakeClock clock_;
  FakeDatabase database_;
  TimelineHub hub_;
  FakeTrigger trigger_;
  GateHub held_hub_;          // A's Hub
  GateTrigger held_trigger_;  // A's workers
  int prepare_runs_ = 0;
};

std::string ParamName(const ::testing::TestParamInfo<LeaseRaceTest::ParamType>& info) {
  return std::string(HangName(std::get<1>(info.param))) +
         (std::get<0>(info.param) == Engine::kPostgres ? "Postgres" : "Sqlite");
}

INSTANTIATE_TEST_SUITE_P(Pass, LeaseRaceTest,
                         ::testing::Combine(::testing::Values(Engine::kSqlite, Engine::kPostgres),
                                            ::testing::Values(Hang::kBaselineRead, Hang::kPollRead, Hang::kWorkerAsked,
                                                              Hang::kRetrainAnswer)),
                         ParamName);

TEST_P(LeaseRaceTest, APassThatLostTheLockWhileItHungSendsAndWritesNothingMore) {
  if (hang() == Hang::kWorkerAsked) EarlierPassRecordedAPrepare();
  switch (hang()) {
    case Hang::kBaselineRead: held_hub_.reads.HoldCall(1); break;
    case Hang::kPollRead: held_hub_.reads.HoldCall(3); break;  // the baseline, a poll, then this one
    case Hang::kWorkerAsked: held_trigger_.inspects.HoldCall(1); break;
    case Hang::kRetrainAnswer: held_trigger_.starts.HoldCall(2); break;  // its prepare, then its retrains
  }

  // A takes the lock and hangs.
  PassDatabase a(*app_, "host-a:1", clock_);
  ASSERT_TRUE(a.lock().TryAcquire());
  RecordingLog log_a;
  PassReport report_a;
  std::thread pass_a([&] {
    report_a = Pass(config_, {database_, held_hub_, held_trigger_, clock_, log_a, a.state(), &a.lock()}).Run();
  });
  struct ReleaseAndJoin {  // also when an assertion ends the test early
    std::thread& thread;
    std::vector<Gate*> gates;
    ~ReleaseAndJoin() {
      for (Gate* gate : gates) gate->Release();
      if (thread.joinable()) thread.join();
    }
  } release_and_join{pass_a, {&held_hub_.reads, &held_trigger_.inspects, &held_trigger_.starts}};
  Gate& gate = hang() == Hang::kWorkerAsked     ? held_trigger_.inspects
               : hang() == Hang::kRetrainAnswer ? held_trigger_.starts
                                                : held_hub_.reads;
  const bool held = gate.WaitUntilHeld(30s);
  ASSERT_TRUE(held) << "pass A never reached the request it was to hang in";
  const size_t sent_by_a = trigger_.started.size();

  // Its lock is lost; B takes it and completes a cycle.
  LoseTheLockOfA();
  {
    PassDatabase b(*app_, "host-b:2", clock_);
    ASSERT_TRUE(b.lock().TryAcquire()) << b.lock().Holder().description;
    RecordingLog log_b;
    const PassReport report_b = Pass(config_, {database_, hub_, trigger_, clock_, log_b, b.state(), &b.lock()}).Run();
    for (const LabelReport& label : report_b.labels) {
      EXPECT_EQ(label.outcome, Outcome::kRetrainTriggered) << label.label << ": " << label.error.value_or("");
      EXPECT_EQ(label.dataset_version, "v2") << label.label;
    }
    EXPECT_EQ(trigger_.StartsOf(config_.prepare_target), 1) << "one prepare run for the cycle, A's or B's";
    b.lock().Release();
  }
  // By the time A wakes up, the workers B started are done and paused themselves.
  for (const std::string& target :
       {config_.prepare_target, config_.labels[0].retrain_target, config_.labels[1].retrain_target})
    trigger_.states[target] = {WorkerState::Health::kFinished, "stage PAUSED"};
  const std::vector<SqlRow> after_b = States();
  const size_t sent_before_a_woke = trigger_.started.size();

  // A's request returns.
  gate.Release();
  pass_a.join();
  for (size_t k = sent_before_a_woke; k < trigger_.started.size(); ++k)
    ADD_FAILURE() << "pass A sent a restart after it lost the lock: " << trigger_.started[k].request.target << " "
                  << trigger_.started[k].request.label;
  const size_t sent_before_c = trigger_.started.size();
  EXPECT_EQ(States(), after_b) << "pass A wrote over B's state";
  for (const LabelReport& label : report_a.labels)
    EXPECT_EQ(label.outcome, Outcome::kCancelled) << label.label << ": " << label.error.value_or("");
  ASSERT_TRUE(report_a.error.has_value());
  EXPECT_NE(report_a.error->find("run lock"), std::string::npos) << *report_a.error;
  EXPECT_NE(report_a.error->find("lost"), std::string::npos) << *report_a.error;
  EXPECT_EQ(report_a.exit_code(), 1);
  EXPECT_EQ(sent_by_a, hang() == Hang::kRetrainAnswer ? 3u
                       : hang() == Hang::kPollRead    ? 1u
                                                      : 0u)
      << "what A sent before it hung";

  // C finds nothing to do.
  clock_.SleepUntil(clock_.Now() + 1s);
  PassDatabase c(*app_, "host-c:3", clock_);
  ASSERT_TRUE(c.lock().TryAcquire()) << c.lock().Holder().description;
  RecordingLog log_c;
  const PassReport report_c = Pass(config_, {database_, hub_, trigger_, clock_, log_c, c.state(), &c.lock()}).Run();
  EXPECT_EQ(trigger_.started.size(), sent_before_c) << "C sent a restart";
  for (const LabelReport& label : report_c.labels) EXPECT_EQ(label.outcome, Outcome::kUpToDate) << label.label;
  for (const std::string& name : kLabels)
    EXPECT_EQ(RetrainsOf(name, "v2"), 1) << name << " v2 is retrained once in all";
  EXPECT_EQ(States(), after_b);
}

}  // namespace
}  // namespace orch
