// The run lock, against a real SQLite file and a real PostgreSQL server. The shared behaviour runs
// on both engines (RunLock/LockTest.*/<engine>); the SQLite lease's expiry runs on an injected
// clock, and the PostgreSQL lock is shown to die with a process killed by SIGKILL.
#include <gtest/gtest.h>
#include <signal.h>

#include <bit>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>

#include "db/open_database.h"
#include "db/postgres_run_lock.h"
#include "db/sqlite_run_lock.h"
#include "db/sqlite_state_store.h"
#include "db/state_store.h"
#include "support/app_database.h"
#include "support/postgres_server.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"
#include "util/error.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using testing::AppDatabase;
using testing::DatabaseErrorOf;

enum class Engine { kSqlite, kPostgres };

std::string EngineName(const ::testing::TestParamInfo<Engine>& info) {
  return info.param == Engine::kPostgres ? "Postgres" : "Sqlite";
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Polls `condition` until it holds or `timeout` passes; true when it held. For states another
// process changes without telling us (a server noticing a dead client).
bool Eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

class LockTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    if (GetParam() == Engine::kPostgres) ORCH_REQUIRE_POSTGRES();
    app_ = GetParam() == Engine::kPostgres ? AppDatabase::Postgres() : AppDatabase::Sqlite(dir_.File("app.db"));
    OpenStateStore(app_->database_url())->Migrate();  // the SQLite lease table comes with the schema
  }

  std::unique_ptr<RunLock> Lock(const std::string& holder, const std::string& name = "main") {
    return OpenRunLock(app_->database_url(), name, holder, 60s);
  }

  testing::TempDir dir_;
  std::unique_ptr<AppDatabase> app_;
};

INSTANTIATE_TEST_SUITE_P(RunLock, LockTest, ::testing::Values(Engine::kSqlite, Engine::kPostgres), EngineName);

TEST_P(LockTest, ASecondHolderIsRefusedAndToldWhoHoldsIt) {
  std::unique_ptr<RunLock> first = Lock("host-a:101");
  std::unique_ptr<RunLock> second = Lock("host-b:202");
  ASSERT_TRUE(first->TryAcquire());
  EXPECT_FALSE(second->TryAcquire());
  const std::string holder = second->Holder().description;
  EXPECT_TRUE(holder.starts_with("host-a:101 (")) << holder;
  EXPECT_TRUE(Contains(holder, GetParam() == Engine::kPostgres ? "(since 20" : "(lease until 20")) << holder;
  EXPECT_TRUE(first->TryAcquire());  // still ours
}

TEST_P(LockTest, ReleaseFreesIt) {
  std::unique_ptr<RunLock> first = Lock("host-a:101");
  std::unique_ptr<RunLock> second = Lock("host-b:202");
  ASSERT_TRUE(first->TryAcquire());
  ASSERT_TRUE(first->TryAcquire());  // taking it twice must not need two releases
  first->Release();
  EXPECT_TRUE(second->TryAcquire());
  EXPECT_FALSE(first->TryAcquire());
  EXPECT_TRUE(second->Holder().description.starts_with("host-b:202 ("));
}

TEST_P(LockTest, DestroyingTheHolderFreesIt) {
  std::unique_ptr<RunLock> first = Lock("host-a:101");
  ASSERT_TRUE(first->TryAcquire());
  first.reset();
  EXPECT_TRUE(Lock("host-b:202")->TryAcquire());
}

TEST_P(LockTest, RenewKeepsAHeldLock) {
  std::unique_ptr<RunLock> first = Lock("host-a:101");
  EXPECT_FALSE(first->Renew());  // not held yet
  ASSERT_TRUE(first->TryAcquire());
  EXPECT_TRUE(first->Renew());
  EXPECT_FALSE(Lock("host-b:202")->TryAcquire());
}

TEST_P(LockTest, LocksOfDifferentNamesAreIndependent) {
  std::unique_ptr<RunLock> production = Lock("host-a:101", "production");
  std::unique_ptr<RunLock> staging = Lock("host-b:202", "staging");
  EXPECT_TRUE(production->TryAcquire());
  EXPECT_TRUE(staging->TryAcquire());
}

