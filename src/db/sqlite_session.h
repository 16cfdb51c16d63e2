// One connection to a SQLite file, the only way the program talks to sqlite3: the application's
// counts and training rows (read-only), the orchestrator's state and run lock (read-write), and
// the demo's simulated application (created when missing).
//
// Every failure becomes a DatabaseError that names what was being done and the file, with a hint
// for the usual cause: the orchestrator's tables not migrated yet, or DATABASE_URL pointing at a
// database without the application's tables.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "db/sql_dialect.h"

struct sqlite3;
struct sqlite3_stmt;

namespace orch {

class Cancellation;

struct SqliteCloser {
  void operator()(sqlite3* db) const;
};
struct SqliteFinalizer {
  void operator()(sqlite3_stmt* statement) const;
};
using SqliteHandle = std::unique_ptr<sqlite3, SqliteCloser>;
using SqliteStatement = std::unique_ptr<sqlite3_stmt, SqliteFinalizer>;

enum class SqliteAccess {
  kReadOnly,   // the application's tables: the orchestrator never writes them
  kReadWrite,  // the orchestrator's own tables
  kCreate,     // the demo's application: the file is created when missing
};

// Whose tables a session's statements use, for the hint its errors carry.
enum class SqliteTables { kOrchestrator, kApplication };

class SqliteSession {
 public:
  // Opens the file at `path` (it must exist unless `access` is kCreate), with a 5 s busy timeout
  // and double-quoted strings refused, and reads its schema so that "not a database" fails here.
  // Throws DatabaseError naming the path.
  //
  // With a `cancellation`, a statement still waiting for the file's lock or still running once it
  // is set and the statement has had a second, is given up with a DatabaseError saying so: a
  // stopped pass does not wait for a lock or a long count, while the short statements that record
  // how it ended still run.
  SqliteSession(const std::string& path, SqliteAccess access, SqliteTables tables,
                const Cancellation* cancellation = nullptr);
  ~SqliteSession();
  SqliteSession(SqliteSession&&) noexcept;

  // Compiles exactly one statement with `params` bound as text (?1, ?2, …; nothing is NULL; the
  // columns' affinity stores numbers as numbers). Throws DatabaseError for an empty text or more
  // than one statement.
  SqliteStatement Prepare(const std::string& sql, const SqlRow& params, std::string_view what);
  // Steps to the next row: true for a row, false when done; throws on errors.
  bool Step(sqlite3_stmt* statement, std::string_view what);
  // Runs one statement and returns its rows with every value as text.
  std::vector<SqlRow> Query(const std::string& sql, const SqlRow& params, std::string_view what);
  // Runs one statement; returns the number of rows it inserted, changed or deleted.
  int64_t Command(const std::string& sql, const SqlRow& params, std::string_view what);
  // Runs one or more statements without parameters (DDL, BEGIN, COMMIT).
  void Execute(const std::string& sql, std::string_view what);
  bool TableExists(std::string_view table);
  // The rowid of the last row this connection inserted.
  int64_t LastInsertId() const;

  // Throws the DatabaseError for the connection's last failure while doing `what`.
  [[noreturn]] void Fail(std::string_view what) const;

  const std::string& path() const { return path_; }
  sqlite3* raw() const { return db_.get(); }

 private:
  struct Watch;
  // Marks the start of a statement, for the cancellation's second.
  void Begin();

  std::string path_;
  SqliteTables tables_;
  std::unique_ptr<Watch> watch_;  // the cancellation's handlers look at it (null without one)
  SqliteHandle db_;               // closed first, while watch_ is still there
};

// A write transaction on a SqliteSession: BEGIN IMMEDIATE on construction (so it holds the write
// lock from the start and never deadlocks upgrading a read), ROLLBACK unless committed.
class SqliteTransaction {
 public:
  SqliteTransaction(SqliteSession& session, std::string_view what);
  ~SqliteTransaction();
  SqliteTransaction(const SqliteTransaction&) = delete;
  SqliteTransaction& operator=(const SqliteTransaction&) = delete;
  void Commit();

 private:
  SqliteSession& session_;
  std::string what_;
  bool open_ = true;
};

// Column `column` of the current row as text, NULL as nothing.
std::optional<std::string> SqliteColumnText(sqlite3_stmt* statement, int column);

}  // namespace orch
