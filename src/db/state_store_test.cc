// The orchestrator's state store and its migrations, against a real SQLite file and a real
// PostgreSQL server. The shared behaviour runs on both engines, instantiated as
// Migrations/MigrationTest.*/<engine> and StateStore/StoreTest.*/<engine>.
#include "db/state_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <latch>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "db/migrations.h"
#include "db/open_database.h"
#include "db/postgres_state_store.h"
#include "db/sqlite_state_store.h"
#include "db/state_codec.h"
#include "support/app_database.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"
#include "util/error.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;
using testing::AppDatabase;
using testing::DatabaseErrorOf;

enum class Engine { kSqlite, kPostgres };

std::string EngineName(const ::testing::TestParamInfo<Engine>& info) {
  return info.param == Engine::kPostgres ? "Postgres" : "Sqlite";
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// 2026-11-26T07:31:02.123456789Z: finer than a millisecond, to show what a round trip keeps.
const WallTime kPrecise = sys_days{std::chrono::year(2026) / 11 / 26} + 7h + 31min + 2s + 123456789ns;
WallTime ToMillis(WallTime time) { return std::chrono::floor<std::chrono::milliseconds>(time); }

LabelState EveryFieldSet(const std::string& label) {
  LabelState state;
  state.label = label;
  state.phase = Phase::kRetraining;
  state.baseline_version = "v7";
  state.required_len = 1234567890123;
  state.prepare_requested_at = kPrecise;
  state.prepare_confirmed = true;
  state.dataset_version = "v8";
  state.retrain_requested_at = kPrecise + 1h;
  state.retrain_confirmed = true;
  state.last_retrained_version = "v6";
  state.last_retrained_at = kPrecise - 24h * 30;
  state.prepare_run_id = "my-org/68a1f0c2e4b0a1b2c3d4e5f6";
  state.retrain_run_id = "tester/68a1f0c2e4b0a1b2c3d4e5f7";
  state.updated_at = kPrecise + 2h;
  return state;
}

RunRecord StartingRun(WallTime started_at, const std::string& started_by = "cli") {
  RunRecord run;
  run.started_at = started_at;
  run.status = "running";
  run.started_by = started_by;
  return run;
}

// What a state is expected to look like after a round trip: times cut to the millisecond.
void ExpectSameState(const LabelState& actual, const LabelState& saved) {
  const auto millis = [](const std::optional<WallTime>& time) {
    return time ? std::optional<WallTime>(ToMillis(*time)) : std::nullopt;
  };
  EXPECT_EQ(actual.label, saved.label);
  EXPECT_EQ(actual.phase, saved.phase);
  EXPECT_EQ(actual.baseline_version, saved.baseline_version);
  EXPECT_EQ(actual.required_len, saved.required_len);
  EXPECT_EQ(actual.prepare_requested_at, millis(saved.prepare_requested_at));
  EXPECT_EQ(actual.prepare_confirmed, saved.prepare_confirmed);
  EXPECT_EQ(actual.dataset_version, saved.dataset_version);
  EXPECT_EQ(actual.retrain_requested_at, millis(saved.retrain_requested_at));
  EXPECT_EQ(actual.retrain_confirmed, saved.retrain_confirmed);
  EXPECT_EQ(actual.last_retrained_version, saved.last_retrained_version);
  EXPECT_EQ(actual.last_retrained_at, millis(saved.last_retrained_at));
  EXPECT_EQ(actual.prepare_run_id, saved.prepare_run_id);
  EXPECT_EQ(actual.retrain_run_id, saved.retrain_run_id);
  EXPECT_EQ(actual.updated_at, ToMillis(saved.updated_at));
}

// The application's database with its tables, on the engine of the test's parameter.
class EngineTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    if (GetParam() == Engine::kPostgres) ORCH_REQUIRE_POSTGRES();
    app_ = GetParam() == Engine::kPostgres ? AppDatabase::Postgres() : AppDatabase::Sqlite(dir_.File("app.db"));
    app_->CreateSchema();
    app_->AddCorrectComplaints(3);
  }

  bool postgres() const { return GetParam() == Engine::kPostgres; }
  std::unique_ptr<StateStore> Open() { return OpenStateStore(app_->database_url()); }
  std::unique_ptr<StateStore> OpenMigrated() {
    std::unique_ptr<StateStore> store = Open();
    store->Migrate();
    return store;
  }

  // Every table, index and sequence in the database (SQLite's own sqlite_* objects left out).
  std::vector<std::string> ObjectNames() {
    std::vector<SqlRow> rows;
    if (postgres()) {
      PgSession session(app_->database_url(), "orchestrator-test", PgAccess::kReadWrite);
      rows = session.Query(
          "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
          "WHERE n.nspname = current_schema() ORDER BY 1",
          {}, "listing relations");
    } else {
      SqliteSession session(app_->database_url().target, SqliteAccess::kReadWrite, SqliteTables::kOrchestrator);
      rows = session.Query("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY 1", {},
                           "listing objects");
    }
    std::vector<std::string> names;
    for (const SqlRow& row : rows) names.push_back(row[0].value_or(""));
    return names;
  }

  testing::TempDir dir_;
  std::unique_ptr<AppDatabase> app_;
};