TEST_P(LockTest, HolderOfAFreeLockIsUnknown) { EXPECT_EQ(Lock("host-a:101")->Holder().description, "unknown"); }

// A lease whose clock the test moves.
class RunLockSqlite : public ::testing::Test {
 protected:
  void SetUp() override { OpenStateStore(app_->database_url())->Migrate(); }

  std::unique_ptr<SqliteRunLock> Lock(const std::string& holder, std::chrono::seconds lease = 60s) {
    return std::make_unique<SqliteRunLock>(app_->database_url().target, "main", holder, lease, nullptr,
                                           [this] { return now_; });
  }

  testing::TempDir dir_;
  std::unique_ptr<AppDatabase> app_ = AppDatabase::Sqlite(dir_.File("app.db"));
  WallTime now_ = std::chrono::sys_days{std::chrono::year(2026) / 11 / 26} + 7h;
};

TEST_F(RunLockSqlite, ALeaseExpiresAndAnotherHolderTakesIt) {
  std::unique_ptr<SqliteRunLock> first = Lock("host-a:101");
  std::unique_ptr<SqliteRunLock> second = Lock("host-b:202");
  ASSERT_TRUE(first->TryAcquire());
  now_ += 60s;  // expires_at is not yet past
  EXPECT_FALSE(second->TryAcquire());
  EXPECT_EQ(second->Holder().description, "host-a:101 (lease until 2026-11-26T07:01:00.000Z)");
  now_ += 1ms;
  EXPECT_EQ(second->Holder().description, "host-a:101 (lease expired at 2026-11-26T07:01:00.000Z)");
  EXPECT_TRUE(second->TryAcquire());
  EXPECT_EQ(first->Holder().description, "host-b:202 (lease until 2026-11-26T07:02:00.001Z)");
  EXPECT_FALSE(first->Renew());  // lost
  EXPECT_FALSE(first->TryAcquire());
  first->Release();  // deletes nothing of the new holder's
  EXPECT_TRUE(first->Holder().description.starts_with("host-b:202"));
}

// The race the lease must fence: a pass stalls past its lease, another takes the lock and works,
// and the first wakes up. Its state writes are refused in their own transaction, and nothing of
// the second pass's is overwritten.
TEST_F(RunLockSqlite, AWriteOfAPassWhoseLeaseWasTakenIsRefusedAndChangesNothing) {
  std::unique_ptr<SqliteRunLock> first = Lock("host-a:101");
  SqliteStateStore first_store(app_->database_url().target);
  first_store.SetFence([lock = first.get()](SqliteSession& session) { lock->CheckHeldIn(session); });
  ASSERT_TRUE(first->TryAcquire());
  LabelState preparing;
  preparing.label = "department";
  preparing.phase = Phase::kPreparing;
  preparing.prepare_requested_at = now_;
  preparing.updated_at = now_;
  first_store.SaveLabel(preparing);  // held: written

  now_ += 61s;  // the first pass stalls past its lease; the second takes the lock and works
  std::unique_ptr<SqliteRunLock> second = Lock("host-b:202");
  ASSERT_TRUE(second->TryAcquire());
  LabelState retrained;
  retrained.label = "department";
  retrained.last_retrained_version = "v2";
  retrained.updated_at = now_;
  SqliteStateStore(app_->database_url().target).SaveLabel(retrained);

  LabelState stale = preparing;  // what the first pass would save when it wakes up
  stale.dataset_version = "v2";
  const std::vector<LabelState> both = {stale, stale};
  for (const std::span<const LabelState> states :
       {std::span<const LabelState>(&stale, 1), std::span<const LabelState>(both)}) {
    try {
      first_store.SaveLabels(states);
      ADD_FAILURE() << "a write after the lease was taken went through";
    } catch (const LockLostError& error) {
      EXPECT_NE(std::string(error.what()).find("the run lock \"main\" was lost"), std::string::npos) << error.what();
    }
  }
  const std::vector<std::string> labels = {"department"};
  const LabelState kept = SqliteStateStore(app_->database_url().target).LoadLabels(labels).front();
  EXPECT_EQ(kept.phase, Phase::kIdle) << "the second pass's state stands";
  EXPECT_EQ(kept.last_retrained_version, "v2");
  EXPECT_FALSE(first->Renew());
}

