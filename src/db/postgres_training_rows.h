// The prepare worker's rows from the application's PostgreSQL database (see db/training_rows.h).
//
// One read-only session. A snapshot is a REPEATABLE READ, READ ONLY transaction; every read is a
// COPY (...) TO STDOUT that the server streams and the adapter hands over row by row (db/pg_copy.h),
// so neither libpq nor the adapter ever holds more than one row of a read of millions. A snapshot
// is shared with a second session (ShareSnapshot) through pg_export_snapshot and SET TRANSACTION
// SNAPSHOT, so two reads of it run on the server at once.
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
  void ReadMisclassified(const LabelColumns& columns, ClassNames& classes,
                         const std::function<void(const LabeledText&)>& on_row) override;
  void ReadCorrectPool(const LabelColumns& columns, ClassNames& classes,
                       const std::function<void(const PoolEntry&)>& on_entry) override;
  void ReadMessages(std::span<const int64_t> ids,
                    const std::function<void(size_t index, std::string_view message)>& on_message) override;
  int64_t CountMisclassified(const LabelColumns& columns) override;
  // Falls back to nothing (no error) when the server cannot export the snapshot or a second session
  // cannot connect: the reads then run one after the other.
  std::unique_ptr<TrainingRows> ShareSnapshot() override;

 private:
  // Starts a snapshot: a new one, or the one `exported` names.
  void Begin(const std::string* exported);

  DatabaseUrl url_;
  PgSession session_;
  std::optional<PgTransaction> snapshot_;
};

}  // namespace orch
