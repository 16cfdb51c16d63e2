#include "db/sqlite_training_rows.h"

#include <sqlite3.h>

#include <algorithm>

#include "db/count_sql.h"
#include "util/error.h"

namespace orch {
namespace {

constexpr size_t kIdsPerStatement = 500;  // placeholders in the message lookup's IN list
constexpr size_t kIdsPerRange = 20000;    // ids whose messages one range read may look for
constexpr const char* kMessagesInRangeSql =
    "SELECT id, message FROM complaints WHERE id >= ?1 AND id <= ?2 ORDER BY id";

// SELECT id, message FROM complaints WHERE id IN (?, ?, ...) ORDER BY id, with kIdsPerStatement places.
std::string MessagesByIdsSql() {
  std::string sql = "SELECT id, message FROM complaints WHERE id IN (?";
  for (size_t i = 1; i < kIdsPerStatement; ++i) sql += ",?";
  return sql + ") ORDER BY id";
}

// Resets a kept statement and clears its parameters however the code using it leaves, so it never
// holds the file's read lock past its use.
class StatementReset {
 public:
  explicit StatementReset(sqlite3_stmt* statement) : statement_(statement) {}
  ~StatementReset() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  StatementReset(const StatementReset&) = delete;
  StatementReset& operator=(const StatementReset&) = delete;

 private:
  sqlite3_stmt* statement_;
};

// Column `column` of the current row as bytes ("" for NULL); numbers come back in decimal. Valid until
// the statement steps on.
std::string_view TextViewAt(sqlite3_stmt* statement, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
  if (text == nullptr) return "";
  return std::string_view(text, static_cast<size_t>(sqlite3_column_bytes(statement, column)));
}

}  // namespace

SqliteTrainingRows::SqliteTrainingRows(const std::string& path)
    : session_(path, SqliteAccess::kReadOnly, SqliteTables::kApplication) {}

void SqliteTrainingRows::BeginSnapshot() { session_.Execute("BEGIN", "starting a read transaction"); }

void SqliteTrainingRows::EndSnapshot() noexcept {
  // A read transaction has nothing to commit; ending it only releases the snapshot.
  sqlite3_exec(session_.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void SqliteTrainingRows::ReadMisclassified(const LabelColumns& columns, ClassNames& classes,
                                           const std::function<void(const LabeledText&)>& on_row) {
  const std::string what = "reading the misclassified rows of " + columns.label;
  SqliteStatement statement = session_.Prepare(MisclassifiedRowsSql(SqlDialect::kSqlite, columns), {}, what);
  LabeledText row;
  while (session_.Step(statement.get(), what)) {
    row.id = sqlite3_column_int64(statement.get(), 0);
    row.label = classes.IndexOf(TextViewAt(statement.get(), 1));
    row.text = TextViewAt(statement.get(), 2);
    on_row(row);
  }
}

void SqliteTrainingRows::ReadCorrectPool(const LabelColumns& columns, ClassNames& classes,
                                         const std::function<void(const PoolEntry&)>& on_entry) {
  const std::string what = "reading the correct complaints of " + columns.label;
  SqliteStatement statement = session_.Prepare(CorrectPoolRowsSql(columns), {}, what);
  while (session_.Step(statement.get(), what))
    on_entry({sqlite3_column_int64(statement.get(), 0), classes.IndexOf(TextViewAt(statement.get(), 1))});
}

int64_t SqliteTrainingRows::CountMisclassified(const LabelColumns& columns) {
  const std::string what = "counting the misclassified rows of " + columns.label;
  const std::vector<SqlRow> rows = session_.Query(MisclassifiedCountSql(SqlDialect::kSqlite, {&columns, 1}), {}, what);
  return ParseCount(rows.at(0).at(0).value_or(""), what);
}

void SqliteTrainingRows::ReadMessages(std::span<const int64_t> ids,
                                      const std::function<void(size_t, std::string_view)>& on_message) {
  constexpr std::string_view what = "reading complaint messages";
  RequireAscendingIds(ids);
  for (size_t start = 0; start < ids.size(); start += kIdsPerRange) {
    const std::span<const int64_t> part = ids.subspan(start, std::min(kIdsPerRange, ids.size() - start));
    if (DenseIds(part)) {
      if (!messages_in_range_) messages_in_range_ = session_.Prepare(kMessagesInRangeSql, {}, what);
      StatementReset reset(messages_in_range_.get());
      sqlite3_bind_int64(messages_in_range_.get(), 1, part.front());
      sqlite3_bind_int64(messages_in_range_.get(), 2, part.back());
      HandOver(messages_in_range_.get(), part, start, what, on_message);
      continue;
    }
    // A batch of ids per statement: SQLite walks the table's B-tree from left to right once per
    // batch, instead of one statement and one descent per id.
    if (!messages_by_ids_) messages_by_ids_ = session_.Prepare(MessagesByIdsSql(), {}, what);
    for (size_t at = 0; at < part.size(); at += kIdsPerStatement) {
      const std::span<const int64_t> batch = part.subspan(at, std::min(kIdsPerStatement, part.size() - at));
      StatementReset reset(messages_by_ids_.get());  // unused places stay NULL, which matches no id
      for (size_t k = 0; k < batch.size(); ++k)
        sqlite3_bind_int64(messages_by_ids_.get(), static_cast<int>(k + 1), batch[k]);
      HandOver(messages_by_ids_.get(), batch, start + at, what, on_message);
    }
  }
}

void SqliteTrainingRows::HandOver(sqlite3_stmt* statement, std::span<const int64_t> ids, size_t first_index,
                                  std::string_view what,
                                  const std::function<void(size_t, std::string_view)>& on_message) {
  size_t k = 0;
  while (session_.Step(statement, what)) {
    const int64_t id = sqlite3_column_int64(statement, 0);
    for (; k < ids.size() && ids[k] < id; ++k) on_message(first_index + k, "");  // gone
    if (k < ids.size() && ids[k] == id) on_message(first_index + k++, TextViewAt(statement, 1));
  }
  for (; k < ids.size(); ++k) on_message(first_index + k, "");
}

}  // namespace orch
