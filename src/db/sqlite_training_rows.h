// The prepare worker's rows from the application's SQLite file (see db/training_rows.h).
//
// The file is opened read-only; each read steps one statement and hands over each row as SQLite
// returns it (texts straight from SQLite's buffers, no copy). A snapshot is a read transaction, which in WAL mode lets
// the application go on writing meanwhile (in rollback-journal mode its writers wait, up to the busy timeout, until the
// snapshot ends: keep snapshots short).
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
  void ReadMisclassified(const LabelColumns& columns, ClassNames& classes,
                         const std::function<void(const LabeledText&)>& on_row) override;
  void ReadCorrectPool(const LabelColumns& columns, ClassNames& classes,
                       const std::function<void(const PoolEntry&)>& on_entry) override;
  void ReadMessages(std::span<const int64_t> ids,
                    const std::function<void(size_t index, std::string_view message)>& on_message) override;
  int64_t CountMisclassified(const LabelColumns& columns) override;

 private:
  // Steps `statement`, whose rows are complaints (id, message) in id order, and hands over the
  // message of each of `ids` (ids[k] being the ReadMessages' first_index + k), "" for those missing.
  void HandOver(sqlite3_stmt* statement, std::span<const int64_t> ids, size_t first_index, std::string_view what,
                const std::function<void(size_t, std::string_view)>& on_message);

  SqliteSession session_;
  SqliteStatement messages_by_ids_;    // prepared on first use, kept for every later batch
  SqliteStatement messages_in_range_;  // the same
};

}  // namespace orch
