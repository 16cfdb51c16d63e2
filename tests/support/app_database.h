// The application's database for the tests, on SQLite or on the shared PostgreSQL server.
//
// It creates the tables of the grievance system from the application's own DDL
// (db/application_schema.h: the application's DDL for each engine) and fills them through the
// engines' own libraries: test code may write what the orchestrator only reads. The bulk helpers
// insert with one statement, so a test can add 100k rows in well under a second.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/database_url.h"
#include "db/postgres_database.h"
#include "db/sqlite_database.h"
#include "support/error_of.h"
#include "util/error.h"

namespace orch::testing {

// Values the schema's CHECK constraints allow.
inline constexpr const char* kDepartments[] = {
    "Municipal Governance & Community Services", "Education, Health & Social Welfare",
    "Infrastructure, Utilities & Natural Resources", "Security & Law Enforcement"};
inline constexpr const char* kUrgencies[] = {"NORMAL", "URGENT", "HIGHLY URGENT"};

// One row of misclassified_complaints; nullopt is NULL.
struct MisclassifiedRow {
  std::optional<std::string> predicted_department;
  std::optional<std::string> correct_department;
  std::optional<std::string> predicted_urgency;
  std::optional<std::string> correct_urgency;
  std::optional<bool> reviewed = true;
};

class AppDatabase {
 public:
  // The SQLite file at `file_path` (created when missing).
  static std::unique_ptr<AppDatabase> Sqlite(const std::string& file_path);
  // A fresh, uniquely named database on SharedPostgres(), dropped with this object.
  static std::unique_ptr<AppDatabase> Postgres();
  // Postgres() for the engine "postgres", otherwise Sqlite(`sqlite_path`): for tests run on both.
  static std::unique_ptr<AppDatabase> ForEngine(const std::string& engine, const std::string& sqlite_path);
  ~AppDatabase();
  AppDatabase(const AppDatabase&) = delete;
  AppDatabase& operator=(const AppDatabase&) = delete;

  bool is_postgres() const { return static_cast<bool>(pg_); }
  // A DATABASE_URL for the program: sqlite:////abs/path.db or postgresql://postgres@127.0.0.1:PORT/name.
  std::string url() const { return url_text_; }
  // The same, as the configuration hands it to OpenDatabase.
  const DatabaseUrl& database_url() const { return url_; }

  // Runs one or more statements; throws std::runtime_error with the engine's message.
  void Exec(const std::string& sql);
  // Runs a query returning one integer.
  int64_t QueryInt(const std::string& sql);

  void CreateSchema(bool with_complaint_id_index = true);
  // `count` complaints with department and urgency set and no misclassified row.
  void AddCorrectComplaints(int count);
  // `count` complaints, each with a reviewed misclassified row whose prediction differs from the
  // correction for `label` only (the other labels' columns stay NULL).
  void AddMisclassified(int count, const std::string& label);
  // One complaint; returns its id.
  int64_t AddComplaint(std::optional<std::string> department, std::optional<std::string> urgency,
                       const std::string& message = "a complaint");
  // One misclassified row for `complaint_id`, or for a new complaint (both labels set) when nullopt.
  void AddMisclassifiedRow(const MisclassifiedRow& row, std::optional<int64_t> complaint_id = std::nullopt);

  // Rows the caller makes up, in bulk: `next_row` fills one row's values for `columns` (as text,
  // nullopt for NULL; the engine converts them as the columns' types say) and returns false when
  // there is none left. SQLite takes them in one transaction through one prepared statement,
  // PostgreSQL through COPY FROM STDIN: millions of rows in seconds.
  using BulkRow = std::vector<std::optional<std::string>>;
  void BulkInsert(const std::string& table, const std::vector<std::string>& columns,
                  const std::function<bool(BulkRow& row)>& next_row);

 private:
  AppDatabase() = default;
  // Inserts `count` complaints with the given SQL expressions of the 1-based sequence number g.
  void InsertComplaints(int count, const std::string& department_sql, const std::string& urgency_sql);

  std::string url_text_;
  DatabaseUrl url_;
  SqliteHandle sqlite_;
  PgConnection pg_;
  std::string pg_database_;
};

// A SQL string literal ('it''s'), or NULL.
std::string SqlLiteral(const std::optional<std::string>& value);

}  // namespace orch::testing
