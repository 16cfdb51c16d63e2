#include "db/sqlite_run_lock.h"

#include "config/label_name.h"
#include "db/state_codec.h"
#include "util/error.h"

namespace orch {
namespace {

constexpr const char* kWriteLeaseSql =
    "INSERT INTO orchestrator_lock (name, holder, acquired_at, expires_at) VALUES (?1, ?2, ?3, ?4) "
    "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, acquired_at = excluded.acquired_at, "
    "expires_at = excluded.expires_at";

}  // namespace

SqliteRunLock::SqliteRunLock(const std::string& path, const std::string& name, const std::string& holder,
                             std::chrono::seconds lease, const Cancellation* cancellation, WallClock now)
    : session_(path, SqliteAccess::kReadWrite, SqliteTables::kOrchestrator, cancellation),
      name_(name),
      holder_(holder),
      lease_(lease),
      now_(std::move(now)) {}

SqliteRunLock::~SqliteRunLock() {
  try {
    Release();
  } catch (const DatabaseError&) {
    // The lease expires by itself.
  }
}

std::optional<SqliteRunLock::Lease> SqliteRunLock::CurrentLease(std::string_view what) {
  const std::vector<SqlRow> rows =
      session_.Query("SELECT holder, expires_at, acquired_at FROM orchestrator_lock WHERE name = ?1", {name_}, what);
  if (rows.empty()) return std::nullopt;
  const std::optional<std::string>& expires = rows[0][1];
  const std::optional<WallTime> expires_at = expires ? ParseTimestamp(*expires) : std::nullopt;
  if (!expires_at)
    throw DatabaseError("the run lock " + QuoteForMessage(name_) + " in orchestrator_lock cannot be used: column " +
                        "expires_at holds " + (expires ? QuoteForMessage(*expires) : "NULL") +
                        ", which is not a timestamp like '2026-11-26T07:31:02.123Z'. Repair it by hand: "
                        "DELETE FROM orchestrator_lock WHERE name = " +
                        QuoteSqlText(name_) + " when no pass is running");
  return Lease{rows[0][0].value_or(""), *expires_at, rows[0][2].value_or("")};
}

bool SqliteRunLock::TryAcquire() {
  const std::lock_guard<std::mutex> guard(session_mutex_);
  const std::string what = "taking the run lock";
  SqliteTransaction transaction(session_, what);
  const WallTime now = now_();
  const std::optional<Lease> current = CurrentLease(what);
  if (current && current->holder != holder_ && !(current->expires_at < now)) {
    const std::lock_guard<std::mutex> fields(fields_mutex_);
    held_ = false;  // if it was ours, it expired and was taken
    return false;   // the transaction rolls back: nothing was written
  }
  const std::string acquired_at = FormatTimestamp(now);
  session_.Command(kWriteLeaseSql, {name_, holder_, acquired_at, FormatTimestamp(now + lease_)}, what);
  transaction.Commit();
  const std::lock_guard<std::mutex> fields(fields_mutex_);
  held_ = true;
  acquired_at_ = acquired_at;
  return true;
}

RunLock::UnlockResult SqliteRunLock::Unlock() {
  const std::lock_guard<std::mutex> guard(session_mutex_);
  const std::string what = "freeing the run lock";
  SqliteTransaction transaction(session_, what);
  const std::optional<Lease> current = CurrentLease(what);
  if (!current) return {UnlockResult::Kind::kFree, ""};
  const std::string holder = current->holder + " (lease until " + FormatTimestamp(current->expires_at) + ")";
  if (!(current->expires_at < now_())) return {UnlockResult::Kind::kHeld, holder};
  session_.Command("DELETE FROM orchestrator_lock WHERE name = ?1 AND holder = ?2", {name_, current->holder}, what);
  transaction.Commit();
  return {UnlockResult::Kind::kFreed, holder};
}

LockHolder SqliteRunLock::Holder() {
  const std::lock_guard<std::mutex> guard(session_mutex_);
  const std::optional<Lease> current = CurrentLease("looking for the run lock's holder");
  if (!current) return {"unknown"};
  const bool expired = current->expires_at < now_();
  return {current->holder + (expired ? " (lease expired at " : " (lease until ") +
          FormatTimestamp(current->expires_at) + ")"};
}

bool SqliteRunLock::Renew() {
  const std::lock_guard<std::mutex> guard(session_mutex_);
  if (!held_) return false;
  const std::string what = "renewing the run lock";
  SqliteTransaction transaction(session_, what);
  const std::optional<Lease> current = CurrentLease(what);
  if (!current || current->holder != holder_ || current->acquired_at != acquired_at_) {
    const std::lock_guard<std::mutex> fields(fields_mutex_);
    held_ = false;
    return false;
  }
  session_.Command("UPDATE orchestrator_lock SET expires_at = ?1 WHERE name = ?2 AND holder = ?3",
                   {FormatTimestamp(now_() + lease_), name_, holder_}, what);
  transaction.Commit();
  return true;
}

void SqliteRunLock::CheckHeldIn(SqliteSession& session) {
  // Only the fields' mutex: the renewing thread may hold the session's while it waits for the very
  // write transaction this check runs in.
  std::string acquired_at;
  bool held = false;
  {
    const std::lock_guard<std::mutex> fields(fields_mutex_);
    acquired_at = acquired_at_;
    held = held_;
  }
  const std::string what = "checking that this pass still holds the run lock";
  const std::vector<SqlRow> rows =
      session.Query("SELECT expires_at FROM orchestrator_lock WHERE name = ?1 AND holder = ?2 AND acquired_at = ?3",
                    {name_, holder_, acquired_at}, what);
  const std::optional<WallTime> expires_at = rows.empty() || !rows[0][0] ? std::nullopt : ParseTimestamp(*rows[0][0]);
  if (held && expires_at && !(*expires_at < now_())) return;
  throw LockLostError("the run lock " + QuoteForMessage(name_) + " was lost (" +
                      (expires_at ? "its lease expired at " + FormatTimestamp(*expires_at)
                                  : std::string("another pass took it after its lease expired")) +
                      "): nothing more is written or sent; this pass stops and the next one resumes");
}

void SqliteRunLock::Release() {
  const std::lock_guard<std::mutex> guard(session_mutex_);
  if (!held_) return;
  {
    const std::lock_guard<std::mutex> fields(fields_mutex_);
    held_ = false;
  }
  session_.Command("DELETE FROM orchestrator_lock WHERE name = ?1 AND holder = ?2", {name_, holder_},
                   "releasing the run lock");
}

}  // namespace orch
