// The prepare worker's rows from the application's SQLite file (see db/training_rows.h).
//
// The file is opened read-only; a snapshot is a read transaction, which in WAL mode lets the
// application go on writing meanwhile (in rollback-journal mode its writers wait, up to the busy
// timeout, until the snapshot ends: keep snapshots short).
#pragma once

#include <string>
#include <string_view>

#include "db/sqlite_session.h"
#include "db/training_rows.h"

namespace orch {

class SqliteTrainingRows final : public TrainingRows {
 public:
  // Opens the existing file at `path`. Throws DatabaseError when it is missing or not a database.
  explicit SqliteTrainingRows(const std::string& path);

  void BeginSnapshot() override;
  void EndSnapshot() noexcept override;
  std::vector<LabeledText> ReadMisclassified(const LabelColumns& columns, ClassNames& classes) override;
  std::vector<PoolEntry> ReadCorrectPool(const LabelColumns& columns, ClassNames& classes) override;
  std::vector<std::string> ReadMessages(std::span<const int64_t> ids) override;

 private:
  SqliteSession session_;
  SqliteStatement messages_by_ids_;  // prepared on first use, kept for every later batch
};

}  // namespace orch