class MigrationTest : public EngineTest {};
class StoreTest : public EngineTest {};

INSTANTIATE_TEST_SUITE_P(Migrations, MigrationTest, ::testing::Values(Engine::kSqlite, Engine::kPostgres), EngineName);
INSTANTIATE_TEST_SUITE_P(StateStore, StoreTest, ::testing::Values(Engine::kSqlite, Engine::kPostgres), EngineName);

TEST_P(MigrationTest, MigratingTwiceAppliesEachVersionOnce) {
  std::unique_ptr<StateStore> store = Open();
  EXPECT_EQ(store->SchemaVersion(), 0);
  EXPECT_EQ(store->Migrate(), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(store->SchemaVersion(), 3);
  EXPECT_EQ(store->Migrate(), std::vector<int>{});
  EXPECT_EQ(Open()->Migrate(), std::vector<int>{});  // another connection sees the same version
  EXPECT_EQ(app_->QueryInt("SELECT count(*) FROM orchestrator_schema_migrations"), 3);
  EXPECT_EQ(app_->QueryInt("SELECT max(version) FROM orchestrator_schema_migrations"), 3);
}

TEST_P(MigrationTest, TablesOfAnOlderSchemaAreRefusedWithTheCommandThatMigratesThem) {
  std::unique_ptr<StateStore> store = OpenMigrated();
  app_->Exec("DELETE FROM orchestrator_schema_migrations WHERE version = 3");  // as an older orchestrator left it
  const std::vector<std::string> labels = {"department"};
  const std::string error = DatabaseErrorOf([&] { Open()->LoadLabels(labels); });
  EXPECT_TRUE(error.find("schema version 2") != std::string::npos) << error;
  EXPECT_TRUE(error.find("run `orchestrator migrate`") != std::string::npos) << error;
}

TEST_P(MigrationTest, VersionsFollowOneAnotherFromOne) {
  int expected = 1;
  for (const Migration& migration : Migrations()) EXPECT_EQ(migration.version, expected++);
}

TEST_P(MigrationTest, ConcurrentMigrationsAllSucceedAndApplyOnce) {
  constexpr int kMigrators = 4;
  std::vector<std::unique_ptr<StateStore>> stores;
  for (int i = 0; i < kMigrators; ++i) stores.push_back(Open());
  std::vector<std::vector<int>> applied(kMigrators);
  std::vector<std::string> errors(kMigrators);
  std::latch start(kMigrators);
  std::vector<std::thread> threads;
  for (int i = 0; i < kMigrators; ++i)
    threads.emplace_back([&, i] {
      start.arrive_and_wait();  // all four reach Migrate() together
      errors[i] = DatabaseErrorOf([&] { applied[i] = stores[i]->Migrate(); });
    });
  for (std::thread& thread : threads) thread.join();

  for (const std::string& error : errors) EXPECT_EQ(error, "");
  // Each version applied by exactly one of them (one may apply 1 while another applies 2).
  std::map<int, int> appliers;
  for (const std::vector<int>& versions : applied)
    for (int version : versions) ++appliers[version];
  EXPECT_EQ(appliers, (std::map<int, int>{{1, 1}, {2, 1}, {3, 1}}));
  EXPECT_EQ(app_->QueryInt("SELECT count(*) FROM orchestrator_schema_migrations"), 3);
  const std::vector<std::string> names = ObjectNames();
  EXPECT_EQ(std::count(names.begin(), names.end(), "orchestrator_label_state"), 1);
}

TEST_P(MigrationTest, AddsOnlyOrchestratorTablesAndLeavesTheApplicationsRowsAlone) {
  const std::vector<std::string> before = ObjectNames();
  const int64_t complaints = app_->QueryInt("SELECT count(*) FROM complaints");
  std::unique_ptr<StateStore> store = OpenMigrated();
  store->SaveLabel(EveryFieldSet("department"));
  store->FinishRun(store->BeginRun(StartingRun(kPrecise)), kPrecise, "ok", "{}");

  std::vector<std::string> added;
  for (const std::string& name : ObjectNames())
    if (std::find(before.begin(), before.end(), name) == before.end()) added.push_back(name);
  for (const std::string& name : added) EXPECT_TRUE(name.starts_with("orchestrator_")) << name;
  for (const char* table : {"orchestrator_schema_migrations", "orchestrator_label_state", "orchestrator_runs",
                            "orchestrator_lock", "orchestrator_runs_started_at_idx"})
    EXPECT_NE(std::find(added.begin(), added.end(), table), added.end()) << table;
  EXPECT_EQ(app_->QueryInt("SELECT count(*) FROM complaints"), complaints);
}

TEST_P(StoreTest, BeforeMigratingNothingIsRecordedAndNothingIsCreated) {
  std::unique_ptr<StateStore> store = Open();
  const std::vector<std::string> labels = {"urgency", "department"};
  const std::vector<LabelState> states = store->LoadLabels(labels);
  ASSERT_EQ(states.size(), 2u);
  for (size_t i = 0; i < labels.size(); ++i) {
    EXPECT_EQ(states[i].label, labels[i]);
    EXPECT_EQ(states[i].phase, Phase::kIdle);
    EXPECT_EQ(states[i].baseline_version, std::nullopt);
    EXPECT_EQ(states[i].prepare_requested_at, std::nullopt);
  }
  EXPECT_TRUE(store->History(10).empty());
  EXPECT_EQ(store->SchemaVersion(), 0);
  const std::vector<std::string> names = ObjectNames();
  EXPECT_EQ(std::count_if(names.begin(), names.end(), [](const std::string& n) { return n.starts_with("orch"); }), 0);
}

TEST_P(StoreTest, SavedStatesComeBackWithEveryFieldAndMillisecondTimes) {
  std::unique_ptr<StateStore> store = OpenMigrated();
  const LabelState full = EveryFieldSet("department");
  LabelState bare;  // every optional field absent
  bare.label = "urgency";
  bare.updated_at = kPrecise;
  store->SaveLabel(full);
  store->SaveLabel(bare);

  const std::vector<std::string> labels = {"urgency", "never_saved", "department"};
  const std::vector<LabelState> loaded = Open()->LoadLabels(labels);  // committed: another connection sees it
  ASSERT_EQ(loaded.size(), 3u);
  ExpectSameState(loaded[0], bare);
  EXPECT_EQ(loaded[1].label, "never_saved");
  EXPECT_EQ(loaded[1].phase, Phase::kIdle);
  ExpectSameState(loaded[2], full);
  EXPECT_EQ(loaded[2].updated_at, sys_days{std::chrono::year(2026) / 11 / 26} + 9h + 31min + 2s + 123ms);
}

TEST_P(StoreTest, SavingALabelAgainReplacesItsRow) {
  std::unique_ptr<StateStore> store = OpenMigrated();
  LabelState state = EveryFieldSet("department");
  store->SaveLabel(state);
  state.phase = Phase::kPreparing;
  state.dataset_version.reset();
  state.retrain_requested_at.reset();
  state.retrain_confirmed = false;
  state.required_len = 0;
  state.updated_at += 1min;
  store->SaveLabel(state);

  EXPECT_EQ(app_->QueryInt("SELECT count(*) FROM orchestrator_label_state"), 1);
  const std::vector<std::string> labels = {"department"};
  ExpectSameState(Open()->LoadLabels(labels)[0], state);
}

TEST_P(StoreTest, ValuesAreBoundNotSpliced) {
  std::unique_ptr<StateStore> store = OpenMigrated();
  LabelState state = EveryFieldSet("it's");
  state.baseline_version = "v1'); DROP TABLE complaints; --";
  store->SaveLabel(state);
  const std::vector<std::string> labels = {"it's"};
  ExpectSameState(store->LoadLabels(labels)[0], state);
  EXPECT_EQ(app_->QueryInt("SELECT count(*) FROM complaints"), 3);
}

TEST_P(StoreTest, AStateThatCouldNotBeReadBackIsNotSaved) {
  std::unique_ptr<StateStore> store = OpenMigrated();
  LabelState preparing;
  preparing.label = "department";
  preparing.phase = Phase::kPreparing;  // without prepare_requested_at
  EXPECT_TRUE(Contains(DatabaseErrorOf([&] { store->SaveLabel(preparing); }), "prepare_requested_at"));
  LabelState negative = EveryFieldSet("department");
  negative.required_len = -1;
  EXPECT_TRUE(Contains(DatabaseErrorOf([&] { store->SaveLabel(negative); }), "required_len"));
  EXPECT_EQ(app_->QueryInt("SELECT count(*) FROM orchestrator_label_state"), 0);
}

TEST_P(StoreTest, AnUnknownPhaseWrittenByHandIsAClearError) {
  std::unique_ptr<StateStore> store = OpenMigrated();
  store->SaveLabel(EveryFieldSet("department"));
  store->SaveLabel(EveryFieldSet("urgency"));
  // The CHECK constraint stops this edit; someone determined enough gets past it.
  if (postgres())
    app_->Exec("ALTER TABLE orchestrator_label_state DROP CONSTRAINT orchestrator_label_state_phase_check");
  else
    app_->Exec("PRAGMA ignore_check_constraints = ON");
  app_->Exec("UPDATE orchestrator_label_state SET phase = 'bogus' WHERE label = 'department'");

  const std::vector<std::string> both = {"urgency", "department"};
  const std::string message = DatabaseErrorOf([&] { store->LoadLabels(both); });
  EXPECT_TRUE(Contains(message, "\"department\"")) << message;
  EXPECT_TRUE(Contains(message, "column phase")) << message;
  EXPECT_TRUE(Contains(message, "\"bogus\"")) << message;
  const std::string repair = "UPDATE orchestrator_label_state SET phase = 'idle' WHERE label = 'department'";
  EXPECT_TRUE(Contains(message, repair)) << message;
  EXPECT_TRUE(Contains(message, "DELETE FROM orchestrator_label_state WHERE label = 'department'")) << message;

  const std::vector<std::string> other = {"urgency"};
  EXPECT_EQ(store->LoadLabels(other)[0].phase, Phase::kRetraining);  // only the bad row's label fails
  app_->Exec(repair);                                                // the repair the message suggests works
  EXPECT_EQ(store->LoadLabels(both)[1].phase, Phase::kIdle);
}

TEST_P(StoreTest, ANegativeRequiredLengthWrittenByHandIsAClearError) {
  std::unique_ptr<StateStore> store = OpenMigrated();
  store->SaveLabel(EveryFieldSet("department"));
  app_->Exec("UPDATE orchestrator_label_state SET required_len = -5");
  const std::vector<std::string> labels = {"department"};
  const std::string message = DatabaseErrorOf([&] { store->LoadLabels(labels); });
  EXPECT_TRUE(Contains(message, "\"department\"")) << message;
  EXPECT_TRUE(Contains(message, "column required_len holds \"-5\", which is negative")) << message;
  const std::string repair =
      "UPDATE orchestrator_label_state SET phase = 'idle', required_len = NULL WHERE label = 'department'";
  EXPECT_TRUE(Contains(message, repair)) << message;
  app_->Exec(repair);
  EXPECT_EQ(store->LoadLabels(labels)[0].required_len, std::nullopt);
}

TEST_P(StoreTest, PreparingWithoutARequestTimeWrittenByHandIsAClearError) {
  std::unique_ptr<StateStore> store = OpenMigrated();
  store->SaveLabel(EveryFieldSet("department"));
  app_->Exec("UPDATE orchestrator_label_state SET phase = 'preparing', prepare_requested_at = NULL");
  const std::vector<std::string> labels = {"department"};
  const std::string message = DatabaseErrorOf([&] { store->LoadLabels(labels); });
  EXPECT_TRUE(Contains(message, "column prepare_requested_at holds NULL, while phase is preparing")) << message;
  EXPECT_TRUE(Contains(message, "SET phase = 'idle'")) << message;
  EXPECT_TRUE(Contains(message, "DELETE FROM orchestrator_label_state WHERE label = 'department'")) << message;
}

TEST_P(StoreTest, RunsAreRecordedAndListedNewestFirst) {
  std::unique_ptr<StateStore> store = OpenMigrated();
  RunRecord second = StartingRun(kPrecise + 1h, "schedule");
  second.dry_run = true;
  second.github_run_id = "9876543210";
  second.commit = "0123abcd";
  const RunRecord first = StartingRun(kPrecise);
  const RunRecord third = StartingRun(kPrecise + 2h, "manual");
  const int64_t second_id = store->BeginRun(second);
  const int64_t first_id = store->BeginRun(first);
  const int64_t third_id = store->BeginRun(third);
  EXPECT_NE(second_id, first_id);
  const std::string summary = R"({"labels": [{"name": "department", "count": 12}], "ok": true})";
  store->FinishRun(second_id, kPrecise + 1h + 5min + 1ms, "ok", summary);

  const std::vector<RunRecord> runs = Open()->History(10);
  ASSERT_EQ(runs.size(), 3u);
  EXPECT_EQ(runs[0].id, third_id);
  EXPECT_EQ(runs[1].id, second_id);
  EXPECT_EQ(runs[2].id, first_id);

  const RunRecord& finished = runs[1];
  EXPECT_EQ(finished.started_at, ToMillis(second.started_at));
  EXPECT_EQ(finished.finished_at, ToMillis(kPrecise + 1h + 5min + 1ms));
  EXPECT_EQ(finished.status, "ok");
  EXPECT_TRUE(finished.dry_run);
  EXPECT_EQ(finished.started_by, "schedule");
  EXPECT_EQ(finished.github_run_id, "9876543210");
  EXPECT_EQ(finished.commit, "0123abcd");
  EXPECT_EQ(nlohmann::json::parse(finished.summary_json), nlohmann::json::parse(summary));

  const RunRecord& running = runs[0];
  EXPECT_EQ(running.finished_at, std::nullopt);
  EXPECT_EQ(running.status, "running");
  EXPECT_FALSE(running.dry_run);
  EXPECT_EQ(running.github_run_id, "");
  EXPECT_EQ(running.commit, "");
  EXPECT_EQ(running.summary_json, "");
}

TEST_P(StoreTest, HistoryKeepsToItsLimit) {
  std::unique_ptr<StateStore> store = OpenMigrated();
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(store->BeginRun(StartingRun(kPrecise + i * 1min)));
  const std::vector<RunRecord> last_two = store->History(2);
  ASSERT_EQ(last_two.size(), 2u);
  EXPECT_EQ(last_two[0].id, ids[4]);
  EXPECT_EQ(last_two[1].id, ids[3]);
  EXPECT_EQ(store->History(100).size(), 5u);
  EXPECT_TRUE(store->History(0).empty());
}

TEST_P(StoreTest, FinishingAnUnknownRunIsAnError) {
  std::unique_ptr<StateStore> store = OpenMigrated();
  const std::string message = DatabaseErrorOf([&] { store->FinishRun(4242, kPrecise, "ok", "{}"); });
  EXPECT_TRUE(Contains(message, "4242")) << message;
}

// SQLite keeps times as text people can read and edit in the sqlite3 shell.
class StateStoreSqlite : public ::testing::Test {
 protected:
  void SetUp() override {
    app_->CreateSchema();
    store_->Migrate();
  }
  std::vector<LabelState> Load(const std::string& label) { return store_->LoadLabels(std::vector<std::string>{label}); }

  testing::TempDir dir_;
  std::unique_ptr<AppDatabase> app_ = AppDatabase::Sqlite(dir_.File("app.db"));
  std::unique_ptr<StateStore> store_ = OpenStateStore(app_->database_url());
};

TEST_F(StateStoreSqlite, TimesAreIsoTextInUtcWithMilliseconds) {
  store_->SaveLabel(EveryFieldSet("department"));
  SqliteSession session(app_->database_url().target, SqliteAccess::kReadWrite, SqliteTables::kOrchestrator);
  const std::vector<SqlRow> rows = session.Query(
      "SELECT prepare_requested_at, typeof(required_len), prepare_confirmed FROM orchestrator_label_state", {}, "");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "2026-11-26T07:31:02.123Z");
  EXPECT_EQ(rows[0][1], "integer");
  EXPECT_EQ(rows[0][2], "1");
}