TEST_F(RunLockSqlite, AnExpiredLeaseNobodyTookStillFencesTheWrite) {
  std::unique_ptr<SqliteRunLock> first = Lock("host-a:101");
  SqliteStateStore store(app_->database_url().target);
  store.SetFence([lock = first.get()](SqliteSession& session) { lock->CheckHeldIn(session); });
  ASSERT_TRUE(first->TryAcquire());
  now_ += 61s;
  LabelState state;
  state.label = "urgency";
  state.updated_at = now_;
  EXPECT_THROW(store.SaveLabel(state), LockLostError) << "another pass may take it at any moment";
}

TEST_F(RunLockSqlite, RenewingMovesTheExpiry) {
  std::unique_ptr<SqliteRunLock> first = Lock("host-a:101");
  std::unique_ptr<SqliteRunLock> second = Lock("host-b:202");
  ASSERT_TRUE(first->TryAcquire());
  now_ += 50s;
  EXPECT_TRUE(first->Renew());  // now until 07:01:50
  now_ += 50s;
  EXPECT_FALSE(second->TryAcquire());
  now_ += 11s;
  EXPECT_TRUE(second->TryAcquire());
}

TEST_F(RunLockSqlite, TheLeaseRowSaysWhoAndUntilWhen) {
  // A lease this holder left behind (same host and pid) is taken over at once.
  app_->Exec(
      "INSERT INTO orchestrator_lock (name, holder, expires_at) VALUES ('main', 'host-a:101', '2099-01-01 00:00:00')");
  std::unique_ptr<SqliteRunLock> lock = Lock("host-a:101", 90s);
  ASSERT_TRUE(lock->TryAcquire());
  SqliteSession session(app_->database_url().target, SqliteAccess::kReadWrite, SqliteTables::kOrchestrator);
  const std::vector<SqlRow> rows =
      session.Query("SELECT name, holder, acquired_at, expires_at FROM orchestrator_lock", {}, "");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], (SqlRow{"main", "host-a:101", "2026-11-26T07:00:00.000Z", "2026-11-26T07:01:30.000Z"}));
  lock->Release();
  EXPECT_TRUE(session.Query("SELECT name FROM orchestrator_lock", {}, "").empty());
}

TEST_F(RunLockSqlite, AnExpiryEditedIntoNonsenseIsAClearError) {
  ASSERT_TRUE(Lock("host-a:101")->TryAcquire());
  app_->Exec(
      "INSERT INTO orchestrator_lock (name, holder, expires_at) VALUES ('main', 'x', 'soon') "
      "ON CONFLICT (name) DO UPDATE SET expires_at = 'soon'");
  const std::string message = DatabaseErrorOf([&] { Lock("host-b:202")->TryAcquire(); });
  EXPECT_TRUE(Contains(message, "expires_at holds \"soon\"")) << message;
  EXPECT_TRUE(Contains(message, "DELETE FROM orchestrator_lock WHERE name = 'main'")) << message;
}

TEST(RunLockSqliteUnmigrated, TakingTheLockBeforeMigratingSaysSo) {
  testing::TempDir dir;
  std::unique_ptr<AppDatabase> app = AppDatabase::Sqlite(dir.File("app.db"));
  app->CreateSchema();
  const std::string message =
      DatabaseErrorOf([&] { OpenRunLock(app->database_url(), "main", "host-a:1", 60s)->TryAcquire(); });
  EXPECT_TRUE(Contains(message, "orchestrator_lock")) << message;
  EXPECT_TRUE(Contains(message, "migrations")) << message;
}

