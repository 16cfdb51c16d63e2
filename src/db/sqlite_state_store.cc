#include "db/sqlite_state_store.h"

#include <sqlite3.h>

#include <filesystem>

#include "config/label_name.h"
#include "util/error.h"

namespace orch {
namespace {

constexpr std::string_view kMissingTablesHint =
    "the orchestrator_* tables are created by the orchestrator's schema migrations: have they run on this database?";

std::optional<std::string> ColumnText(sqlite3_stmt* statement, int column) {
  if (sqlite3_column_type(statement, column) == SQLITE_NULL) return std::nullopt;
  const unsigned char* text = sqlite3_column_text(statement, column);
  return std::string(text == nullptr ? "" : reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(statement, column)));
}

std::string Describe(const Migration& migration) {
  return "migration " + std::to_string(migration.version) + " (" + std::string(migration.description) + ")";
}

}  // namespace

SqliteSession::SqliteSession(const std::string& path)
    : path_(path),
      db_(OpenSqliteFile(path, SQLITE_OPEN_READWRITE, "opening the database for the orchestrator's state")) {
  // Opening is lazy: reading the schema now turns "not a database" into an error at startup.
  Query("SELECT count(*) FROM sqlite_master", {}, "reading the schema");
}

void SqliteSession::Fail(std::string_view what) const {
  const std::string detail = sqlite3_errmsg(db_.get());
  std::string message = std::string(what) + " failed on SQLite database " + path_ + ": " + detail;
  if (detail.starts_with("no such table")) message += " (" + std::string(kMissingTablesHint) + ")";
  throw DatabaseError(message);
}

SqliteStatement SqliteSession::Prepare(const std::string& sql, const SqlRow& params, std::string_view what) {
  sqlite3_stmt* raw = nullptr;
  const int status = sqlite3_prepare_v2(db_.get(), sql.c_str(), static_cast<int>(sql.size() + 1), &raw, nullptr);
  SqliteStatement statement(raw);
  if (status != SQLITE_OK) Fail(what);
  for (size_t i = 0; i < params.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    const int bound = params[i] ? sqlite3_bind_text(statement.get(), index, params[i]->data(),
                                                    static_cast<int>(params[i]->size()), SQLITE_TRANSIENT)
                                : sqlite3_bind_null(statement.get(), index);
    if (bound != SQLITE_OK) Fail(what);
  }
  return statement;
}

std::vector<SqlRow> SqliteSession::Query(const std::string& sql, const SqlRow& params, std::string_view what) {
  const SqliteStatement statement = Prepare(sql, params, what);
  const int columns = sqlite3_column_count(statement.get());
  std::vector<SqlRow> rows;
  for (int status = sqlite3_step(statement.get()); status != SQLITE_DONE; status = sqlite3_step(statement.get())) {
    if (status != SQLITE_ROW) Fail(what);
    SqlRow& row = rows.emplace_back();
    for (int c = 0; c < columns; ++c) row.push_back(ColumnText(statement.get(), c));
  }
  return rows;
}

int64_t SqliteSession::Command(const std::string& sql, const SqlRow& params, std::string_view what) {
  Query(sql, params, what);
  return sqlite3_changes64(db_.get());
}

void SqliteSession::Execute(const std::string& sql, std::string_view what) {
  if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) Fail(what);
}

bool SqliteSession::TableExists(std::string_view table) {
  const std::string what = "looking for table " + std::string(table);
  return SingleInteger(Query("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                             {std::string(table)}, what),
                       what) > 0;
}

int64_t SqliteSession::LastInsertId() const { return sqlite3_last_insert_rowid(db_.get()); }

SqliteTransaction::SqliteTransaction(SqliteSession& session, std::string_view what)
    : session_(session), what_(what) {
  session_.Execute("BEGIN IMMEDIATE", what_);
}

SqliteTransaction::~SqliteTransaction() {
  if (!open_) return;
  try {
    session_.Execute("ROLLBACK", what_);
  } catch (const DatabaseError&) {
    // SQLite already rolled back (a failed statement can end the transaction by itself).
  }
}

void SqliteTransaction::Commit() {
  open_ = false;
  session_.Execute("COMMIT", what_);
}

SqliteStateStore::SqliteStateStore(const std::string& path) : session_(path) {}

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
  return static_cast<int>(
      SingleInteger(session_.Query("SELECT COALESCE(max(version), 0) FROM orchestrator_schema_migrations", {}, what),
                    what));
}

int SqliteStateStore::SchemaVersion() { return session_.TableExists(kMigrationsTable) ? AppliedVersion() : 0; }

std::vector<LabelState> SqliteStateStore::LoadLabels(std::span<const std::string> labels) {
  if (labels.empty()) return {};
  std::vector<SqlRow> rows;  // no table yet: nothing was ever recorded
  if (session_.TableExists(kLabelStateTable))
    rows = session_.Query(LabelStateSelectSql(SqlDialect::kSqlite), {}, "reading the labels' states");
  return LabelStatesFor(labels, rows);
}

void SqliteStateStore::SaveLabels(std::span<const LabelState> states) {
  // One label: a statement commits by itself. Several: one transaction, one commit for them all.
  if (states.size() == 1) return SaveOne(states.front());
  const std::string what = "saving the state of " + std::to_string(states.size()) + " labels";
  SqliteTransaction transaction(session_, what);
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

}  // namespace orch
