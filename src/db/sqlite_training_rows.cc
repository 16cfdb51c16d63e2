#include "db/sqlite_training_rows.h"

#include <sqlite3.h>

#include <algorithm>
#include <numeric>

#include "db/count_sql.h"
#include "util/error.h"

namespace orch {
namespace {

constexpr size_t kIdsPerStatement = 500;  // placeholders in the message lookup's IN list

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

// Column `column` of the current row as bytes ("" for NULL); numbers come back in decimal.
std::string TextAt(sqlite3_stmt* statement, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement, column));
  if (text == nullptr) return "";
  return std::string(text, static_cast<size_t>(sqlite3_column_bytes(statement, column)));
}

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

std::vector<LabeledText> SqliteTrainingRows::ReadMisclassified(const LabelColumns& columns, ClassNames& classes) {
  const std::string what = "reading the misclassified rows of " + columns.label;
  SqliteStatement statement = session_.Prepare(MisclassifiedRowsSql(SqlDialect::kSqlite, columns), {}, what);
  std::vector<LabeledText> rows;
  while (session_.Step(statement.get(), what)) {
    LabeledText& row = rows.emplace_back();
    row.id = sqlite3_column_int64(statement.get(), 0);
    row.label = classes.IndexOf(TextViewAt(statement.get(), 1));
    row.text = TextAt(statement.get(), 2);
  }
  return rows;
}

std::vector<PoolEntry> SqliteTrainingRows::ReadCorrectPool(const LabelColumns& columns, ClassNames& classes) {
  const std::string what = "reading the correct complaints of " + columns.label;
  SqliteStatement statement = session_.Prepare(CorrectPoolRowsSql(columns), {}, what);
  std::vector<PoolEntry> pool;
  while (session_.Step(statement.get(), what))
    pool.push_back({sqlite3_column_int64(statement.get(), 0), classes.IndexOf(TextViewAt(statement.get(), 1))});
  return pool;
}

std::vector<std::string> SqliteTrainingRows::ReadMessages(std::span<const int64_t> ids) {
  constexpr std::string_view what = "reading complaint messages";
  if (!messages_by_ids_) messages_by_ids_ = session_.Prepare(MessagesByIdsSql(), {}, what);
  sqlite3_stmt* statement = messages_by_ids_.get();
  // In id order, a batch of ids per statement: SQLite walks the table's B-tree from left to right
  // once per batch, instead of one statement and one descent per id in the sample's random order.
  std::vector<size_t> by_id(ids.size());
  std::iota(by_id.begin(), by_id.end(), size_t{0});
  std::sort(by_id.begin(), by_id.end(), [&](size_t a, size_t b) { return ids[a] < ids[b]; });
  std::vector<std::string> messages(ids.size());
  for (size_t start = 0; start < by_id.size(); start += kIdsPerStatement) {
    const size_t end = std::min(by_id.size(), start + kIdsPerStatement);
    StatementReset reset(statement);  // unused places stay NULL, which matches no id
    for (size_t k = start; k < end; ++k) sqlite3_bind_int64(statement, static_cast<int>(k - start + 1), ids[by_id[k]]);
    size_t k = start;
    while (session_.Step(statement, what)) {
      const int64_t id = sqlite3_column_int64(statement, 0);
      while (k < end && ids[by_id[k]] < id) ++k;  // gone: stays ""
      for (; k < end && ids[by_id[k]] == id; ++k) messages[by_id[k]] = TextAt(statement, 1);
    }
  }
  return messages;
}

}  // namespace orch
