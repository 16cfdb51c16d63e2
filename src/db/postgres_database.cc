#include "db/postgres_database.h"

#include <libpq-fe.h>

#include <algorithm>

#include "db/count_sql.h"
#include "db/postgres_text.h"
#include "db/state_codec.h"
#include "util/error.h"
#include "util/redact.h"

namespace orch {
namespace {

// SQLSTATEs of a query naming a table or column the database does not have.

// Whether some valid, non-partial index on misclassified_complaints (as the search_path resolves
// it) has complaint_id as its first column; first column says whether the table exists at all.
constexpr const char* kComplaintIdIndexSql =
    "SELECT to_regclass('misclassified_complaints') IS NOT NULL, EXISTS ("
    "SELECT 1 FROM pg_index i JOIN pg_attribute a"
    " ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
    " WHERE i.indrelid = to_regclass('misclassified_complaints')"
    " AND a.attname = 'complaint_id' AND i.indisvalid AND i.indpred IS NULL)";

}  // namespace

PostgresDatabase::PostgresDatabase(const DatabaseUrl& url)
    : session_(std::make_shared<PgSession>(url, "", PgAccess::kReadOnly)) {}

PostgresDatabase::PostgresDatabase(std::shared_ptr<PgSession> session) : session_(std::move(session)) {}

PgResult PostgresDatabase::Query(const std::string& sql, std::string_view what) {
  // The extended protocol runs exactly one statement: "SELECT 1; DELETE ..." is refused whole.
  PgResult result = session_->Exec(sql, {}, what);
  const ExecStatusType status = PQresultStatus(result.get());
  if (status == PGRES_COMMAND_OK)
    throw DatabaseError(std::string(what) + " returned no rows; it must be a SELECT returning one integer");
  if (status == PGRES_EMPTY_QUERY) throw DatabaseError(std::string(what) + " is empty");
  if (status != PGRES_TUPLES_OK) session_->Fail(what, result.get(), PgSession::Tables::kApplication);
  return result;
}

std::vector<int64_t> PostgresDatabase::CountRow(const std::string& sql, size_t columns, std::string_view what) {
  PgResult result = Query(sql, what);
  if (PQntuples(result.get()) != 1 || PQnfields(result.get()) != static_cast<int>(columns))
    throw DatabaseError(std::string(what) + " returned an unexpected shape of result");
  std::vector<int64_t> counts;
  for (int i = 0; i < static_cast<int>(columns); ++i)
    counts.push_back(ParseCount(PQgetvalue(result.get(), 0, i), what));
  return counts;
}

std::vector<int64_t> PostgresDatabase::CountMisclassified(std::span<const LabelColumns> labels) {
  if (labels.empty()) return {};
  return CountRow(MisclassifiedCountSql(SqlDialect::kPostgres, labels), labels.size(),
                  "counting misclassified_complaints");
}

std::vector<int64_t> PostgresDatabase::CountCorrectPool(std::span<const LabelColumns> labels) {
  if (labels.empty()) return {};
  return CountRow(CorrectPoolCountSql(labels), labels.size(), "counting the correct complaints");
}

int64_t PostgresDatabase::CountWithQuery(const std::string& sql) {
  const std::string what = "the configured query " + QuoteQuery(sql);
  // Read-only even on a read-write session; nothing it did could be kept anyway (rolled back).
  const PgTransaction read_only(*session_, what, PgAccess::kReadOnly);
  PgResult result = Query(sql, what);
  const int rows = PQntuples(result.get());
  const int columns = PQnfields(result.get());
  if (rows != 1 || columns != 1)
    throw DatabaseError(what + " returned " + std::to_string(rows) + " row(s) of " + std::to_string(columns) +
                        " column(s); it must return exactly one row with one integer");
  if (PQgetisnull(result.get(), 0, 0)) throw DatabaseError(what + " returned NULL; it must return one integer");
  return ParseCount(PQgetvalue(result.get(), 0, 0), what);
}

bool PostgresDatabase::HasComplaintIdIndex() {
  PgResult result = Query(kComplaintIdIndexSql, "looking for an index on misclassified_complaints");
  if (std::string_view(PQgetvalue(result.get(), 0, 0)) != "t")
    throw DatabaseError("table misclassified_complaints not found on " + session_->redacted_url() + " (" +
                        std::string(kSchemaHint) + ")");
  return std::string_view(PQgetvalue(result.get(), 0, 1)) == "t";
}

std::string PostgresDatabase::ServerVersion() { return session_->ServerVersion(); }

}  // namespace orch
