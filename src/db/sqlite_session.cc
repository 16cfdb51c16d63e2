#include "db/sqlite_session.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "db/count_sql.h"
#include "db/state_codec.h"
#include "util/cancellation.h"
#include "util/error.h"
#include "util/strings.h"

namespace orch {
namespace {

constexpr int kBusyTimeoutMs = 5000;
// How often a statement's virtual machine looks at the cancellation (in its instructions).
constexpr int kProgressInstructions = 10000;

constexpr std::string_view kMissingTablesHint =
    "the orchestrator_* tables are created by the orchestrator's schema migrations: have they run on this database?";

int OpenFlags(SqliteAccess access) {
  switch (access) {
    // One thread uses a read-only connection: SQLite's own mutexes would only cost time.
    case SqliteAccess::kReadOnly: return SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX;
    case SqliteAccess::kReadWrite: return SQLITE_OPEN_READWRITE;
    case SqliteAccess::kCreate: return SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  }
  return SQLITE_OPEN_READONLY;
}

// Whether only spaces and semicolons are left: the end of a single statement.
bool OnlySpaceAndSemicolons(const char* text) {
  for (; *text != '\0'; ++text)
    if (!IsSpace(*text) && *text != ';' && *text != '\f' && *text != '\v') return false;
  return true;
}

}  // namespace

// What the busy and progress handlers look at; on the heap, so a moved session keeps it in place.
struct SqliteSession::Watch {
  const Cancellation* cancellation = nullptr;
  std::chrono::steady_clock::time_point started;     // when the statement running now was begun
  std::chrono::steady_clock::time_point busy_since;  // when its wait for the lock began

  // Cancelled, and the statement has had its second: give up.
  bool GivingUp() const {
    return cancellation->cancelled() && std::chrono::steady_clock::now() - started >= std::chrono::seconds(1);
  }

  // sqlite3_busy_handler: 1 to try the lock again after a short sleep, 0 to give up (SQLITE_BUSY).
  static int OnBusy(void* context, int count) {
    Watch& watch = *static_cast<Watch*>(context);
    const auto now = std::chrono::steady_clock::now();
    if (count == 0) watch.busy_since = now;
    const auto left = watch.busy_since + std::chrono::milliseconds(kBusyTimeoutMs) - now;
    if (left <= std::chrono::steady_clock::duration::zero() || watch.GivingUp()) return 0;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(25)));
    return 1;
  }

  // sqlite3_progress_handler: non-zero interrupts the statement (SQLITE_INTERRUPT).
  static int OnProgress(void* context) { return static_cast<Watch*>(context)->GivingUp() ? 1 : 0; }
};

void SqliteCloser::operator()(sqlite3* db) const { sqlite3_close_v2(db); }
void SqliteFinalizer::operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }

SqliteSession::SqliteSession(const std::string& path, SqliteAccess access, SqliteTables tables,
                             const Cancellation* cancellation)
    : path_(path), tables_(tables) {
  if (access != SqliteAccess::kCreate && !std::filesystem::exists(path))
    throw DatabaseError("SQLite database " + path +
                        " does not exist: create the database, or fix DATABASE_URL (sqlite:///relative/path.db, "
                        "sqlite:////absolute/path.db)");
  sqlite3* raw = nullptr;
  const int status = sqlite3_open_v2(path.c_str(), &raw, OpenFlags(access), nullptr);
  db_.reset(raw);  // a handle comes back even when opening failed, and must be closed
  if (status != SQLITE_OK) {
    if (!db_) throw DatabaseError("cannot open SQLite database " + path + ": out of memory");
    Fail("opening the database");
  }
  if (cancellation == nullptr) {
    sqlite3_busy_timeout(db_.get(), kBusyTimeoutMs);
  } else {
    watch_ = std::make_unique<Watch>(Watch{cancellation, std::chrono::steady_clock::now(), {}});
    sqlite3_busy_handler(db_.get(), &Watch::OnBusy, watch_.get());
    sqlite3_progress_handler(db_.get(), kProgressInstructions, &Watch::OnProgress, watch_.get());
  }
  // By default SQLite reads a double-quoted name that matches no column as a string literal, so a
  // misnamed column would silently count nothing instead of failing.
  sqlite3_db_config(db_.get(), SQLITE_DBCONFIG_DQS_DML, 0, nullptr);
  sqlite3_db_config(db_.get(), SQLITE_DBCONFIG_DQS_DDL, 0, nullptr);
  // Opening is lazy: reading the schema now turns "not a database" into an error at once.
  Query("SELECT count(*) FROM sqlite_master", {}, "reading the schema");
}

