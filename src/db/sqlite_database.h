// The application's database in a SQLite file, through the sqlite3 library.
//
// The file is opened read-only: the orchestrator never writes the application's tables, and a
// configured query that tries to fails. It waits up to 5 s for a writer's lock to clear.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.h"
#include "db/sqlite_session.h"

namespace orch {

class SqliteDatabase final : public Database {
 public:
  // Opens the existing file at `path`. Throws DatabaseError when it is missing or unreadable.
  // See SqliteSession for the `cancellation`.
  explicit SqliteDatabase(const std::string& path, const Cancellation* cancellation = nullptr);

  std::vector<int64_t> CountMisclassified(std::span<const LabelColumns> labels) override;
  std::vector<int64_t> CountCorrectPool(std::span<const LabelColumns> labels) override;
  int64_t CountWithQuery(const std::string& sql) override;
  bool HasComplaintIdIndex() override;
  std::string ServerVersion() override;

 private:
  // Runs `sql`, which returns one row of `columns` counts.
  std::vector<int64_t> CountRow(const std::string& sql, int columns, std::string_view what);
  int64_t CountAt(sqlite3_stmt* statement, int column, std::string_view what);

  SqliteSession session_;
};

}  // namespace orch