TEST_F(StateStoreSqlite, TimesTypedInTheShellAreAccepted) {
  store_->SaveLabel(EveryFieldSet("department"));
  app_->Exec("UPDATE orchestrator_label_state SET updated_at = '2026-11-27 08:00:00', last_retrained_at = NULL");
  const LabelState state = Load("department")[0];
  EXPECT_EQ(state.updated_at, sys_days{std::chrono::year(2026) / 11 / 27} + 8h);
  EXPECT_EQ(state.last_retrained_at, std::nullopt);
}

TEST_F(StateStoreSqlite, AnUnparseableTimeIsAClearError) {
  store_->SaveLabel(EveryFieldSet("department"));
  app_->Exec("UPDATE orchestrator_label_state SET retrain_requested_at = 'yesterday'");
  const std::string message = DatabaseErrorOf([&] { Load("department"); });
  EXPECT_TRUE(Contains(message, "\"department\"")) << message;
  EXPECT_TRUE(Contains(message, "column retrain_requested_at holds \"yesterday\"")) << message;
  const std::string repair =
      "UPDATE orchestrator_label_state SET phase = 'idle', retrain_requested_at = NULL WHERE label = 'department'";
  EXPECT_TRUE(Contains(message, repair)) << message;
  app_->Exec(repair);
  EXPECT_EQ(Load("department")[0].retrain_requested_at, std::nullopt);
}

