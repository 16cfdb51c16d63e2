#include "db/postgres_state_store.h"

#include "config/label_name.h"
#include "db/postgres_run_lock.h"
#include "util/error.h"

namespace orch {
namespace {

// Held, inside each migration's transaction, by whoever is migrating the database right now.
// Not a run lock key: those all hash "orchestrator:<name>".
const int64_t kMigrationLockKey = AdvisoryLockKey("orchestrator-migrations");

std::string Describe(const Migration& migration) {
  return "migration " + std::to_string(migration.version) + " (" + std::string(migration.description) + ")";
}

}  // namespace

PostgresStateStore::PostgresStateStore(const DatabaseUrl& url)
    : session_(std::make_shared<PgSession>(url, "orchestrator", PgAccess::kReadWrite)) {}

PostgresStateStore::PostgresStateStore(std::shared_ptr<PgSession> session) : session_(std::move(session)) {}

std::vector<int> PostgresStateStore::Migrate() {
  std::vector<int> applied;
  const int current = SchemaVersion();
  for (const Migration& migration : Migrations())
    if (migration.version > current && ApplyMigration(migration)) applied.push_back(migration.version);
  return applied;
}

bool PostgresStateStore::ApplyMigration(const Migration& migration) {
  const std::string what = Describe(migration);
  PgTransaction transaction(*session_, what);
  // Another orchestrator migrating now holds this lock until its transaction ends; the version
  // read after waiting says whether it applied this migration meanwhile.
  session_->Query("SELECT pg_advisory_xact_lock($1::bigint)", {std::to_string(kMigrationLockKey)}, what);
  if (!session_->TableExists(kMigrationsTable))
    session_->Execute(std::string(MigrationsTableSql(SqlDialect::kPostgres)), what);
  if (AppliedVersion() >= migration.version) {
    transaction.Commit();
    return false;
  }
  session_->Execute(std::string(migration.Sql(SqlDialect::kPostgres)), what);
  session_->Command("INSERT INTO orchestrator_schema_migrations (version, applied_at) VALUES ($1, $2)",
                    {std::to_string(migration.version), FormatTimestamp(std::chrono::system_clock::now())}, what);
  transaction.Commit();
  return true;
}

int PostgresStateStore::AppliedVersion() {
  const std::string what = "reading the schema version";
  const std::vector<SqlRow> rows =
      session_->Query("SELECT COALESCE(max(version), 0) FROM orchestrator_schema_migrations", {}, what);
  return static_cast<int>(SingleInteger(rows, what));
}

int PostgresStateStore::SchemaVersion() { return session_->TableExists(kMigrationsTable) ? AppliedVersion() : 0; }

std::vector<LabelState> PostgresStateStore::LoadLabels(std::span<const std::string> labels) {
  if (labels.empty()) return {};
  std::vector<SqlRow> rows;  // no table yet: nothing was ever recorded
  if (session_->TableExists(kLabelStateTable)) {
    RequireLatestSchema(SchemaVersion());
    rows = session_->Query(LabelStateSelectSql(SqlDialect::kPostgres), {}, "reading the labels' states");
  }
  return LabelStatesFor(labels, rows);
}

void PostgresStateStore::SaveLabels(std::span<const LabelState> states) {
  // One label: a statement commits by itself. Several: one transaction, one commit for them all.
  if (states.size() == 1) return SaveOne(states.front());
  const std::string what = "saving the state of " + std::to_string(states.size()) + " labels";
  PgTransaction transaction(*session_, what);
  for (const LabelState& state : states) SaveOne(state);
  transaction.Commit();
}

void PostgresStateStore::SaveOne(const LabelState& state) {
  session_->Command(LabelStateUpsertSql(SqlDialect::kPostgres), EncodeLabelState(state, SqlDialect::kPostgres),
                    "saving the state of label " + QuoteForMessage(state.label));
}

int64_t PostgresStateStore::BeginRun(const RunRecord& run) {
  const std::string what = "recording the start of a run";
  const std::vector<SqlRow> rows = session_->Query(RunInsertSql(SqlDialect::kPostgres) + " RETURNING id",
                                                   EncodeRun(run, SqlDialect::kPostgres), what);
  return SingleInteger(rows, what);
}

void PostgresStateStore::FinishRun(int64_t id, WallTime finished_at, const std::string& status,
                                   const std::string& summary_json) {
  const std::string what = "recording the end of run " + std::to_string(id);
  const SqlRow params = {FormatTimestamp(finished_at), status,
                         summary_json.empty() ? std::nullopt : std::optional<std::string>(summary_json),
                         std::to_string(id)};
  if (session_->Command(RunFinishSql(SqlDialect::kPostgres), params, what) != 1)
    throw DatabaseError(what + " failed: orchestrator_runs has no run " + std::to_string(id));
}

std::vector<RunRecord> PostgresStateStore::History(int limit) {
  if (limit <= 0 || !session_->TableExists(kRunsTable)) return {};
  std::vector<RunRecord> runs;
  for (const SqlRow& row :
       session_->Query(RunHistorySql(SqlDialect::kPostgres), {std::to_string(limit)}, "reading the history of runs"))
    runs.push_back(DecodeRun(row));
  return runs;
}

std::optional<RunRecord> PostgresStateStore::FindRun(int64_t id) {
  if (!session_->TableExists(kRunsTable)) return std::nullopt;
  const std::vector<SqlRow> rows =
      session_->Query(RunByIdSql(SqlDialect::kPostgres), {std::to_string(id)}, "reading run " + std::to_string(id));
  if (rows.empty()) return std::nullopt;
  return DecodeRun(rows.front());
}

}  // namespace orch
