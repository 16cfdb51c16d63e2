#include "db/postgres_database.h"
#include "db/postgres_text.h"

#include <libpq-fe.h>

#include <algorithm>

#include "db/count_sql.h"
#include "util/error.h"
#include "util/redact.h"

namespace orch {
namespace {

// SQLSTATEs of a query naming a table or column the database does not have.
constexpr std::string_view kUndefinedTable = "42P01";
constexpr std::string_view kUndefinedColumn = "42703";

// Whether some valid, non-partial index on misclassified_complaints (as the search_path resolves
// it) has complaint_id as its first column; first column says whether the table exists at all.
constexpr const char* kComplaintIdIndexSql =
    "SELECT to_regclass('misclassified_complaints') IS NOT NULL, EXISTS ("
    "SELECT 1 FROM pg_index i JOIN pg_attribute a"
    " ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
    " WHERE i.indrelid = to_regclass('misclassified_complaints')"
    " AND a.attname = 'complaint_id' AND i.indisvalid AND i.indpred IS NULL)";

// libpq's messages span lines ("...Connection refused\n\tIs the server running..."): one line
// reads better in a log.


// The password exactly as written in a URI's user-info (it may be percent-encoded there).
std::string RawUriPassword(const std::string& target) {
  const size_t scheme = target.find("://");
  if (scheme == std::string::npos) return "";
  const size_t start = scheme + 3;
  const size_t authority_end = target.find_first_of("/?", start);
  const std::string authority = target.substr(start, authority_end - start);
  const size_t at = authority.rfind('@');
  if (at == std::string::npos) return "";
  const size_t colon = authority.find(':');
  if (colon == std::string::npos || colon > at) return "";
  return authority.substr(colon + 1, at - colon - 1);
}

// The password as libpq understands the target (decoded), or "" when it cannot parse it.
std::string ParsedPassword(const std::string& target) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(target.c_str(), &error);
  PQfreemem(error);
  std::string password;
  for (PQconninfoOption* option = options; option != nullptr && option->keyword != nullptr; ++option)
    if (std::string_view(option->keyword) == "password" && option->val != nullptr) password = option->val;
  PQconninfoFree(options);
  return password;
}

}  // namespace

void PgConnCloser::operator()(pg_conn* conn) const { PQfinish(conn); }
void PgResultClearer::operator()(pg_result* result) const { PQclear(result); }

std::vector<std::string> PasswordForms(const std::string& target) {
  std::vector<std::string> forms;
  for (std::string form : {RawUriPassword(target), ParsedPassword(target)})
    if (!form.empty()) forms.push_back(std::move(form));
  return forms;
}

PostgresDatabase::PostgresDatabase(const DatabaseUrl& url)
    : redacted_url_(url.redacted), secrets_(PasswordForms(url.target)) {
  secrets_.push_back(url.password);
  // Longest first, so a shorter form never leaves part of a longer one behind.
  std::sort(secrets_.begin(), secrets_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  Connect(url.target);
  // The orchestrator only counts; the server itself refuses any write a configured query attempts.
  Execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", "making the session read-only");
}

void PostgresDatabase::Connect(const std::string& target) {
  // Entries before dbname are defaults: the target's own settings, expanded in its place, win.
  // fallback_application_name likewise yields to an application_name the URL sets.
  const char* const keywords[] = {"connect_timeout", "fallback_application_name", "dbname", nullptr};
  const char* const values[] = {"10", "orchestrator", target.c_str(), nullptr};
  conn_.reset(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
  if (!conn_) throw DatabaseError("cannot connect to PostgreSQL at " + redacted_url_ + ": out of memory");
  if (PQstatus(conn_.get()) != CONNECTION_OK)
    throw DatabaseError("cannot connect to PostgreSQL at " + redacted_url_ + ": " +
                        Clean(PQerrorMessage(conn_.get())));
}

std::string PostgresDatabase::Clean(std::string libpq_text) const {
  return OneLine(Redact(std::move(libpq_text), secrets_));  // before reflowing, which could split a secret
}

void PostgresDatabase::FailQuery(std::string_view what, const pg_result* result) const {
  std::string message = ErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  if (message.empty()) message = PQerrorMessage(conn_.get());
  message = std::string(what) + " failed on " + redacted_url_ + ": " + Clean(std::move(message));
  const std::string state = ErrorField(result, PG_DIAG_SQLSTATE);
  if (state == kUndefinedTable || state == kUndefinedColumn) message += " (" + std::string(kSchemaHint) + ")";
  throw DatabaseError(message);
}

void PostgresDatabase::Execute(const std::string& sql, std::string_view what) {
  PgResult result(PQexec(conn_.get(), sql.c_str()));
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) FailQuery(what, result.get());
}

PgResult PostgresDatabase::Query(const std::string& sql, std::string_view what) {
  // The extended protocol runs exactly one statement: "SELECT 1; DELETE ..." is refused whole.
  PgResult result(PQexecParams(conn_.get(), sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status == PGRES_COMMAND_OK)
    throw DatabaseError(std::string(what) + " returned no rows; it must be a SELECT returning one integer");
  if (status == PGRES_EMPTY_QUERY) throw DatabaseError(std::string(what) + " is empty");
  if (status != PGRES_TUPLES_OK) FailQuery(what, result.get());
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
    throw DatabaseError("table misclassified_complaints not found on " + redacted_url_ + " (" +
                        std::string(kSchemaHint) + ")");
  return std::string_view(PQgetvalue(result.get(), 0, 1)) == "t";
}

std::string PostgresDatabase::ServerVersion() {
  // 150018 is 15.18; before PostgreSQL 10 the number was major.minor.patch (90624 is 9.6.24).
  const int number = PQserverVersion(conn_.get());
  if (number >= 100000) return "PostgreSQL " + std::to_string(number / 10000) + "." + std::to_string(number % 10000);
  return "PostgreSQL " + std::to_string(number / 10000) + "." + std::to_string(number / 100 % 100) + "." +
         std::to_string(number % 100);
}

}  // namespace orch
