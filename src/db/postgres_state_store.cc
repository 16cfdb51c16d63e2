#include "db/postgres_state_store.h"
#include "db/postgres_text.h"

#include <libpq-fe.h>

#include <algorithm>

#include "config/label_name.h"
#include "db/postgres_run_lock.h"
#include "util/error.h"
#include "util/redact.h"

namespace orch {
namespace {

constexpr std::string_view kUndefinedTable = "42P01";
constexpr std::string_view kMissingTablesHint =
    "the orchestrator_* tables are created by the orchestrator's schema migrations: have they run on this database?";

// Held, inside each migration's transaction, by whoever is migrating the database right now.
// Not a run lock key: those all hash "orchestrator:<name>".
const int64_t kMigrationLockKey = AdvisoryLockKey("orchestrator-migrations");

// libpq's messages span lines; one line reads better in a log.


std::vector<SqlRow> RowsOf(const PGresult* result) {
  std::vector<SqlRow> rows(static_cast<size_t>(PQntuples(result)));
  const int columns = PQnfields(result);
  for (int r = 0; r < static_cast<int>(rows.size()); ++r)
    for (int c = 0; c < columns; ++c)
      rows[r].push_back(PQgetisnull(result, r, c) ? std::nullopt
                                                  : std::optional<std::string>(PQgetvalue(result, r, c)));
  return rows;
}

std::string Describe(const Migration& migration) {
  return "migration " + std::to_string(migration.version) + " (" + std::string(migration.description) + ")";
}

}  // namespace

PgSession::PgSession(const DatabaseUrl& url, const std::string& application_name)
    : redacted_url_(url.redacted), secrets_(PasswordForms(url.target)) {
  secrets_.push_back(url.password);
  std::sort(secrets_.begin(), secrets_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  // connect_timeout before dbname is a default the URL may override; application_name after it wins.
  const char* const keywords[] = {"connect_timeout", "dbname", "application_name", nullptr};
  const char* const values[] = {"10", url.target.c_str(), application_name.c_str(), nullptr};
  conn_.reset(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
  if (!conn_) throw DatabaseError("cannot connect to PostgreSQL at " + redacted_url_ + ": out of memory");
  if (PQstatus(conn_.get()) != CONNECTION_OK)
    throw DatabaseError("cannot connect to PostgreSQL at " + redacted_url_ + ": " + Clean(PQerrorMessage(conn_.get())));
  // A server or role defaulting to read-only transactions would refuse every save.
  Execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", "making the session read-write");
}

bool PgSession::connected() const { return PQstatus(conn_.get()) == CONNECTION_OK; }

std::string PgSession::Clean(std::string libpq_text) const {
  return OneLine(Redact(std::move(libpq_text), secrets_));
}

void PgSession::Fail(std::string_view what, const pg_result* result) const {
  std::string message = ErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  if (message.empty()) message = PQerrorMessage(conn_.get());
  message = std::string(what) + " failed on " + redacted_url_ + ": " + Clean(std::move(message));
  if (ErrorField(result, PG_DIAG_SQLSTATE) == kUndefinedTable) message += " (" + std::string(kMissingTablesHint) + ")";
  throw DatabaseError(message);
}

PgResult PgSession::Run(const std::string& sql, const SqlRow& params, std::string_view what) {
  std::vector<const char*> values;
  for (const std::optional<std::string>& param : params) values.push_back(param ? param->c_str() : nullptr);
  PgResult result(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                               nullptr, nullptr, 0));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) Fail(what, result.get());
  return result;
}

std::vector<SqlRow> PgSession::Query(const std::string& sql, const SqlRow& params, std::string_view what) {
  return RowsOf(Run(sql, params, what).get());
}

int64_t PgSession::Command(const std::string& sql, const SqlRow& params, std::string_view what) {
  const PgResult result = Run(sql, params, what);
  const std::string changed = PQcmdTuples(result.get());
  return changed.empty() ? 0 : SingleInteger({{changed}}, what);
}

void PgSession::Execute(const std::string& sql, std::string_view what) {
  PgResult result(PQexec(conn_.get(), sql.c_str()));
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) Fail(what, result.get());
}

bool PgSession::TableExists(std::string_view table) {
  const std::string what = "looking for table " + std::string(table);
  const std::vector<SqlRow> rows = Query("SELECT (to_regclass($1) IS NOT NULL)::integer", {std::string(table)}, what);
  return SingleInteger(rows, what) == 1;
}

