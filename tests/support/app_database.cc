#include "support/app_database.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <filesystem>
#include <span>
#include <stdexcept>
#include <utility>

#include "db/application_schema.h"
#include "db/count_sql.h"
#include "db/database.h"
#include "support/postgres_server.h"

namespace orch::testing {
namespace {

// The support's constants must stay the schema's values, in the workers' label-id order.
constexpr bool SameValues(std::span<const char* const> support, std::span<const std::string_view> schema) {
  if (support.size() != schema.size()) return false;
  for (size_t i = 0; i < support.size(); ++i)
    if (std::string_view(support[i]) != schema[i]) return false;
  return true;
}
static_assert(SameValues(kDepartments, kSchemaDepartments));
static_assert(SameValues(kUrgencies, kSchemaUrgencies));

SqlDialect DialectOf(bool postgres) { return postgres ? SqlDialect::kPostgres : SqlDialect::kSqlite; }

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

// A CASE expression cycling through `values` as g runs 1, 2, 3, ...
template <size_t N>
std::string Cycle(const char* const (&values)[N]) {
  std::string sql = "CASE g % " + std::to_string(N);
  for (size_t i = 0; i < N; ++i) sql += " WHEN " + std::to_string(i) + " THEN " + SqlLiteral(values[i]);
  return sql + " END";
}

// A predicted and a corrected value of `label` that differ (valid for the schema's labels).
std::pair<std::string, std::string> DifferingValues(const std::string& label) {
  if (label == "department") return {kDepartments[3], kDepartments[1]};
  if (label == "urgency") return {kUrgencies[0], kUrgencies[1]};
  return {"predicted", "corrected"};
}

std::string ReviewedLiteral(std::optional<bool> reviewed) {
  if (!reviewed) return "NULL";
  return *reviewed ? "TRUE" : "FALSE";
}

}  // namespace

std::string SqlLiteral(const std::optional<std::string>& value) {
  if (!value) return "NULL";
  std::string quoted = *value;
  ReplaceAll(quoted, "'", "''");
  return "'" + quoted + "'";
}

std::unique_ptr<AppDatabase> AppDatabase::Sqlite(const std::string& file_path) {
  std::unique_ptr<AppDatabase> db(new AppDatabase());
  const std::string path = std::filesystem::absolute(file_path).string();
  sqlite3* raw = nullptr;
  const int status = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  db->sqlite_.reset(raw);
  if (status != SQLITE_OK) throw std::runtime_error("cannot create SQLite database " + path);
  db->Exec("PRAGMA synchronous = OFF");  // a test database is not worth an fsync per statement
  db->url_text_ = "sqlite:///" + path;   // the path is absolute: sqlite:////tmp/...
  db->url_.kind = DatabaseUrl::Kind::kSqlite;
  db->url_.target = path;
  db->url_.redacted = db->url_text_;
  return db;
}

std::unique_ptr<AppDatabase> AppDatabase::ForEngine(const std::string& engine, const std::string& sqlite_path) {
  return engine == "postgres" ? Postgres() : Sqlite(sqlite_path);
}

std::unique_ptr<AppDatabase> AppDatabase::Postgres() {
  PostgresServer& server = SharedPostgres();
  std::unique_ptr<AppDatabase> db(new AppDatabase());
  db->pg_database_ = server.UniqueDatabaseName("app");
  db->url_text_ = server.CreateDatabase(db->pg_database_);
  db->url_.kind = DatabaseUrl::Kind::kPostgres;
  db->url_.target = db->url_text_;  // no password: the test server trusts loopback
  db->url_.redacted = db->url_text_;
  db->pg_.reset(PQconnectdb(db->url_text_.c_str()));
  if (PQstatus(db->pg_.get()) != CONNECTION_OK)
    throw std::runtime_error("cannot connect to " + db->url_text_ + ": " + PQerrorMessage(db->pg_.get()));
  return db;
}

AppDatabase::~AppDatabase() {
  if (pg_database_.empty()) return;
  pg_.reset();
  SharedPostgres().DropDatabase(pg_database_);
}

void AppDatabase::Exec(const std::string& sql) {
  if (is_postgres()) {
    PgResult result(PQexec(pg_.get(), sql.c_str()));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
      throw std::runtime_error("PostgreSQL refused " + sql + ": " + PQresultErrorMessage(result.get()));
    return;
  }
  char* error = nullptr;
  if (sqlite3_exec(sqlite_.get(), sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error != nullptr ? error : "unknown error";
    sqlite3_free(error);
    throw std::runtime_error("SQLite refused " + sql + ": " + message);
  }
}

int64_t AppDatabase::QueryInt(const std::string& sql) {
  if (is_postgres()) {
    PgResult result(PQexec(pg_.get(), sql.c_str()));
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK || PQntuples(result.get()) != 1 ||
        PQnfields(result.get()) != 1 || PQgetisnull(result.get(), 0, 0))
      throw std::runtime_error("PostgreSQL query " + sql +
                               " did not return one value: " + PQresultErrorMessage(result.get()));
    return std::stoll(PQgetvalue(result.get(), 0, 0));
  }
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(sqlite_.get(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
    throw std::runtime_error("SQLite refused " + sql + ": " + sqlite3_errmsg(sqlite_.get()));
  SqliteStatement statement(raw);
  if (sqlite3_step(statement.get()) != SQLITE_ROW || sqlite3_column_type(statement.get(), 0) == SQLITE_NULL)
    throw std::runtime_error("SQLite query " + sql + " did not return one value: " + sqlite3_errmsg(sqlite_.get()));
  return sqlite3_column_int64(statement.get(), 0);
}

void AppDatabase::CreateSchema(bool with_complaint_id_index) {
  // Without IF NOT EXISTS: a test that creates the schema twice has a bug worth an error.
  Exec(ApplicationTablesSql(DialectOf(is_postgres()), /*if_absent=*/false));
  if (with_complaint_id_index) Exec(ComplaintIdIndexSql(/*if_absent=*/false));
}

void AppDatabase::InsertComplaints(int count, const std::string& department_sql, const std::string& urgency_sql) {
  const std::string n = std::to_string(count);
  const std::string columns = "INSERT INTO complaints (citizen_id, department, urgency, message) ";
  const std::string values = "SELECT g, " + department_sql + ", " + urgency_sql + ", 'complaint ' || g ";
  if (is_postgres())
    Exec(columns + values + "FROM generate_series(1, " + n + ") AS s(g)");
  else
    Exec(columns + "WITH RECURSIVE s(g) AS (SELECT 1 WHERE " + n + " > 0 UNION ALL SELECT g + 1 FROM s WHERE g < " + n +
         ") " + values + "FROM s");
}

void AppDatabase::AddCorrectComplaints(int count) { InsertComplaints(count, Cycle(kDepartments), Cycle(kUrgencies)); }

void AppDatabase::AddMisclassified(int count, const std::string& label) {
  if (!IsValidIdentifier(label)) throw std::invalid_argument("not a label: " + label);
  const auto [predicted, corrected] = DifferingValues(label);
  Exec("BEGIN");
  const std::string first_new_id = std::to_string(QueryInt("SELECT coalesce(max(id), 0) + 1 FROM complaints"));
  // The complaint carries the corrected value of `label`, and any value of the other labels.
  InsertComplaints(count, label == "department" ? SqlLiteral(corrected) : Cycle(kDepartments),
                   label == "urgency" ? SqlLiteral(corrected) : Cycle(kUrgencies));
  Exec("INSERT INTO misclassified_complaints (complaint_id, model_predicted_" + label + ", correct_" + label +
       ", reviewed) SELECT id, " + SqlLiteral(predicted) + ", " + SqlLiteral(corrected) +
       ", TRUE FROM complaints WHERE id >= " + first_new_id);
  Exec("COMMIT");
}

int64_t AppDatabase::AddComplaint(std::optional<std::string> department, std::optional<std::string> urgency,
                                  const std::string& message) {
  Exec("INSERT INTO complaints (department, urgency, message) VALUES (" + SqlLiteral(department) + ", " +
       SqlLiteral(urgency) + ", " + SqlLiteral(message) + ")");
  return QueryInt("SELECT max(id) FROM complaints");
}

void AppDatabase::AddMisclassifiedRow(const MisclassifiedRow& row, std::optional<int64_t> complaint_id) {
  const int64_t id = complaint_id ? *complaint_id : AddComplaint(kDepartments[0], kUrgencies[0]);
  Exec(
      "INSERT INTO misclassified_complaints (complaint_id, model_predicted_department, correct_department, "
      "model_predicted_urgency, correct_urgency, reviewed) VALUES (" +
      std::to_string(id) + ", " + SqlLiteral(row.predicted_department) + ", " + SqlLiteral(row.correct_department) +
      ", " + SqlLiteral(row.predicted_urgency) + ", " + SqlLiteral(row.correct_urgency) + ", " +
      ReviewedLiteral(row.reviewed) + ")");
}

void AppDatabase::BulkInsert(const std::string& table, const std::vector<std::string>& columns,
                             const std::function<bool(BulkRow& row)>& next_row) {
  std::string names;
  for (const std::string& column : columns) names += (names.empty() ? "" : ", ") + column;
  BulkRow row(columns.size());
  if (is_postgres()) {
    {
      PgResult start(PQexec(pg_.get(), ("COPY " + table + " (" + names + ") FROM STDIN").c_str()));
      if (PQresultStatus(start.get()) != PGRES_COPY_IN)
        throw std::runtime_error("COPY " + table + ": " + PQresultErrorMessage(start.get()));
    }
    std::string data;
    const auto send = [&] {
      if (PQputCopyData(pg_.get(), data.data(), static_cast<int>(data.size())) != 1)
        throw std::runtime_error("COPY " + table + ": " + PQerrorMessage(pg_.get()));
      data.clear();
    };
    while (next_row(row)) {
      for (size_t i = 0; i < row.size(); ++i) {
        if (i > 0) data += '\t';
        if (!row[i]) {
          data += "\\N";
          continue;
        }
        for (char c : *row[i]) {
          if (c == '\\' || c == '\t' || c == '\n' || c == '\r') data += '\\';
          data += c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : c;
        }
      }
      data += '\n';
      if (data.size() >= (1 << 20)) send();
    }
    send();
    if (PQputCopyEnd(pg_.get(), nullptr) != 1)
      throw std::runtime_error("COPY " + table + ": " + PQerrorMessage(pg_.get()));
    PgResult result(PQgetResult(pg_.get()));
    const bool ok = PQresultStatus(result.get()) == PGRES_COMMAND_OK;
    const std::string error = PQresultErrorMessage(result.get());
    while (PgResult rest{PQgetResult(pg_.get())}) {
    }
    if (!ok) throw std::runtime_error("COPY " + table + ": " + error);
    return;
  }
  std::string places;
  for (size_t i = 1; i <= columns.size(); ++i) places += (i > 1 ? ", ?" : "?") + std::to_string(i);
  const std::string sql = "INSERT INTO " + table + " (" + names + ") VALUES (" + places + ")";
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(sqlite_.get(), sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
    throw std::runtime_error("SQLite refused " + sql + ": " + sqlite3_errmsg(sqlite_.get()));
  SqliteStatement statement(raw);
  Exec("BEGIN");
  while (next_row(row)) {
    for (size_t i = 0; i < row.size(); ++i) {
      const int place = static_cast<int>(i) + 1;
      if (row[i])
        sqlite3_bind_text(statement.get(), place, row[i]->data(), static_cast<int>(row[i]->size()), SQLITE_TRANSIENT);
      else
        sqlite3_bind_null(statement.get(), place);
    }
    if (sqlite3_step(statement.get()) != SQLITE_DONE) {
      const std::string error = sqlite3_errmsg(sqlite_.get());
      Exec("ROLLBACK");
      throw std::runtime_error("SQLite refused " + sql + ": " + error);
    }
    sqlite3_reset(statement.get());
  }
  Exec("COMMIT");
}

}  // namespace orch::testing
