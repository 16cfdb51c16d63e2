#include "db/postgres_training_rows.h"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "db/count_sql.h"
#include "db/pg_copy.h"
#include "util/error.h"

namespace orch {

namespace {

constexpr const char* kApplicationName = "orchestrator prepare";
constexpr size_t kIdsPerQuery = 20000;  // ids per message lookup: its text is about 200 kB

int64_t IdOf(const CopyField& field, std::string_view what) {
  const std::string_view text = field.value_or("");
  int64_t id = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || end != text.data() + text.size() || text.empty())
    throw DatabaseError(std::string(what) + " returned the id \"" + std::string(text) + "\", not an integer");
  return id;
}

// The complaints (id, message) of `ids` in id order, looked up one by one, or read from the first id
// to the last when they are dense. COPY takes no parameters: the ids are integers, written out.
std::string MessagesSql(std::span<const int64_t> ids) {
  if (DenseIds(ids))
    return "SELECT id, message FROM complaints WHERE id BETWEEN " + std::to_string(ids.front()) + " AND " +
           std::to_string(ids.back()) + " ORDER BY id";
  std::string sql = "SELECT id, message FROM complaints WHERE id = ANY('{";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) sql += ',';
    sql += std::to_string(ids[i]);
  }
  return sql + "}'::bigint[]) ORDER BY id";
}

}  // namespace

PostgresTrainingRows::PostgresTrainingRows(const DatabaseUrl& url)
    : url_(url), session_(url, kApplicationName, PgAccess::kReadOnly) {}

void PostgresTrainingRows::BeginSnapshot() { Begin(nullptr); }

void PostgresTrainingRows::Begin(const std::string* exported) {
  constexpr std::string_view what = "starting a read transaction";
  snapshot_.emplace(session_, what, PgAccess::kReadOnly);
  // Allowed as the transaction's first statements: every later read sees the same snapshot.
  session_.Execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", what);
  if (exported != nullptr) session_.Execute("SET TRANSACTION SNAPSHOT '" + *exported + "'", what);
}

std::unique_ptr<TrainingRows> PostgresTrainingRows::ShareSnapshot() {
  if (!snapshot_) throw std::logic_error("ShareSnapshot outside a snapshot");
  std::string exported;
  try {
    exported =
        session_.Query("SELECT pg_export_snapshot()", {}, "sharing the read transaction").at(0).at(0).value_or("");
  } catch (const DatabaseError&) {
    // The failure ended the transaction; nothing was read in it yet: start it again, unshared.
    snapshot_.reset();
    BeginSnapshot();
    return nullptr;
  }
  // A snapshot's name is hex digits and dashes ("00000003-0000001B-1"), spliced into a statement.
  if (exported.empty() || exported.find_first_not_of("0123456789ABCDEFabcdef-") != std::string::npos) return nullptr;
  try {
    auto companion = std::make_unique<PostgresTrainingRows>(url_);
    companion->Begin(&exported);
    return companion;
  } catch (const DatabaseError&) {
    return nullptr;  // no second session (a connection limit, say): read one after the other
  }
}

int64_t PostgresTrainingRows::CountMisclassified(const LabelColumns& columns) {
  const std::string what = "counting the misclassified rows of " + columns.label;
  const std::vector<SqlRow> rows =
      session_.Query(MisclassifiedCountSql(SqlDialect::kPostgres, {&columns, 1}), {}, what);
  return ParseCount(rows.at(0).at(0).value_or(""), what);
}

void PostgresTrainingRows::EndSnapshot() noexcept { snapshot_.reset(); }  // rolls back: nothing was written

void PostgresTrainingRows::ReadMisclassified(const LabelColumns& columns, ClassNames& classes,
                                             const std::function<void(const LabeledText&)>& on_row) {
  const std::string what = "reading the misclassified rows of " + columns.label;
  LabeledText row;
  CopyOut(session_, MisclassifiedRowsSql(SqlDialect::kPostgres, columns), what, 3,
          [&](std::span<const CopyField> fields) {
            row.id = IdOf(fields[0], what);
            row.label = classes.IndexOf(fields[1].value_or(""));
            row.text = fields[2].value_or("");
            on_row(row);
          });
}

void PostgresTrainingRows::ReadCorrectPool(const LabelColumns& columns, ClassNames& classes,
                                           const std::function<void(const PoolEntry&)>& on_entry) {
  const std::string what = "reading the correct complaints of " + columns.label;
  CopyOut(session_, CorrectPoolRowsSql(columns), what, 2, [&](std::span<const CopyField> fields) {
    on_entry({IdOf(fields[0], what), classes.IndexOf(fields[1].value_or(""))});
  });
}

void PostgresTrainingRows::ReadMessages(std::span<const int64_t> ids,
                                        const std::function<void(size_t, std::string_view)>& on_message) {
  constexpr std::string_view what = "reading complaint messages";
  RequireAscendingIds(ids);
  for (size_t start = 0; start < ids.size(); start += kIdsPerQuery) {
    const size_t end = std::min(ids.size(), start + kIdsPerQuery);
    size_t k = start;
    CopyOut(session_, MessagesSql(ids.subspan(start, end - start)), what, 2, [&](std::span<const CopyField> fields) {
      const int64_t id = IdOf(fields[0], what);
      for (; k < end && ids[k] < id; ++k) on_message(k, "");  // gone
      if (k < end && ids[k] == id) on_message(k++, fields[1].value_or(""));
    });
    for (; k < end; ++k) on_message(k, "");
  }
}

}  // namespace orch
