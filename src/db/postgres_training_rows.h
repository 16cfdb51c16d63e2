// The prepare worker's rows from the application's PostgreSQL database (see db/training_rows.h).
//
// One read-only session. A snapshot is a REPEATABLE READ, READ ONLY transaction; large results
// are read through a cursor in batches, so a pool of millions of complaints never sits in memory
// twice (once in libpq's result, once in the worker's rows).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "db/pg_session.h"
#include "db/training_rows.h"

namespace orch {

class PostgresTrainingRows final : public TrainingRows {
 public:
  // Connects to url.target. Throws DatabaseError when the server cannot be reached or refuses.
  explicit PostgresTrainingRows(const DatabaseUrl& url);

  void BeginSnapshot() override;
  void EndSnapshot() noexcept override;
  std::vector<LabeledText> ReadMisclassified(const LabelColumns& columns, ClassNames& classes) override;
  std::vector<PoolEntry> ReadCorrectPool(const LabelColumns& columns, ClassNames& classes) override;
  std::vector<std::string> ReadMessages(std::span<const int64_t> ids) override;

 private:
  // Runs `sql` through a cursor, handing each batch of rows to `on_batch`.
  template <typename OnBatch>
  void ReadInBatches(const std::string& sql, std::string_view what, OnBatch on_batch);
  // Runs one statement with text parameters; throws unless its status is `expected`.
  PgResult Run(const std::string& sql, const SqlRow& params, std::string_view what, int expected);

  PgSession session_;
  std::optional<PgTransaction> snapshot_;
};

}  // namespace orch
