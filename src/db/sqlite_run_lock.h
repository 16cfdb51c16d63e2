// The run lock on SQLite: a lease row in orchestrator_lock.
//
// SQLite has no lock that dies with a process, so the holder writes a row with an expiry and
// renews it while the pass runs; a lease left by a killed process simply expires. Every read and
// write of the row happens in a BEGIN IMMEDIATE transaction, so two processes never both see the
// lease free. The orchestrator_lock table comes with the schema migrations: migrate first.
//
// The lease also fences the pass's writes: CheckHeldIn, run by the state store inside the
// transaction of each state write, refuses the write unless this very acquisition (holder and
// acquisition time) still holds an unexpired lease. Safe to use from two threads (the pass and
// the thread that keeps the lease renewed).
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "db/sqlite_session.h"
#include "db/state_store.h"

namespace orch {

class SqliteRunLock final : public RunLock {
 public:
  // Where the lock reads the time; tests inject one that moves only when told to.
  using WallClock = std::function<WallTime()>;

  // Opens the existing file at `path` read-write (see SqliteSession for the `cancellation`). Throws
  // DatabaseError when it cannot.
  SqliteRunLock(
      const std::string& path, const std::string& name, const std::string& holder, std::chrono::seconds lease,
      const Cancellation* cancellation = nullptr, WallClock now = [] { return std::chrono::system_clock::now(); });
  // Releases the lease if held; never throws (a lease that cannot be deleted expires by itself).
  ~SqliteRunLock() override;
  SqliteRunLock(const SqliteRunLock&) = delete;
  SqliteRunLock& operator=(const SqliteRunLock&) = delete;

  // Takes the lease when there is none, it expired (expires_at < now) or it is already this
  // holder's; it then lasts until now + lease.
  bool TryAcquire() override;
  // "host:pid (lease until 2026-11-26T07:31:02.123Z)"; "… (lease expired at …)" for a lease
  // nobody renewed; "unknown" when there is no lease.
  LockHolder Holder() override;
  // Moves the expiry to now + lease if the lease is still this holder's; false when another
  // holder took it (after it expired) or it was deleted.
  bool Renew() override;
  // Deletes this holder's lease row. Throws DatabaseError when it cannot (the lease then expires
  // by itself).
  void Release() override;
  UnlockResult Unlock() override;
  std::optional<std::chrono::seconds> lease() const override { return lease_; }

  // Throws LockLostError unless this acquisition's lease is still the row's and unexpired, read
  // through `session` (the writer's, inside its transaction).
  void CheckHeldIn(SqliteSession& session);

 private:
  struct Lease {
    std::string holder;
    WallTime expires_at;
    std::string acquired_at;
  };
  // The row for this lock's name, if any.
  std::optional<Lease> CurrentLease(std::string_view what);

  SqliteSession session_;
  std::string name_;
  std::string holder_;
  std::chrono::seconds lease_;
  WallClock now_;
  // The session is used by one thread at a time; the fields below are written with both mutexes
  // held (taken in this order) and read by CheckHeldIn with the second only.
  std::mutex session_mutex_;
  std::mutex fields_mutex_;
  bool held_ = false;
  std::string acquired_at_;  // with the holder, what tells this acquisition from a later one
};

}  // namespace orch
