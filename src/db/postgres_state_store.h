// The orchestrator's state in a PostgreSQL database, through libpq.
//
// Unlike PostgresDatabase (read-only, the application's tables), this is a read-write connection of
// its own, named application_name "orchestrator", that only touches the orchestrator_* tables.
// Every value is bound with PQexecParams, never spliced into the SQL. Messages name the database by
// its redacted URL and never contain the password.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/database_url.h"
#include "db/migrations.h"
#include "db/postgres_database.h"
#include "db/state_store.h"

namespace orch {

// A read-write libpq connection to the orchestrator's tables, shared by the state store and the
// run lock. Failures become DatabaseErrors naming what was being done and the redacted URL.
class PgSession {
 public:
  // Connects as `application_name` (it overrides one the URL sets) with the session read-write.
  // Throws DatabaseError when the server cannot be reached or refuses the connection.
  PgSession(const DatabaseUrl& url, const std::string& application_name);

  // Runs one statement with `params` bound as text ($1, $2, …; nothing is NULL) and returns its
  // rows with every value as text. `what` names the statement in errors.
  std::vector<SqlRow> Query(const std::string& sql, const SqlRow& params, std::string_view what);
  // Runs one statement with `params` bound; returns the number of rows it inserted, changed or deleted.
  int64_t Command(const std::string& sql, const SqlRow& params, std::string_view what);
  // Runs one or more statements without parameters (DDL, BEGIN, COMMIT).
  void Execute(const std::string& sql, std::string_view what);
  // Whether `table` exists where the search_path finds it.
  bool TableExists(std::string_view table);
  // Whether the connection is still usable (false once the server went away).
  bool connected() const;

 private:
  PgResult Run(const std::string& sql, const SqlRow& params, std::string_view what);
  [[noreturn]] void Fail(std::string_view what, const pg_result* result) const;
  std::string Clean(std::string libpq_text) const;

  std::string redacted_url_;
  std::vector<std::string> secrets_;  // the password in every form libpq may echo it
  PgConnection conn_;
};

// A transaction on a PgSession: BEGIN on construction, ROLLBACK on destruction unless committed.
class PgTransaction {
 public:
  PgTransaction(PgSession& session, std::string_view what);
  ~PgTransaction();
  PgTransaction(const PgTransaction&) = delete;
  PgTransaction& operator=(const PgTransaction&) = delete;
  void Commit();

 private:
  PgSession& session_;
  std::string what_;
  bool open_ = true;
};

class PostgresStateStore final : public StateStore {
 public:
  // Connects to url.target. Throws DatabaseError when it cannot.
  explicit PostgresStateStore(const DatabaseUrl& url);

  std::vector<int> Migrate() override;
  int SchemaVersion() override;
  std::vector<LabelState> LoadLabels(std::span<const std::string> labels) override;
  void SaveLabel(const LabelState& state) override;
  int64_t BeginRun(const RunRecord& run) override;
  void FinishRun(int64_t id, WallTime finished_at, const std::string& status,
                 const std::string& summary_json) override;
  std::vector<RunRecord> History(int limit) override;

 private:
  // Applies `migration` unless another process applied it first; true when this call did.
  bool ApplyMigration(const Migration& migration);
  // The highest version in orchestrator_schema_migrations, which must exist.
  int AppliedVersion();

  PgSession session_;
};

}  // namespace orch
