#include "db/open_database.h"

#include "db/postgres_database.h"
#include "db/postgres_run_lock.h"
#include "db/postgres_state_store.h"
#include "db/sqlite_database.h"

namespace orch {

std::unique_ptr<Database> OpenDatabase(const DatabaseUrl& url) {
  if (url.kind == DatabaseUrl::Kind::kPostgres) return std::make_unique<PostgresDatabase>(url);
  return std::make_unique<SqliteDatabase>(url.target);
}

PassDatabases OpenPassDatabases(const DatabaseUrl& url, bool with_lock, const std::string& name,
                                const std::string& holder, std::chrono::seconds lease) {
  PassDatabases opened;
  if (url.kind == DatabaseUrl::Kind::kPostgres) {
    // Read-write by default for the state's single-statement saves; the counts' configured
    // queries still run read-only (see PostgresDatabase).
    auto session = std::make_shared<PgSession>(url, LockSessionName(holder), PgAccess::kReadWrite);
    opened.counts = std::make_unique<PostgresDatabase>(session);
    opened.state = std::make_unique<PostgresStateStore>(session);
    if (with_lock) opened.lock = std::make_unique<PostgresRunLock>(session, name);
    return opened;
  }
  opened.counts = OpenDatabase(url);
  opened.state = OpenStateStore(url);
  if (with_lock) opened.lock = OpenRunLock(url, name, holder, lease);
  return opened;
}

}  // namespace orch