TEST_F(StateStoreSqlite, AnUnreadableRequiredTimeCanOnlyBeDeleted) {
  store_->SaveLabel(EveryFieldSet("department"));
  app_->Exec("UPDATE orchestrator_label_state SET updated_at = '26/11/2026'");
  const std::string message = DatabaseErrorOf([&] { Load("department"); });
  EXPECT_TRUE(Contains(message, "column updated_at holds \"26/11/2026\"")) << message;
  EXPECT_TRUE(Contains(message, "DELETE the row: DELETE FROM orchestrator_label_state WHERE label = 'department'"))
      << message;
}

TEST_F(StateStoreSqlite, TheJournalModeIsLeftAlone) {
  store_->SaveLabel(EveryFieldSet("department"));
  SqliteSession session(app_->database_url().target, SqliteAccess::kReadWrite, SqliteTables::kOrchestrator);
  EXPECT_EQ(session.Query("PRAGMA journal_mode", {}, "")[0][0], "delete");
}

TEST(StateStoreSqliteOpen, AMissingFileIsAnErrorAndIsNotCreated) {
  testing::TempDir dir;
  DatabaseUrl url;
  url.target = dir.File("missing.db");
  const std::string message = DatabaseErrorOf([&] { OpenStateStore(url); });
  EXPECT_TRUE(Contains(message, "does not exist")) << message;
  EXPECT_FALSE(std::filesystem::exists(url.target));
}

