// The orchestrator's state in a PostgreSQL database, through libpq.
//
// It writes through a read-write session (its own, or the pass's shared one) and only touches the
// orchestrator_* tables.
// Every value is bound with PQexecParams, never spliced into the SQL. Messages name the database by
// its redacted URL and never contain the password.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/database_url.h"
#include "db/migrations.h"
#include "db/pg_session.h"
#include "db/state_codec.h"
#include "db/state_store.h"

namespace orch {

class PostgresStateStore final : public StateStore {
 public:
  // Connects to url.target. Throws DatabaseError when it cannot.
  explicit PostgresStateStore(const DatabaseUrl& url);
  // Works on a read-write session shared with the counts and the run lock.
  explicit PostgresStateStore(std::shared_ptr<PgSession> session);

  std::vector<int> Migrate() override;
  int SchemaVersion() override;
  std::vector<LabelState> LoadLabels(std::span<const std::string> labels) override;
  void SaveLabels(std::span<const LabelState> states) override;
  int64_t BeginRun(const RunRecord& run) override;
  void FinishRun(int64_t id, WallTime finished_at, const std::string& status, const std::string& summary_json) override;
  std::vector<RunRecord> History(int limit) override;
  std::optional<RunRecord> FindRun(int64_t id) override;

 private:
  void SaveOne(const LabelState& state);
  // Applies `migration` unless another process applied it first; true when this call did.
  bool ApplyMigration(const Migration& migration);
  // The highest version in orchestrator_schema_migrations, which must exist.
  int AppliedVersion();

  std::shared_ptr<PgSession> session_;
};

}  // namespace orch
