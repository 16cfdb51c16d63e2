#include "db/sqlite_state_store.h"

#include <sqlite3.h>

#include <filesystem>

#include "config/label_name.h"
#include "db/state_codec.h"
#include "util/error.h"

namespace orch {
namespace {

std::string Describe(const Migration& migration) {
  return "migration " + std::to_string(migration.version) + " (" + std::string(migration.description) + ")";
}

}  // namespace

SqliteStateStore::SqliteStateStore(const std::string& path, const Cancellation* cancellation)
    : session_(path, SqliteAccess::kReadWrite, SqliteTables::kOrchestrator, cancellation) {}

std::vector<int> SqliteStateStore::Migrate() {
  std::vector<int> applied;
  const int current = SchemaVersion();
  for (const Migration& migration : Migrations())
    if (migration.version > current && ApplyMigration(migration)) applied.push_back(migration.version);
  return applied;
}

bool SqliteStateStore::ApplyMigration(const Migration& migration) {
  const std::string what = Describe(migration);
  // BEGIN IMMEDIATE waits for another process migrating now; the version read after it says
  // whether that process applied this migration meanwhile.
  SqliteTransaction transaction(session_, what);
  session_.Execute(std::string(MigrationsTableSql(SqlDialect::kSqlite)), what);
  if (AppliedVersion() >= migration.version) {
    transaction.Commit();
    return false;
  }
  session_.Execute(std::string(migration.Sql(SqlDialect::kSqlite)), what);
  session_.Command("INSERT INTO orchestrator_schema_migrations (version, applied_at) VALUES (?1, ?2)",
                   {std::to_string(migration.version), FormatTimestamp(std::chrono::system_clock::now())}, what);
  transaction.Commit();
  return true;
}

int SqliteStateStore::AppliedVersion() {
  const std::string what = "reading the schema version";
  return static_cast<int>(SingleInteger(
      session_.Query("SELECT COALESCE(max(version), 0) FROM orchestrator_schema_migrations", {}, what), what));
}

int SqliteStateStore::SchemaVersion() { return session_.TableExists(kMigrationsTable) ? AppliedVersion() : 0; }

std::vector<LabelState> SqliteStateStore::LoadLabels(std::span<const std::string> labels) {
  if (labels.empty()) return {};
  std::vector<SqlRow> rows;  // no table yet: nothing was ever recorded
  if (session_.TableExists(kLabelStateTable)) {
    RequireLatestSchema(SchemaVersion());
    rows = session_.Query(LabelStateSelectSql(SqlDialect::kSqlite), {}, "reading the labels' states");
  }
  return LabelStatesFor(labels, rows);
}

void SqliteStateStore::SaveLabels(std::span<const LabelState> states) {
  // One label without a fence: a statement commits by itself. Otherwise one transaction, the fence
  // checked in it, one commit for them all.
  if (states.empty()) return;
  if (states.size() == 1 && !fence_) return SaveOne(states.front());
  const std::string what = "saving the state of " + std::to_string(states.size()) + " labels";
  SqliteTransaction transaction(session_, what);
  if (fence_) fence_(session_);
  for (const LabelState& state : states) SaveOne(state);
  transaction.Commit();
}

void SqliteStateStore::SaveOne(const LabelState& state) {
  session_.Command(LabelStateUpsertSql(SqlDialect::kSqlite), EncodeLabelState(state, SqlDialect::kSqlite),
                   "saving the state of label " + QuoteForMessage(state.label));
}

int64_t SqliteStateStore::BeginRun(const RunRecord& run) {
  session_.Command(RunInsertSql(SqlDialect::kSqlite), EncodeRun(run, SqlDialect::kSqlite),
                   "recording the start of a run");
  return session_.LastInsertId();
}

void SqliteStateStore::FinishRun(int64_t id, WallTime finished_at, const std::string& status,
                                 const std::string& summary_json) {
  const std::string what = "recording the end of run " + std::to_string(id);
  const SqlRow params = {FormatTimestamp(finished_at), status,
                         summary_json.empty() ? std::nullopt : std::optional<std::string>(summary_json),
                         std::to_string(id)};
  if (session_.Command(RunFinishSql(SqlDialect::kSqlite), params, what) != 1)
    throw DatabaseError(what + " failed: orchestrator_runs has no run " + std::to_string(id));
}

std::vector<RunRecord> SqliteStateStore::History(int limit) {
  if (limit <= 0 || !session_.TableExists(kRunsTable)) return {};
  std::vector<RunRecord> runs;
  for (const SqlRow& row :
       session_.Query(RunHistorySql(SqlDialect::kSqlite), {std::to_string(limit)}, "reading the history of runs"))
    runs.push_back(DecodeRun(row));
  return runs;
}

std::optional<RunRecord> SqliteStateStore::FindRun(int64_t id) {
  if (!session_.TableExists(kRunsTable)) return std::nullopt;
  const std::vector<SqlRow> rows =
      session_.Query(RunByIdSql(SqlDialect::kSqlite), {std::to_string(id)}, "reading run " + std::to_string(id));
  if (rows.empty()) return std::nullopt;
  return DecodeRun(rows.front());
}

}  // namespace orch
