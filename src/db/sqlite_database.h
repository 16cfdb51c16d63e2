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

struct sqlite3;
struct sqlite3_stmt;

namespace orch {

struct SqliteCloser {
  void operator()(sqlite3* db) const;
};
struct SqliteFinalizer {
  void operator()(sqlite3_stmt* statement) const;
};
using SqliteHandle = std::unique_ptr<sqlite3, SqliteCloser>;
using SqliteStatement = std::unique_ptr<sqlite3_stmt, SqliteFinalizer>;

// Opens an existing SQLite file with `flags` (read-only, read-write), a busy timeout, and
// double-quoted strings refused. Throws DatabaseError naming the path and `purpose`.
SqliteHandle OpenSqliteFile(const std::string& path, int flags, std::string_view purpose);

class SqliteDatabase final : public Database {
 public:
  // Opens the existing file at `path`. Throws DatabaseError when it is missing or unreadable.
  explicit SqliteDatabase(const std::string& path);

  std::vector<int64_t> CountMisclassified(std::span<const LabelColumns> labels) override;
  std::vector<int64_t> CountCorrectPool(std::span<const LabelColumns> labels) override;
  int64_t CountWithQuery(const std::string& sql) override;
  bool HasComplaintIdIndex() override;
  std::string ServerVersion() override;

 private:
  // Compiles exactly one statement; `what` names it in errors.
  SqliteStatement Prepare(const std::string& sql, std::string_view what);
  // Steps to the next row: true for a row, false when done; throws on errors.
  bool Step(sqlite3_stmt* statement, std::string_view what);
  // Runs `sql`, which returns one row of `columns` counts.
  std::vector<int64_t> CountRow(const std::string& sql, int columns, std::string_view what);
  int64_t CountAt(sqlite3_stmt* statement, int column, std::string_view what);
  [[noreturn]] void Fail(std::string_view what) const;

  std::string path_;
  SqliteHandle db_;
};

}  // namespace orch
