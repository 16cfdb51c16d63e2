#include "db/open_database.h"

#include "db/postgres_database.h"
#include "db/postgres_run_lock.h"
#include "db/postgres_state_store.h"
#include "db/postgres_training_rows.h"
#include "db/sqlite_database.h"
#include "db/sqlite_run_lock.h"
#include "db/sqlite_state_store.h"
#include "db/sqlite_training_rows.h"

namespace orch {
namespace {

bool IsPostgres(const DatabaseUrl& url) { return url.kind == DatabaseUrl::Kind::kPostgres; }

}  // namespace

std::unique_ptr<Database> OpenDatabase(const DatabaseUrl& url) {
  if (IsPostgres(url)) return std::make_unique<PostgresDatabase>(url);
  return std::make_unique<SqliteDatabase>(url.target);
}

std::unique_ptr<StateStore> OpenStateStore(const DatabaseUrl& url) {
  if (IsPostgres(url)) return std::make_unique<PostgresStateStore>(url);
  return std::make_unique<SqliteStateStore>(url.target);
}

std::unique_ptr<RunLock> OpenRunLock(const DatabaseUrl& url, const std::string& name, const std::string& holder,
                                     std::chrono::seconds lease) {
  if (IsPostgres(url)) return std::make_unique<PostgresRunLock>(url, name, holder);
  return std::make_unique<SqliteRunLock>(url.target, name, holder, lease);
}

std::unique_ptr<TrainingRows> OpenTrainingRows(const DatabaseUrl& url) {
  if (IsPostgres(url)) return std::make_unique<PostgresTrainingRows>(url);
  return std::make_unique<SqliteTrainingRows>(url.target);
}

std::unique_ptr<ApplicationWriter> OpenApplicationWriter(const DatabaseUrl& url) {
  if (IsPostgres(url)) return NewPostgresApplicationWriter(url);
  return NewSqliteApplicationWriter(url.target);
}

PassDatabases OpenPassDatabases(const DatabaseUrl& url, bool with_lock, const std::string& name,
                                const std::string& holder, std::chrono::seconds lease,
                                const Cancellation* cancellation) {
  PassDatabases opened;
  if (IsPostgres(url)) {
    // Read-write by default for the state's single-statement saves; the counts' configured
    // queries still run read-only (see PostgresDatabase).
    auto session = std::make_shared<PgSession>(url, LockSessionName(holder), PgAccess::kReadWrite, cancellation);
    opened.counts = std::make_unique<PostgresDatabase>(session);
    opened.state = std::make_unique<PostgresStateStore>(session);
    if (with_lock) opened.lock = std::make_unique<PostgresRunLock>(session, name);
    return opened;
  }
  opened.counts = std::make_unique<SqliteDatabase>(url.target, cancellation);
  if (!with_lock) {
    opened.state = std::make_unique<SqliteStateStore>(url.target, cancellation);
    return opened;
  }
  // The lease fences every state write: a pass whose lease another pass took writes nothing more.
  auto lock = std::make_unique<SqliteRunLock>(url.target, name, holder, lease, cancellation);
  auto state = std::make_unique<SqliteStateStore>(url.target, cancellation);
  state->SetFence([lock = lock.get()](SqliteSession& session) { lock->CheckHeldIn(session); });
  opened.lock = std::move(lock);
  opened.state = std::move(state);
  return opened;
}

}  // namespace orch