class StateStorePostgres : public testing::PostgresTest {};

TEST_F(StateStorePostgres, ConnectsAsTheOrchestratorWithTimesAsTimestamptz) {
  std::unique_ptr<AppDatabase> app = AppDatabase::Postgres();
  std::unique_ptr<StateStore> store = OpenStateStore(app->database_url());
  store->Migrate();
  EXPECT_EQ(app->QueryInt("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'orchestrator' "
                          "AND datname = current_database()"),
            1);
  // label_state 5, runs 2, lock 2, schema_migrations 1.
  EXPECT_EQ(app->QueryInt("SELECT count(*) FROM information_schema.columns WHERE table_name LIKE 'orchestrator_%' "
                          "AND data_type = 'timestamp with time zone' AND table_schema = current_schema()"),
            10);
  EXPECT_EQ(app->QueryInt("SELECT count(*) FROM information_schema.columns WHERE table_name = 'orchestrator_runs' "
                          "AND column_name = 'summary' AND data_type = 'jsonb'"),
            1);
}

TEST_F(StateStorePostgres, AServerThatWentAwayGivesDatabaseErrors) {
  auto server = std::make_unique<testing::PostgresServer>();
  DatabaseUrl url;
  url.kind = DatabaseUrl::Kind::kPostgres;
  url.target = url.redacted = server->CreateDatabase("going_away");
  std::unique_ptr<StateStore> store = OpenStateStore(url);
  store->Migrate();
  server.reset();  // stops the server

  const std::vector<std::string> labels = {"department"};
  EXPECT_NE(DatabaseErrorOf([&] { store->LoadLabels(labels); }), "");
  EXPECT_NE(DatabaseErrorOf([&] { store->SaveLabel(EveryFieldSet("department")); }), "");
  EXPECT_NE(DatabaseErrorOf([&] { store->History(5); }), "");
  EXPECT_NE(DatabaseErrorOf([&] { store->Migrate(); }), "");
  EXPECT_TRUE(Contains(DatabaseErrorOf([&] { OpenStateStore(url); }), url.redacted));
}