PgTransaction::PgTransaction(PgSession& session, std::string_view what) : session_(session), what_(what) {
  session_.Execute("BEGIN", what_);
}

PgTransaction::~PgTransaction() {
  if (!open_) return;
  try {
    session_.Execute("ROLLBACK", what_);
  } catch (const DatabaseError&) {
    // The connection is gone, and the server rolled the transaction back with it.
  }
}

void PgTransaction::Commit() {
  open_ = false;
  session_.Execute("COMMIT", what_);
}

PostgresStateStore::PostgresStateStore(const DatabaseUrl& url) : session_(url, "orchestrator") {}

std::vector<int> PostgresStateStore::Migrate() {
  std::vector<int> applied;
  const int current = SchemaVersion();
  for (const Migration& migration : Migrations())
    if (migration.version > current && ApplyMigration(migration)) applied.push_back(migration.version);
  return applied;
}

bool PostgresStateStore::ApplyMigration(const Migration& migration) {
  const std::string what = Describe(migration);
  PgTransaction transaction(session_, what);
  // Another orchestrator migrating now holds this lock until its transaction ends; the version
  // read after waiting says whether it applied this migration meanwhile.
  session_.Query("SELECT pg_advisory_xact_lock($1::bigint)", {std::to_string(kMigrationLockKey)}, what);
  if (!session_.TableExists(kMigrationsTable)) session_.Execute(std::string(MigrationsTableSql(SqlDialect::kPostgres)), what);
  if (AppliedVersion() >= migration.version) {
    transaction.Commit();
    return false;
  }
  session_.Execute(std::string(migration.Sql(SqlDialect::kPostgres)), what);
  session_.Command("INSERT INTO orchestrator_schema_migrations (version, applied_at) VALUES ($1, $2)",
                   {std::to_string(migration.version), FormatTimestamp(std::chrono::system_clock::now())}, what);
  transaction.Commit();
  return true;
}

int PostgresStateStore::AppliedVersion() {
  const std::string what = "reading the schema version";
  const std::vector<SqlRow> rows =
      session_.Query("SELECT COALESCE(max(version), 0) FROM orchestrator_schema_migrations", {}, what);
  return static_cast<int>(SingleInteger(rows, what));
}

int PostgresStateStore::SchemaVersion() {
  return session_.TableExists(kMigrationsTable) ? AppliedVersion() : 0;
}

std::vector<LabelState> PostgresStateStore::LoadLabels(std::span<const std::string> labels) {
  if (labels.empty()) return {};
  std::vector<SqlRow> rows;  // no table yet: nothing was ever recorded
  if (session_.TableExists(kLabelStateTable))
    rows = session_.Query(LabelStateSelectSql(SqlDialect::kPostgres), {}, "reading the labels' states");
  return LabelStatesFor(labels, rows);
}

void PostgresStateStore::SaveLabel(const LabelState& state) {
  session_.Command(LabelStateUpsertSql(SqlDialect::kPostgres), EncodeLabelState(state, SqlDialect::kPostgres),
                   "saving the state of label " + QuoteForMessage(state.label));
}

int64_t PostgresStateStore::BeginRun(const RunRecord& run) {
  const std::string what = "recording the start of a run";
  const std::vector<SqlRow> rows =
      session_.Query(RunInsertSql(SqlDialect::kPostgres) + " RETURNING id", EncodeRun(run, SqlDialect::kPostgres), what);
  return SingleInteger(rows, what);
}

void PostgresStateStore::FinishRun(int64_t id, WallTime finished_at, const std::string& status,
                                   const std::string& summary_json) {
  const std::string what = "recording the end of run " + std::to_string(id);
  const SqlRow params = {FormatTimestamp(finished_at), status,
                         summary_json.empty() ? std::nullopt : std::optional<std::string>(summary_json),
                         std::to_string(id)};
  if (session_.Command(RunFinishSql(SqlDialect::kPostgres), params, what) != 1)
    throw DatabaseError(what + " failed: orchestrator_runs has no run " + std::to_string(id));
}

std::vector<RunRecord> PostgresStateStore::History(int limit) {
  if (limit <= 0 || !session_.TableExists(kRunsTable)) return {};
  std::vector<RunRecord> runs;
  for (const SqlRow& row : session_.Query(RunHistorySql(SqlDialect::kPostgres), {std::to_string(limit)},
                                          "reading the history of runs"))
    runs.push_back(DecodeRun(row));
  return runs;
}

}  // namespace orch