SqliteSession::~SqliteSession() = default;
SqliteSession::SqliteSession(SqliteSession&&) noexcept = default;

void SqliteSession::Begin() {
  if (watch_) watch_->started = std::chrono::steady_clock::now();
}

void SqliteSession::Fail(std::string_view what) const {
  const int code = sqlite3_errcode(db_.get());
  if (watch_ && watch_->cancellation->cancelled() && (code == SQLITE_INTERRUPT || code == SQLITE_BUSY))
    throw DatabaseError(std::string(what) + " on SQLite database " + path_ +
                        " was cancelled: the pass was asked to stop");
  const std::string detail = sqlite3_errmsg(db_.get());
  std::string message = std::string(what) + " failed on SQLite database " + path_ + ": " + detail;
  if (tables_ == SqliteTables::kOrchestrator && detail.starts_with("no such table"))
    message += " (" + std::string(kMissingTablesHint) + ")";
  if (tables_ == SqliteTables::kApplication &&
      (detail.starts_with("no such table") || detail.starts_with("no such column")))
    message += " (" + std::string(kSchemaHint) + ")";
  throw DatabaseError(message);
}

SqliteStatement SqliteSession::Prepare(const std::string& sql, const SqlRow& params, std::string_view what) {
  Begin();
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  const int status = sqlite3_prepare_v2(db_.get(), sql.c_str(), static_cast<int>(sql.size() + 1), &raw, &tail);
  SqliteStatement statement(raw);
  if (status != SQLITE_OK) Fail(what);
  if (!statement) throw DatabaseError(std::string(what) + " is empty");
  if (tail != nullptr && !OnlySpaceAndSemicolons(tail))
    throw DatabaseError(std::string(what) + " must be a single statement");
  for (size_t i = 0; i < params.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    const int bound = params[i] ? sqlite3_bind_text(statement.get(), index, params[i]->data(),
                                                    static_cast<int>(params[i]->size()), SQLITE_TRANSIENT)
                                : sqlite3_bind_null(statement.get(), index);
    if (bound != SQLITE_OK) Fail(what);
  }
  return statement;
}

bool SqliteSession::Step(sqlite3_stmt* statement, std::string_view what) {
  const int status = sqlite3_step(statement);
  if (status == SQLITE_ROW) return true;
  if (status == SQLITE_DONE) return false;
  Fail(what);
}

std::optional<std::string> SqliteColumnText(sqlite3_stmt* statement, int column) {
  if (sqlite3_column_type(statement, column) == SQLITE_NULL) return std::nullopt;
  const unsigned char* text = sqlite3_column_text(statement, column);
  return std::string(text == nullptr ? "" : reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(statement, column)));
}

std::vector<SqlRow> SqliteSession::Query(const std::string& sql, const SqlRow& params, std::string_view what) {
  const SqliteStatement statement = Prepare(sql, params, what);
  const int columns = sqlite3_column_count(statement.get());
  std::vector<SqlRow> rows;
  while (Step(statement.get(), what)) {
    SqlRow& row = rows.emplace_back();
    for (int c = 0; c < columns; ++c) row.push_back(SqliteColumnText(statement.get(), c));
  }
  return rows;
}

int64_t SqliteSession::Command(const std::string& sql, const SqlRow& params, std::string_view what) {
  Query(sql, params, what);
  return sqlite3_changes64(db_.get());
}

void SqliteSession::Execute(const std::string& sql, std::string_view what) {
  Begin();
  if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) Fail(what);
}

bool SqliteSession::TableExists(std::string_view table) {
  const std::string what = "looking for table " + std::string(table);
  return SingleInteger(
             Query("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", {std::string(table)}, what),
             what) > 0;
}

int64_t SqliteSession::LastInsertId() const { return sqlite3_last_insert_rowid(db_.get()); }

SqliteTransaction::SqliteTransaction(SqliteSession& session, std::string_view what) : session_(session), what_(what) {
  session_.Execute("BEGIN IMMEDIATE", what_);
}

SqliteTransaction::~SqliteTransaction() {
  if (!open_) return;
  try {
    session_.Execute("ROLLBACK", what_);
  } catch (const DatabaseError&) {
    // SQLite already rolled back (a failed statement can end the transaction by itself).
  }
}

void SqliteTransaction::Commit() {
  open_ = false;
  session_.Execute("COMMIT", what_);
}

}  // namespace orch
