#include "support/app_database.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <filesystem>
#include <stdexcept>
#include <utility>

#include "db/database.h"
#include "support/postgres_server.h"

namespace orch::testing {
namespace {

// reference/schema.sql with the engine-specific types as placeholders.
constexpr const char* kSchemaTemplate = R"sql(
CREATE TABLE complaints (
    id              {serial},
    citizen_id      INTEGER,
    department      VARCHAR(100) CHECK (department IN (
                        'Municipal Governance & Community Services',
                        'Education, Health & Social Welfare',
                        'Infrastructure, Utilities & Natural Resources',
                        'Security & Law Enforcement')),
    message         TEXT NOT NULL,
    message_processed TEXT,
    urgency         VARCHAR(20) CHECK (urgency IN ('NORMAL', 'URGENT', 'HIGHLY URGENT')),
    current_status  VARCHAR(20) DEFAULT 'PENDING'
                    CHECK (current_status IN ('PENDING', 'IN PROCESS', 'RESOLVED', 'REJECTED')),
    date_submitted  {timestamp} DEFAULT CURRENT_TIMESTAMP,
    ward_id         INTEGER,
    created_at      {timestamp} DEFAULT CURRENT_TIMESTAMP,
    updated_at      {timestamp} DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE misclassified_complaints (
    id                          {serial},
    complaint_id                INTEGER NOT NULL REFERENCES complaints(id) ON DELETE CASCADE,
    model_predicted_department  VARCHAR(100),
    model_predicted_urgency     VARCHAR(20),
    correct_department          VARCHAR(100),
    correct_urgency             VARCHAR(20),
    reported_by_admin_id        INTEGER,
    reviewed                    BOOLEAN DEFAULT {false},
    reviewed_at                 {timestamp},
    created_at                  {timestamp} DEFAULT CURRENT_TIMESTAMP
);
)sql";

constexpr const char* kComplaintIdIndex =
    "CREATE INDEX ix_misclassified_complaints_complaint_id ON misclassified_complaints (complaint_id)";

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

// SQLAlchemy's SQLite forms: the id is the rowid, booleans are 0/1, timestamps are text.
std::string SchemaFor(bool postgres) {
  std::string schema = kSchemaTemplate;
  ReplaceAll(schema, "{serial}", postgres ? "SERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY");
  ReplaceAll(schema, "{timestamp}", postgres ? "TIMESTAMPTZ" : "DATETIME");
  ReplaceAll(schema, "{false}", postgres ? "FALSE" : "0");
  return schema;
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
  db->url_text_ = "sqlite:///" + path;  // the path is absolute: sqlite:////tmp/...
  db->url_.kind = DatabaseUrl::Kind::kSqlite;
  db->url_.target = path;
  db->url_.redacted = db->url_text_;
  return db;
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
      throw std::runtime_error("PostgreSQL query " + sql + " did not return one value: " +
                               PQresultErrorMessage(result.get()));
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
  Exec(SchemaFor(is_postgres()));
  if (with_complaint_id_index) Exec(kComplaintIdIndex);
}

void AppDatabase::InsertComplaints(int count, const std::string& department_sql, const std::string& urgency_sql) {
  const std::string n = std::to_string(count);
  const std::string columns = "INSERT INTO complaints (citizen_id, department, urgency, message) ";
  const std::string values = "SELECT g, " + department_sql + ", " + urgency_sql + ", 'complaint ' || g ";
  if (is_postgres())
    Exec(columns + values + "FROM generate_series(1, " + n + ") AS s(g)");
  else
    Exec(columns + "WITH RECURSIVE s(g) AS (SELECT 1 WHERE " + n + " > 0 UNION ALL SELECT g + 1 FROM s WHERE g < " +
         n + ") " + values + "FROM s");
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
  Exec("INSERT INTO misclassified_complaints (complaint_id, model_predicted_department, correct_department, "
       "model_predicted_urgency, correct_urgency, reviewed) VALUES (" +
       std::to_string(id) + ", " + SqlLiteral(row.predicted_department) + ", " + SqlLiteral(row.correct_department) +
       ", " + SqlLiteral(row.predicted_urgency) + ", " + SqlLiteral(row.correct_urgency) + ", " +
       ReviewedLiteral(row.reviewed) + ")");
}

}  // namespace orch::testing
