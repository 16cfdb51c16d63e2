#include "db/postgres_training_rows.h"

#include <libpq-fe.h>

#include <charconv>
#include <unordered_map>

#include "db/count_sql.h"
#include "db/postgres_text.h"
#include "db/state_codec.h"
#include "util/error.h"

namespace orch {
namespace {

constexpr const char* kApplicationName = "orchestrator prepare";
constexpr const char* kCursor = "orchestrator_training_rows";
constexpr int kBatchRows = 20000;       // rows per FETCH: a few MB of text at most
constexpr size_t kIdsPerQuery = 10000;  // ids per message lookup

// SQLSTATEs of a statement naming a table or column the database does not have.

std::string_view ValueAt(const PGresult* result, int row, int column) {
  return std::string_view(PQgetvalue(result, row, column), static_cast<size_t>(PQgetlength(result, row, column)));
}

int64_t IdAt(const PGresult* result, int row, int column, std::string_view what) {
  const std::string_view text = ValueAt(result, row, column);
  int64_t id = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (error != std::errc() || end != text.data() + text.size())
    throw DatabaseError(std::string(what) + " returned the id \"" + std::string(text) + "\", not an integer");
  return id;
}

// A PostgreSQL array literal of the ids: {1,2,3}.
std::string IdArray(std::span<const int64_t> ids) {
  std::string array = "{";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i > 0) array += ',';
    array += std::to_string(ids[i]);
  }
  return array + "}";
}

}  // namespace

PostgresTrainingRows::PostgresTrainingRows(const DatabaseUrl& url)
    : session_(url, kApplicationName, PgAccess::kReadOnly) {}

PgResult PostgresTrainingRows::Run(const std::string& sql, const SqlRow& params, std::string_view what, int expected) {
  std::vector<const char*> values;
  for (const std::optional<std::string>& param : params) values.push_back(param ? param->c_str() : nullptr);
  PgResult result(PQexecParams(session_.raw(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                               nullptr, nullptr, 0));
  if (static_cast<int>(PQresultStatus(result.get())) != expected)
    session_.Fail(what, result.get(), PgSession::Tables::kApplication);
  return result;
}

void PostgresTrainingRows::BeginSnapshot() {
  snapshot_.emplace(session_, "starting a read transaction", PgAccess::kReadOnly);
  // Allowed as the transaction's first statement: every later read sees the same snapshot.
  Run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ", {}, "starting a read transaction", PGRES_COMMAND_OK);
}

void PostgresTrainingRows::EndSnapshot() noexcept { snapshot_.reset(); }  // rolls back: nothing was written

template <typename OnBatch>
void PostgresTrainingRows::ReadInBatches(const std::string& sql, std::string_view what, OnBatch on_batch) {
  // A cursor lives in a transaction: the snapshot's, or one of its own for this read.
  std::optional<PgTransaction> own;
  if (!snapshot_) own.emplace(session_, what, PgAccess::kReadOnly);
  Run("DECLARE " + std::string(kCursor) + " NO SCROLL CURSOR FOR " + sql, {}, what, PGRES_COMMAND_OK);
  const std::string fetch = "FETCH FORWARD " + std::to_string(kBatchRows) + " FROM " + kCursor;
  for (;;) {
    PgResult batch = Run(fetch, {}, what, PGRES_TUPLES_OK);
    if (PQntuples(batch.get()) == 0) break;
    on_batch(batch.get());
  }
  Run("CLOSE " + std::string(kCursor), {}, what, PGRES_COMMAND_OK);
}

std::vector<LabeledText> PostgresTrainingRows::ReadMisclassified(const LabelColumns& columns, ClassNames& classes) {
  const std::string what = "reading the misclassified rows of " + columns.label;
  std::vector<LabeledText> rows;
  ReadInBatches(MisclassifiedRowsSql(SqlDialect::kPostgres, columns), what, [&](const PGresult* batch) {
    for (int r = 0; r < PQntuples(batch); ++r) {
      LabeledText& row = rows.emplace_back();
      row.id = IdAt(batch, r, 0, what);
      row.label = classes.IndexOf(ValueAt(batch, r, 1));
      if (!PQgetisnull(batch, r, 2)) row.text = ValueAt(batch, r, 2);
    }
  });
  return rows;
}

std::vector<PoolEntry> PostgresTrainingRows::ReadCorrectPool(const LabelColumns& columns, ClassNames& classes) {
  const std::string what = "reading the correct complaints of " + columns.label;
  std::vector<PoolEntry> pool;
  ReadInBatches(CorrectPoolRowsSql(columns), what, [&](const PGresult* batch) {
    for (int r = 0; r < PQntuples(batch); ++r)
      pool.push_back({IdAt(batch, r, 0, what), classes.IndexOf(ValueAt(batch, r, 1))});
  });
  return pool;
}

std::vector<std::string> PostgresTrainingRows::ReadMessages(std::span<const int64_t> ids) {
  constexpr std::string_view what = "reading complaint messages";
  std::unordered_map<int64_t, std::string> by_id;
  for (size_t start = 0; start < ids.size(); start += kIdsPerQuery) {
    const std::span<const int64_t> part = ids.subspan(start, std::min(kIdsPerQuery, ids.size() - start));
    PgResult result =
        Run("SELECT id, message FROM complaints WHERE id = ANY($1::bigint[])", {IdArray(part)}, what, PGRES_TUPLES_OK);
    for (int r = 0; r < PQntuples(result.get()); ++r)
      if (!PQgetisnull(result.get(), r, 1)) by_id[IdAt(result.get(), r, 0, what)] = ValueAt(result.get(), r, 1);
  }
  std::vector<std::string> messages;
  messages.reserve(ids.size());
  for (int64_t id : ids) {
    auto found = by_id.find(id);
    messages.push_back(found == by_id.end() ? std::string() : found->second);
  }
  return messages;
}

}  // namespace orch
