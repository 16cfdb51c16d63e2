// The orchestrator's state in the application's SQLite file, through the sqlite3 library.
//
// Unlike SqliteDatabase (read-only), this opens the file read-write, and only ever touches the
// orchestrator_* tables. It waits up to 5 s for another writer, and leaves the file's journal mode
// alone: switching the application's database to WAL is not the orchestrator's decision.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "db/migrations.h"
#include "db/sqlite_database.h"
#include "db/state_store.h"

namespace orch {

// A read-write connection to an existing SQLite file, shared by the state store and the run lock.
// Failures become DatabaseErrors naming what was being done and the file.
class SqliteSession {
 public:
  // Opens the existing file at `path`. Throws DatabaseError when it is missing or not a database.
  explicit SqliteSession(const std::string& path);

  // Runs one statement with `params` bound as text (?1, ?2, …; nothing is NULL; the columns'
  // affinity stores numbers as numbers) and returns its rows with every value as text.
  std::vector<SqlRow> Query(const std::string& sql, const SqlRow& params, std::string_view what);
  // Runs one statement with `params` bound; returns the number of rows it inserted, changed or deleted.
  int64_t Command(const std::string& sql, const SqlRow& params, std::string_view what);
  // Runs one or more statements without parameters (DDL, BEGIN, COMMIT).
  void Execute(const std::string& sql, std::string_view what);
  bool TableExists(std::string_view table);
  // The rowid of the last row this connection inserted.
  int64_t LastInsertId() const;

 private:
  SqliteStatement Prepare(const std::string& sql, const SqlRow& params, std::string_view what);
  [[noreturn]] void Fail(std::string_view what) const;

  std::string path_;
  SqliteHandle db_;
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

class SqliteStateStore final : public StateStore {
 public:
  // Opens the existing file at `path` read-write. Throws DatabaseError when it cannot.
  explicit SqliteStateStore(const std::string& path);

  std::vector<int> Migrate() override;
  int SchemaVersion() override;
  std::vector<LabelState> LoadLabels(std::span<const std::string> labels) override;
  void SaveLabels(std::span<const LabelState> states) override;
  int64_t BeginRun(const RunRecord& run) override;
  void FinishRun(int64_t id, WallTime finished_at, const std::string& status,
                 const std::string& summary_json) override;
  std::vector<RunRecord> History(int limit) override;

 private:
  void SaveOne(const LabelState& state);
  // Applies `migration` unless another process applied it first; true when this call did.
  bool ApplyMigration(const Migration& migration);
  // The highest version in orchestrator_schema_migrations, which must exist.
  int AppliedVersion();

  SqliteSession session_;
};

}  // namespace orch
