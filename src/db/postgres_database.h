// The application's database on PostgreSQL, through libpq.
//
// One connection for the object's lifetime, with the session set read-only: the orchestrator never
// writes the application's tables, and a configured query that tries to is refused by the server.
// Messages name the database by its redacted URL and never contain the password.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/database_url.h"
#include "db/database.h"

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

class PostgresDatabase final : public Database {
 public:
  // Connects to url.target (a libpq URI or key=value string). Throws DatabaseError when the server
  // cannot be reached or refuses the connection.
  explicit PostgresDatabase(const DatabaseUrl& url);

  std::vector<int64_t> CountMisclassified(std::span<const LabelColumns> labels) override;
  std::vector<int64_t> CountCorrectPool(std::span<const LabelColumns> labels) override;
  int64_t CountWithQuery(const std::string& sql) override;
  bool HasComplaintIdIndex() override;
  std::string ServerVersion() override;

 private:
  void Connect(const std::string& target);
  void Execute(const std::string& sql, std::string_view what);
  // Runs one statement that must return rows; `what` names it in errors.
  PgResult Query(const std::string& sql, std::string_view what);
  // Runs `sql`, which returns one row of `columns` counts.
  std::vector<int64_t> CountRow(const std::string& sql, size_t columns, std::string_view what);
  [[noreturn]] void FailQuery(std::string_view what, const pg_result* result) const;
  std::string Clean(std::string libpq_text) const;

  std::string redacted_url_;
  std::vector<std::string> secrets_;  // the password as written and decoded: kept out of messages
  PgConnection conn_;
};

// The password of a libpq URI or key=value string, in every form it may appear in libpq's
// messages (percent-encoded as written, and decoded). Empty when there is none.
std::vector<std::string> PasswordForms(const std::string& target);

}  // namespace orch