TEST(RunLockKeys, AreFnv1a64OfThePrefixedName) {
  EXPECT_EQ(std::bit_cast<uint64_t>(AdvisoryLockKey("")), 0xcbf29ce484222325ULL);
  EXPECT_EQ(std::bit_cast<uint64_t>(AdvisoryLockKey("a")), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(std::bit_cast<uint64_t>(AdvisoryLockKey("foobar")), 0x85944171f73967e8ULL);
  EXPECT_EQ(RunLockKey("main"), AdvisoryLockKey("orchestrator:main"));
  EXPECT_NE(RunLockKey("main"), RunLockKey("staging"));
}

class RunLockPostgres : public testing::PostgresTest {
 protected:
  void SetUp() override {
    testing::PostgresTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    app_ = AppDatabase::Postgres();
  }

  std::unique_ptr<RunLock> Lock(const std::string& holder) {
    return OpenRunLock(app_->database_url(), "main", holder, 60s);
  }

  std::string Psql() const {
    const std::string bundled = testing::FindPostgresBinDir() + "/psql";
    return std::filesystem::exists(bundled) ? bundled : "psql";
  }

  std::unique_ptr<AppDatabase> app_;
};

TEST_F(RunLockPostgres, AKilledHolderReleasesTheLockWithItsConnection) {
  // A stand-in for another orchestrator: it takes the lock, then idles on its connection (the
  // shell command runs while psql waits, connection open and no query running), as a pass does.
  const std::string take = "SELECT pg_advisory_lock(" + std::to_string(RunLockKey("main")) + ")";
  testing::Subprocess holder({Psql(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", app_->url(), "-c", take, "-c",
                              "\\! echo locked; exec sleep 60"},
                             {{"PATH", "/usr/bin:/bin"}, {"PGAPPNAME", "orchestrator other-host:4242"}});
  ASSERT_TRUE(holder.WaitForOutput("locked", 30s)) << holder.err();

  std::unique_ptr<RunLock> lock = Lock("host-a:101");
  EXPECT_FALSE(lock->TryAcquire());
  const std::string description = lock->Holder().description;
  EXPECT_TRUE(description.starts_with("other-host:4242 (since 20")) << description;

  holder.Signal(SIGKILL);
  EXPECT_TRUE(Eventually([&] { return lock->TryAcquire(); }, 30s)) << lock->Holder().description;
}

TEST_F(RunLockPostgres, ASessionHoldingTheKeyThatIsNoOrchestratorIsDescribedToo) {
  const std::string take = "SELECT pg_advisory_lock(" + std::to_string(RunLockKey("main")) + ")";
  testing::Subprocess holder(
      {Psql(), "-X", "-q", "-d", app_->url(), "-c", take, "-c", "\\! echo locked; exec sleep 60"},
      {{"PATH", "/usr/bin:/bin"}, {"PGAPPNAME", "psql"}});
  ASSERT_TRUE(holder.WaitForOutput("locked", 30s)) << holder.err();
  const std::string description = Lock("host-a:101")->Holder().description;
  EXPECT_TRUE(description.starts_with("\"psql\" (backend pid ")) << description;
}

TEST_F(RunLockPostgres, RenewSaysSoWhenTheConnectionWasLost) {
  std::unique_ptr<RunLock> lock = Lock("host-a:101");
  ASSERT_TRUE(lock->TryAcquire());
  ASSERT_TRUE(lock->Renew());
  // pg_terminate_backend with a timeout returns once the backend has exited.
  EXPECT_EQ(app_->QueryInt("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000)) FROM pg_stat_activity "
                           "WHERE application_name = 'orchestrator host-a:101'"),
            1);
  EXPECT_FALSE(lock->Renew());
  EXPECT_TRUE(Lock("host-b:202")->TryAcquire());
  // No silent reconnection: the pass's state went with the session, so the pass must stop.
  EXPECT_TRUE(Contains(DatabaseErrorOf([&] { lock->TryAcquire(); }), "no connection to the server"));
}

TEST_F(RunLockPostgres, AnUnreachableServerIsADatabaseError) {
  DatabaseUrl url;
  url.kind = DatabaseUrl::Kind::kPostgres;
  url.target = url.redacted = "postgresql://postgres@127.0.0.1:" + std::to_string(testing::FreeLoopbackPort()) + "/x";
  const std::string message = DatabaseErrorOf([&] { OpenRunLock(url, "main", "host-a:1", 60s); });
  EXPECT_TRUE(Contains(message, url.redacted)) << message;
}

}  // namespace
}  // namespace orch
