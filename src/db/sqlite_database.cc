#include "db/sqlite_database.h"

#include <sqlite3.h>

#include "db/count_sql.h"
#include "util/error.h"

namespace orch {
namespace {

// The first column says whether the table exists at all; the second whether some non-partial
// index on it has complaint_id as its first column (seqno 0).
constexpr const char* kComplaintIdIndexSql =
    "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table'"
    " AND name = 'misclassified_complaints' COLLATE NOCASE), EXISTS ("
    "SELECT 1 FROM pragma_index_list('misclassified_complaints') AS l, pragma_index_info(l.name) AS i"
    " WHERE l.partial = 0 AND i.seqno = 0 AND lower(i.name) = 'complaint_id')";

}  // namespace

SqliteDatabase::SqliteDatabase(const std::string& path, const Cancellation* cancellation)
    : session_(path, SqliteAccess::kReadOnly, SqliteTables::kApplication, cancellation) {}

int64_t SqliteDatabase::CountAt(sqlite3_stmt* statement, int column, std::string_view what) {
  switch (sqlite3_column_type(statement, column)) {
    case SQLITE_INTEGER: {
      const int64_t value = sqlite3_column_int64(statement, column);
      return ParseCount(std::to_string(value), what);  // the same message as elsewhere when negative
    }
    case SQLITE_NULL: throw DatabaseError(std::string(what) + " returned NULL; it must return one integer");
    default: {
      const unsigned char* text = sqlite3_column_text(statement, column);
      return ParseCount(text == nullptr ? "" : reinterpret_cast<const char*>(text), what);
    }
  }
}

std::vector<int64_t> SqliteDatabase::CountRow(const std::string& sql, int columns, std::string_view what) {
  SqliteStatement statement = session_.Prepare(sql, {}, what);
  if (!session_.Step(statement.get(), what) || sqlite3_column_count(statement.get()) != columns)
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
  SqliteStatement statement = session_.Prepare(sql, {}, what);
  const int columns = sqlite3_column_count(statement.get());
  if (columns != 1)
    throw DatabaseError(what + " returns " + std::to_string(columns) +
                        " column(s); it must return exactly one row with one integer");
  if (!session_.Step(statement.get(), what))
    throw DatabaseError(what + " returned no rows; it must return exactly one row with one integer");
  const int64_t count = CountAt(statement.get(), 0, what);
  if (session_.Step(statement.get(), what))
    throw DatabaseError(what + " returned more than one row; it must return exactly one row with one integer");
  return count;
}

bool SqliteDatabase::HasComplaintIdIndex() {
  const std::vector<int64_t> found =
      CountRow(kComplaintIdIndexSql, 2, "looking for an index on misclassified_complaints");
  if (found[0] == 0)
    throw DatabaseError("table misclassified_complaints not found in SQLite database " + session_.path() + " (" +
                        std::string(kSchemaHint) + ")");
  return found[1] != 0;
}

std::string SqliteDatabase::ServerVersion() { return std::string("SQLite ") + sqlite3_libversion(); }

}  // namespace orch