TEST(StateStoreTimestamps, AreWrittenInUtcWithMilliseconds) {
  EXPECT_EQ(FormatTimestamp(kPrecise), "2026-11-26T07:31:02.123Z");
  EXPECT_EQ(FormatTimestamp(WallTime{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(WallTime{} - 1ms), "1969-12-31T23:59:59.999Z");
}

TEST(StateStoreTimestamps, ReadTheirOwnFormAndWhatPeopleType) {
  const WallTime base = sys_days{std::chrono::year(2026) / 11 / 26} + 7h + 31min + 2s;
  EXPECT_EQ(ParseTimestamp("2026-11-26T07:31:02.123Z"), base + 123ms);
  EXPECT_EQ(ParseTimestamp("2026-11-26 07:31:02"), base);
  EXPECT_EQ(ParseTimestamp("2026-11-26T07:31:02.5"), base + 500ms);
  EXPECT_EQ(ParseTimestamp("2026-11-26T07:31:02.123999999Z"), base + 123ms);
  EXPECT_EQ(ParseTimestamp("2026-11-26T09:31:02+02:00"), base);
  EXPECT_EQ(ParseTimestamp("2026-11-26T02:01:02-05:30"), base);
  EXPECT_EQ(ParseTimestamp(FormatTimestamp(kPrecise)), ToMillis(kPrecise));
}

TEST(StateCodec, ARowEditedIntoAnythingIsRefusedOnOneBoundedLine) {
  SqlRow row(18);
  row[0] = "dep\nartment\x1b[2J" + std::string(300, 'x');  // label
  row[1] = "waiting";                                      // phase
  row[5] = "0";
  row[8] = "0";
  row[11] = "2025-11-26T07:31:02Z";
  std::string message;
  try {
    DecodeLabelState(row);
  } catch (const DatabaseError& error) {
    message = error.what();
  }
  EXPECT_TRUE(message.starts_with("the orchestrator's state of label \"dep\\nartment\\x1b[2J")) << message;
  EXPECT_NE(message.find("WHERE label = the text \"dep\\n"), std::string::npos) << message;
  EXPECT_EQ(std::count_if(message.begin(), message.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; }),
            0)
      << message;
  EXPECT_LT(message.size(), 1000u);
}

TEST(StateStoreTimestamps, RefuseAnythingElse) {
  for (const char* text : {"", "yesterday", "2026-11-26", "2026-02-30T00:00:00Z", "2026-11-26T24:00:00Z",
                           "2026-11-26T07:60:00Z", "2026-11-26T07:31:02.Z", "2026-11-26T07:31:02.1234567890Z",
                           "2026-11-26T07:31:02Zjunk", "2026-11-26T07:31:02+2", "1764142262", "2026-11-26t07:31:02",
                           // Beyond what WallTime holds (or what a difference of two times does).
                           "9999-12-31T23:59:59Z", "2201-01-01T00:00:00Z", "1969-12-31T23:59:59Z",
                           "1970-01-01T00:30:00+01:00", "0000-01-01T00:00:00Z"})
    EXPECT_EQ(ParseTimestamp(text), std::nullopt) << text;
}

TEST(StateStorePhases, HaveTheirNames) {
  for (Phase phase : {Phase::kIdle, Phase::kPreparing, Phase::kRetraining})
    EXPECT_EQ(PhaseFromName(PhaseName(phase)), phase);
  EXPECT_STREQ(PhaseName(Phase::kPreparing), "preparing");
  EXPECT_EQ(PhaseFromName("Idle"), std::nullopt);
}

}  // namespace
}  // namespace orch
