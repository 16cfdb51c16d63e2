#include "db/application_schema.h"

#include <span>

namespace orch {
namespace {

// The grievance system's DDL with the engine-specific parts, and the CHECKs' value lists, as placeholders.
constexpr std::string_view kTablesTemplate = R"sql(
CREATE TABLE {if_absent}complaints (
    id              {serial},
    citizen_id      INTEGER,
    department      VARCHAR(100) CHECK ({department_is_valid}),
    message         TEXT NOT NULL,
    message_processed TEXT,
    urgency         VARCHAR(20) CHECK ({urgency_is_valid}),
    current_status  VARCHAR(20) DEFAULT 'PENDING' CHECK ({current_status_is_valid}),
    date_submitted  {timestamp} DEFAULT {now},
    ward_id         INTEGER,
    created_at      {timestamp} DEFAULT {now},
    updated_at      {timestamp} DEFAULT {now}
);
CREATE TABLE {if_absent}misclassified_complaints (
    id                          {serial},
    complaint_id                INTEGER NOT NULL REFERENCES complaints(id) ON DELETE CASCADE,
    model_predicted_department  VARCHAR(100),
    model_predicted_urgency     VARCHAR(20),
    correct_department          VARCHAR(100),
    correct_urgency             VARCHAR(20),
    reported_by_admin_id        INTEGER,
    reviewed                    BOOLEAN DEFAULT {false},
    reviewed_at                 {timestamp},
    created_at                  {timestamp} DEFAULT {now}
);
)sql";

// SQLite's `now` in the text form the orchestrator's own tables use (migrations.h).
constexpr std::string_view kSqliteNow = "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))";

constexpr std::string_view kIfNotExists = "IF NOT EXISTS ";

void ReplaceAll(std::string& text, std::string_view from, std::string_view to) {
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

// "column IN ('a', 'b')" as the application's DDL writes it. SQLite evaluates a CHECK's IN list by building
// a temporary b-tree for every row it inserts, which makes bulk inserts several times slower, so
// there the same condition is spelled "column = 'a' OR column = 'b'" (NULL passes either way).
// The values hold no quote.
std::string IsOneOf(std::string_view column, std::span<const std::string_view> values, SqlDialect dialect) {
  const bool postgres = dialect == SqlDialect::kPostgres;
  std::string condition = postgres ? std::string(column) + " IN (" : "";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) condition += postgres ? ", " : " OR ";
    if (!postgres) condition += std::string(column) + " = ";
    condition += "'" + std::string(values[i]) + "'";
  }
  return postgres ? condition + ")" : condition;
}

}  // namespace

std::string ApplicationTablesSql(SqlDialect dialect, bool if_absent) {
  const bool postgres = dialect == SqlDialect::kPostgres;
  std::string sql(kTablesTemplate);
  ReplaceAll(sql, "{if_absent}", if_absent ? kIfNotExists : "");
  ReplaceAll(sql, "{serial}", postgres ? "SERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY");
  ReplaceAll(sql, "{timestamp}", postgres ? "TIMESTAMPTZ" : "TEXT");
  ReplaceAll(sql, "{now}", postgres ? "now()" : kSqliteNow);
  ReplaceAll(sql, "{false}", postgres ? "FALSE" : "0");
  ReplaceAll(sql, "{department_is_valid}", IsOneOf("department", kSchemaDepartments, dialect));
  ReplaceAll(sql, "{urgency_is_valid}", IsOneOf("urgency", kSchemaUrgencies, dialect));
  ReplaceAll(sql, "{current_status_is_valid}", IsOneOf("current_status", kSchemaStatuses, dialect));
  return sql;
}

std::string ComplaintIdIndexSql(bool if_absent) {
  return "CREATE INDEX " + std::string(if_absent ? kIfNotExists : "") + std::string(kComplaintIdIndexName) +
         " ON misclassified_complaints (complaint_id)";
}

std::string ApplicationSchemaSql(SqlDialect dialect) {
  return ApplicationTablesSql(dialect, /*if_absent=*/true) + ComplaintIdIndexSql(/*if_absent=*/true) + ";\n";
}

}  // namespace orch
