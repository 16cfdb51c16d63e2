#include "db/state_store.h"

#include "db/postgres_run_lock.h"
#include "db/postgres_state_store.h"
#include "db/sqlite_run_lock.h"
#include "db/sqlite_state_store.h"

namespace orch {

const char* PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kIdle:
      return "idle";
    case Phase::kPreparing:
      return "preparing";
    case Phase::kRetraining:
      return "retraining";
  }
  return "idle";  // not reached: every Phase is named above
}

std::optional<Phase> PhaseFromName(std::string_view name) {
  for (Phase phase : {Phase::kIdle, Phase::kPreparing, Phase::kRetraining})
    if (name == PhaseName(phase)) return phase;
  return std::nullopt;
}

std::unique_ptr<StateStore> OpenStateStore(const DatabaseUrl& url) {
  if (url.kind == DatabaseUrl::Kind::kPostgres) return std::make_unique<PostgresStateStore>(url);
  return std::make_unique<SqliteStateStore>(url.target);
}

std::unique_ptr<RunLock> OpenRunLock(const DatabaseUrl& url, const std::string& name, const std::string& holder,
                                     std::chrono::seconds lease) {
  if (url.kind == DatabaseUrl::Kind::kPostgres) return std::make_unique<PostgresRunLock>(url, name, holder);
  return std::make_unique<SqliteRunLock>(url.target, name, holder, lease);
}

}  // namespace orch
