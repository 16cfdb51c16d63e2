// The run lock on PostgreSQL: a session advisory lock, held by the pass's session.
//
// The key is RunLockKey(name). The session's application_name is "orchestrator <holder>", so
// another process that finds the lock taken can say who holds it (pg_locks joined with
// pg_stat_activity). The lock lives exactly as long as the holding session: a process killed in
// any way drops its connection, and the server releases the lock at once. Nothing is written.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "config/database_url.h"
#include "db/pg_session.h"
#include "db/state_store.h"

namespace orch {

// 64-bit FNV-1a of `text` (offset basis 0xcbf29ce484222325, prime 0x100000001b3), its bits read as
// a signed integer: a key for pg_advisory_lock(bigint) that is the same on every platform and in
// every version of the program.
int64_t AdvisoryLockKey(std::string_view text);

// The key of the run lock `name`: AdvisoryLockKey("orchestrator:" + name).
int64_t RunLockKey(std::string_view name);

class PostgresRunLock final : public RunLock {
 public:
  // Connects to url.target as application_name "orchestrator <holder>". Throws DatabaseError when
  // the server cannot be reached.
  PostgresRunLock(const DatabaseUrl& url, const std::string& name, const std::string& holder);
  // Holds the lock on `session`, which the caller connected as LockSessionName(holder).
  PostgresRunLock(std::shared_ptr<PgSession> session, const std::string& name);
  // Releases the lock if held; never throws.
  ~PostgresRunLock() override;
  PostgresRunLock(const PostgresRunLock&) = delete;
  PostgresRunLock& operator=(const PostgresRunLock&) = delete;

  // pg_try_advisory_lock: true when this object holds the lock now (also when it already did).
  bool TryAcquire() override;
  // "host:pid (since 2026-11-26T07:31:02Z)" from the holding session's application_name and
  // backend_start; "unknown" when nobody holds it any more.
  LockHolder Holder() override;
  // Checks that this session still holds the lock: false when the connection was lost with it.
  bool Renew() override;
  // pg_advisory_unlock. When that fails the connection is gone, and the lock with it, so this
  // does not throw.
  void Release() override;
  UnlockResult Unlock() override;

 private:
  std::shared_ptr<PgSession> session_;
  int64_t key_;
  bool held_ = false;
};

// The application_name of a session that may hold the run lock: "orchestrator <holder>".
std::string LockSessionName(const std::string& holder);

}  // namespace orch
