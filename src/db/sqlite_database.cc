#include "db/sqlite_database.h"

#include <sqlite3.h>

#include <cctype>
#include <filesystem>

#include "db/count_sql.h"
#include "util/error.h"

namespace orch {
namespace {

constexpr int kBusyTimeoutMs = 5000;

// The first column says whether the table exists at all; the second whether some non-partial
// index on it has complaint_id as its first column (seqno 0).
constexpr const char* kComplaintIdIndexSql =
    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table'"
    " AND name = 'misclassified_complaints' COLLATE NOCASE), EXISTS ("
    "SELECT 1 FROM pragma_index_list('misclassified_complaints') AS l, pragma_index_info(l.name) AS i"
    " WHERE l.partial = 0 AND i.seqno = 0 AND lower(i.name) = 'complaint_id')";

bool StartsWith(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

bool IsBlank(const char* text) {
  for (; *text != '\0'; ++text)
    if (std::isspace(static_cast<unsigned char>(*text)) == 0 && *text != ';') return false;
  return true;
}

}  // namespace

void SqliteCloser::operator()(sqlite3* db) const { sqlite3_close_v2(db); }
void SqliteFinalizer::operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }

SqliteHandle OpenSqliteFile(const std::string& path, int flags, std::string_view purpose) {
  if (!std::filesystem::exists(path))
    throw DatabaseError("SQLite database " + path +
                        " does not exist: create the database, or fix DATABASE_URL (sqlite:///relative/path.db, "
                        "sqlite:////absolute/path.db)");
  sqlite3* raw = nullptr;
  const int status = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  SqliteHandle db(raw);  // a handle comes back even when opening failed, and must be closed
  if (status != SQLITE_OK) {
    if (!db) throw DatabaseError("cannot open SQLite database " + path + ": out of memory");
    throw DatabaseError(std::string(purpose) + " failed on SQLite database " + path + ": " + sqlite3_errmsg(db.get()));
  }
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);
  // By default SQLite reads a double-quoted name that matches no column as a string literal, so a
  // misnamed column would silently count nothing instead of failing.
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DQS_DML, 0, nullptr);
  sqlite3_db_config(db.get(), SQLITE_DBCONFIG_DQS_DDL, 0, nullptr);
  return db;
}

SqliteDatabase::SqliteDatabase(const std::string& path)
    : path_(path), db_(OpenSqliteFile(path, SQLITE_OPEN_READONLY, "opening the database")) {
  // Opening is lazy: reading the schema now turns "not a database" into an error at startup.
  CountRow("SELECT count(*) FROM sqlite_master", 1, "reading the schema");
}

void SqliteDatabase::Fail(std::string_view what) const {
  const std::string detail = sqlite3_errmsg(db_.get());
  std::string message = std::string(what) + " failed on SQLite database " + path_ + ": " + detail;
  if (StartsWith(detail, "no such table") || StartsWith(detail, "no such column"))
    message += " (" + std::string(kSchemaHint) + ")";
  throw DatabaseError(message);
}

SqliteStatement SqliteDatabase::Prepare(const std::string& sql, std::string_view what) {
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  const int status = sqlite3_prepare_v2(db_.get(), sql.c_str(), static_cast<int>(sql.size() + 1), &raw, &tail);
  SqliteStatement statement(raw);
  if (status != SQLITE_OK) Fail(what);
  if (!statement) throw DatabaseError(std::string(what) + " is empty");
  if (tail != nullptr && !IsBlank(tail)) throw DatabaseError(std::string(what) + " must be a single statement");
  return statement;
}

bool SqliteDatabase::Step(sqlite3_stmt* statement, std::string_view what) {
  const int status = sqlite3_step(statement);
  if (status == SQLITE_ROW) return true;
  if (status == SQLITE_DONE) return false;
  Fail(what);
}

int64_t SqliteDatabase::CountAt(sqlite3_stmt* statement, int column, std::string_view what) {
  switch (sqlite3_column_type(statement, column)) {
    case SQLITE_INTEGER: {
      const int64_t value = sqlite3_column_int64(statement, column);
      return ParseCount(std::to_string(value), what);  // the same message as elsewhere when negative
    }
    case SQLITE_NULL:
      throw DatabaseError(std::string(what) + " returned NULL; it must return one integer");
    default: {
      const unsigned char* text = sqlite3_column_text(statement, column);
      return ParseCount(text == nullptr ? "" : reinterpret_cast<const char*>(text), what);
    }
  }
}

std::vector<int64_t> SqliteDatabase::CountRow(const std::string& sql, int columns, std::string_view what) {
  SqliteStatement statement = Prepare(sql, what);
  if (!Step(statement.get(), what) || sqlite3_column_count(statement.get()) != columns)
    throw DatabaseError(std::string(what) + " returned an unexpected shape of result");
  std::vector<int64_t> counts;
  for (int i = 0; i < columns; ++i) counts.push_back(CountAt(statement.get(), i, what));
  return counts;
}

std::vector<int64_t> SqliteDatabase::CountMisclassified(std::span<const LabelColumns> labels) {
  if (labels.empty()) return {};
  return CountRow(MisclassifiedCountSql(SqlDialect::kSqlite, labels), static_cast<int>(labels.size()),
                  "counting misclassified_complaints");
}

std::vector<int64_t> SqliteDatabase::CountCorrectPool(std::span<const LabelColumns> labels) {
  if (labels.empty()) return {};
  return CountRow(CorrectPoolCountSql(labels), static_cast<int>(labels.size()), "counting the correct complaints");
}

int64_t SqliteDatabase::CountWithQuery(const std::string& sql) {
  const std::string what = "the configured query " + QuoteQuery(sql);
  SqliteStatement statement = Prepare(sql, what);
  const int columns = sqlite3_column_count(statement.get());
  if (columns != 1)
    throw DatabaseError(what + " returns " + std::to_string(columns) +
                        " column(s); it must return exactly one row with one integer");
  if (!Step(statement.get(), what))
    throw DatabaseError(what + " returned no rows; it must return exactly one row with one integer");
  const int64_t count = CountAt(statement.get(), 0, what);
  if (Step(statement.get(), what))
    throw DatabaseError(what + " returned more than one row; it must return exactly one row with one integer");
  return count;
}

bool SqliteDatabase::HasComplaintIdIndex() {
  const std::vector<int64_t> found =
      CountRow(kComplaintIdIndexSql, 2, "looking for an index on misclassified_complaints");
  if (found[0] == 0)
    throw DatabaseError("table misclassified_complaints not found in SQLite database " + path_ + " (" +
                        std::string(kSchemaHint) + ")");
  return found[1] != 0;
}

std::string SqliteDatabase::ServerVersion() { return std::string("SQLite ") + sqlite3_libversion(); }

}  // namespace orch
