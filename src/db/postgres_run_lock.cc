#include "db/postgres_run_lock.h"

#include <bit>

#include "db/state_codec.h"
#include "util/error.h"
#include "util/fnv.h"

namespace orch {
namespace {

constexpr std::string_view kApplicationPrefix = "orchestrator ";

// pg_locks shows a bigint advisory key split in two: the high 32 bits as classid, the low 32 bits
// as objid, with objsubid = 1 (2 marks the two-integer form). Parameters: classid, objid.
constexpr const char* kKeyMatch =
    "l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 AND l.classid = $1::oid AND l.objid = $2::oid";

// Advisory locks belong to a database: the same key in another database is another lock.
const std::string kHolderSql =
    "SELECT a.application_name, a.pid, to_char(a.backend_start AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE " +
    std::string(kKeyMatch) +
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " LIMIT 1";

const std::string kHeldByMeSql =
    "SELECT count(*) FROM pg_locks l WHERE l.pid = pg_backend_pid() AND " + std::string(kKeyMatch);

SqlRow KeyHalves(int64_t key) {
  const auto bits = std::bit_cast<uint64_t>(key);
  return {std::to_string(bits >> 32), std::to_string(bits & 0xffffffffU)};
}

// "host:pid (since …)" for another orchestrator; the application and backend pid for anything else
// holding the key (psql, another tool).
std::string DescribeHolder(const SqlRow& row) {
  const std::string application = row[0].value_or("");
  std::string who;
  if (application.starts_with(kApplicationPrefix)) {
    who = application.substr(kApplicationPrefix.size());
  } else {
    who = (application.empty() ? std::string("a session") : "\"" + application + "\"") + " (backend pid " +
          row[1].value_or("?") + ")";
  }
  // backend_start is hidden from roles that may not see the other session's details.
  return row[2] ? who + " (since " + *row[2] + ")" : who;
}

}  // namespace

int64_t AdvisoryLockKey(std::string_view text) { return std::bit_cast<int64_t>(Fnv1a64(text)); }

int64_t RunLockKey(std::string_view name) { return AdvisoryLockKey("orchestrator:" + std::string(name)); }

std::string LockSessionName(const std::string& holder) { return std::string(kApplicationPrefix) + holder; }

PostgresRunLock::PostgresRunLock(const DatabaseUrl& url, const std::string& name, const std::string& holder)
    : PostgresRunLock(std::make_shared<PgSession>(url, LockSessionName(holder), PgAccess::kReadWrite), name) {}

PostgresRunLock::PostgresRunLock(std::shared_ptr<PgSession> session, const std::string& name)
    : session_(std::move(session)), key_(RunLockKey(name)) {}

PostgresRunLock::~PostgresRunLock() { Release(); }

bool PostgresRunLock::TryAcquire() {
  // Session locks stack: taking it twice would need two unlocks.
  if (held_) return true;
  const std::string what = "taking the run lock";
  held_ =
      SingleInteger(session_->Query("SELECT pg_try_advisory_lock($1::bigint)::integer", {std::to_string(key_)}, what),
                    what) == 1;
  return held_;
}

LockHolder PostgresRunLock::Holder() {
  const std::vector<SqlRow> rows = session_->Query(kHolderSql, KeyHalves(key_), "looking for the run lock's holder");
  if (rows.empty()) return {"unknown"};
  return {DescribeHolder(rows[0])};
}

RunLock::UnlockResult PostgresRunLock::Unlock() {
  if (TryAcquire()) {
    Release();
    return {UnlockResult::Kind::kFree, ""};
  }
  return {UnlockResult::Kind::kHeld, Holder().description};
}

bool PostgresRunLock::Renew() {
  if (!held_) return false;
  const std::string what = "checking the run lock";
  try {
    held_ = SingleInteger(session_->Query(kHeldByMeSql, KeyHalves(key_), what), what) > 0;
  } catch (const DatabaseError&) {
    held_ = false;  // the connection is gone, and the lock with it
  }
  return held_;
}

void PostgresRunLock::Release() {
  if (!held_) return;
  held_ = false;
  try {
    session_->Query("SELECT pg_advisory_unlock($1::bigint)", {std::to_string(key_)}, "releasing the run lock");
  } catch (const DatabaseError&) {
    // The connection is gone, and the server released the lock with it.
  }
}

}  // namespace orch
