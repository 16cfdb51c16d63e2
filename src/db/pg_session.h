// One libpq connection, as every PostgreSQL adapter uses it: the counts, the state store and the
// run lock of a pass share one, so a pass costs the server one backend, not three.
//
// Failures become DatabaseErrors naming what was being done and the redacted URL; libpq's messages
// are reflowed to one line and never carry the password, in any form libpq may echo it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/database_url.h"
#include "db/sql_dialect.h"
#include "util/cancellation.h"

struct pg_conn;
struct pg_result;

namespace orch {

struct PgConnCloser {
  void operator()(pg_conn* conn) const;
};
struct PgResultClearer {
  void operator()(pg_result* result) const;
};
using PgConnection = std::unique_ptr<pg_conn, PgConnCloser>;
using PgResult = std::unique_ptr<pg_result, PgResultClearer>;

// What a statement outside an explicit transaction may do.
enum class PgAccess {
  kReadOnly,   // the session refuses writes: a connection that only counts
  kReadWrite,  // the orchestrator's own tables are written (state, runs, migrations)
};

class PgSession {
 public:
  // Connects with a 10 s connect timeout per host and TCP keepalives that notice a vanished server
  // within about a minute (the URL may set others). `application_name` names the session in
  // pg_stat_activity and overrides one the URL sets; an empty one leaves the URL's, or
  // "orchestrator". Throws DatabaseError when the server cannot be reached or refuses.
  //
  // With a `cancellation`, the connection attempt and every statement in flight when it is set,
  // and going on for a second or more, are given up (a statement is cancelled on the server) with
  // a DatabaseError saying so: a stopped pass does not wait for a server that does not answer, a
  // long count or a lock, while the short statements that record how it ended still run.
  PgSession(const DatabaseUrl& url, const std::string& application_name, PgAccess access,
            const Cancellation* cancellation = nullptr);

  // Runs one statement with `params` bound as text ($1, $2, …; nullopt is NULL) and returns its
  // result, whatever its status; the caller checks it. Throws DatabaseError when it cannot be sent,
  // the connection breaks, or it was cancelled.
  PgResult Exec(const std::string& sql, const SqlRow& params, std::string_view what);
  // Runs one statement with `params` bound as text ($1, $2, …; nullopt is NULL) and returns its
  // rows with every value as text. `what` names the statement in errors.
  std::vector<SqlRow> Query(const std::string& sql, const SqlRow& params, std::string_view what);
  // Runs one statement with `params` bound; returns the number of rows it inserted, changed or deleted.
  int64_t Command(const std::string& sql, const SqlRow& params, std::string_view what);
  // Runs one or more statements without parameters (DDL, BEGIN, COMMIT).
  void Execute(const std::string& sql, std::string_view what);
  // Whether `table` exists where the search_path finds it.
  bool TableExists(std::string_view table);
  // "PostgreSQL 15.18".
  std::string ServerVersion() const;

  // For adapters that read results their own way. The connection stays owned by this object.
  pg_conn* raw() const { return conn_.get(); }
  const std::string& redacted_url() const { return redacted_url_; }

  // Whose tables a query reads, for the hint a missing table (or an application's column) gets.
  enum class Tables { kOrchestrator, kApplication };
  // Throws DatabaseError naming `what`, the redacted URL and the server's reason.
  [[noreturn]] void Fail(std::string_view what, const pg_result* result, Tables tables = Tables::kOrchestrator) const;

 private:
  PgResult Run(const std::string& sql, const SqlRow& params, std::string_view what);
  // libpq's text on one line, without any form of the password.
  std::string Clean(std::string libpq_text) const;

  // Connects without blocking, within the bound of connect_timeout and the cancellation.
  void Connect(const char* const* keywords, const char* const* values);
  // Waits for the answer to the statement just sent, cancelling it as the cancellation says.
  void AwaitAnswer(std::string_view what);

  std::string redacted_url_;
  std::vector<std::string> secrets_;  // the password in every form libpq may echo it
  PgConnection conn_;
  const Cancellation* cancellation_ = nullptr;
};

// A transaction on a PgSession: BEGIN on construction, ROLLBACK on destruction unless committed.
// Its access is explicit, whatever the session's default.
class PgTransaction {
 public:
  PgTransaction(PgSession& session, std::string_view what, PgAccess access = PgAccess::kReadWrite);
  ~PgTransaction();
  PgTransaction(const PgTransaction&) = delete;
  PgTransaction& operator=(const PgTransaction&) = delete;
  void Commit();

 private:
  PgSession& session_;
  std::string what_;
  bool open_ = true;
};

// The password of a libpq URI or key=value string, in every form it may appear in libpq's
// messages (percent-encoded as written, and decoded). Empty when there is none.
std::vector<std::string> PasswordForms(const std::string& target);

}  // namespace orch
