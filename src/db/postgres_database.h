// The application's database on PostgreSQL, through libpq.
//
// Either a read-only connection of its own, or the pass's shared session; either way the
// orchestrator never writes the application's tables, and a configured query that tries to is
// refused by the server (it runs in a READ ONLY transaction).
// Messages name the database by its redacted URL and never contain the password.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/database_url.h"
#include "db/database.h"
#include "db/pg_session.h"

namespace orch {

class PostgresDatabase final : public Database {
 public:
  // Connects to url.target (a libpq URI or key=value string). Throws DatabaseError when the server
  // cannot be reached or refuses the connection.
  explicit PostgresDatabase(const DatabaseUrl& url);
  // Counts on a session shared with the state store and the run lock.
  explicit PostgresDatabase(std::shared_ptr<PgSession> session);

  std::vector<int64_t> CountMisclassified(std::span<const LabelColumns> labels) override;
  std::vector<int64_t> CountCorrectPool(std::span<const LabelColumns> labels) override;
  int64_t CountWithQuery(const std::string& sql) override;
  bool HasComplaintIdIndex() override;
  std::string ServerVersion() override;

 private:
  // Runs one statement that must return rows; `what` names it in errors.
  PgResult Query(const std::string& sql, std::string_view what);
  // Runs `sql`, which returns one row of `columns` counts.
  std::vector<int64_t> CountRow(const std::string& sql, size_t columns, std::string_view what);

  std::shared_ptr<PgSession> session_;
};

}  // namespace orch
