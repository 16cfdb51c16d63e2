// The orchestrator's state in the application's SQLite file, through the sqlite3 library.
//
// Unlike SqliteDatabase (read-only), this opens the file read-write, and only ever touches the
// orchestrator_* tables. It waits up to 5 s for another writer, and leaves the file's journal mode
// alone: switching the application's database to WAL is not the orchestrator's decision.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "db/migrations.h"
#include "db/sqlite_session.h"
#include "db/state_store.h"

namespace orch {

class SqliteStateStore final : public StateStore {
 public:
  // Opens the existing file at `path` read-write. Throws DatabaseError when it cannot.
  // See SqliteSession for the `cancellation`.
  explicit SqliteStateStore(const std::string& path, const Cancellation* cancellation = nullptr);

  std::vector<int> Migrate() override;
  int SchemaVersion() override;
  std::vector<LabelState> LoadLabels(std::span<const std::string> labels) override;
  void SaveLabels(std::span<const LabelState> states) override;
  int64_t BeginRun(const RunRecord& run) override;
  void FinishRun(int64_t id, WallTime finished_at, const std::string& status, const std::string& summary_json) override;
  std::vector<RunRecord> History(int limit) override;
  std::optional<RunRecord> FindRun(int64_t id) override;

  // Runs `fence` inside the transaction of every label state write, before it: it throws (a
  // LockLostError) to refuse the write. See SqliteRunLock::CheckHeldIn.
  void SetFence(std::function<void(SqliteSession&)> fence) { fence_ = std::move(fence); }

 private:
  void SaveOne(const LabelState& state);
  // Applies `migration` unless another process applied it first; true when this call did.
  bool ApplyMigration(const Migration& migration);
  // The highest version in orchestrator_schema_migrations, which must exist.
  int AppliedVersion();

  SqliteSession session_;
  std::function<void(SqliteSession&)> fence_;
};

}  // namespace orch
