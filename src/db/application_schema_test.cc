#include "db/application_schema.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "db/open_database.h"
#include "support/app_database.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"

namespace orch {
namespace {

using testing::AppDatabase;
using testing::SqlLiteral;
using testing::TempDir;

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string InsertComplaint(std::string_view department, std::string_view urgency) {
  return "INSERT INTO complaints (department, urgency, message) VALUES (" + SqlLiteral(std::string(department)) + ", " +
         SqlLiteral(std::string(urgency)) + ", 'a complaint')";
}

TEST(ApplicationSchema, EachDialectSpellsTheEngineSpecificTypes) {
  const std::string postgres = ApplicationSchemaSql(SqlDialect::kPostgres);
  const std::string sqlite = ApplicationSchemaSql(SqlDialect::kSqlite);
  EXPECT_TRUE(Contains(postgres, "id              SERIAL PRIMARY KEY")) << postgres;
  EXPECT_TRUE(Contains(postgres, "TIMESTAMPTZ DEFAULT now()")) << postgres;
  EXPECT_TRUE(Contains(sqlite, "id              INTEGER PRIMARY KEY")) << sqlite;
  EXPECT_FALSE(Contains(sqlite, "SERIAL")) << sqlite;
  EXPECT_FALSE(Contains(sqlite, "TIMESTAMPTZ")) << sqlite;
  for (const std::string& sql : {postgres, sqlite}) {
    for (std::string_view department : kSchemaDepartments)
      EXPECT_TRUE(Contains(sql, "'" + std::string(department) + "'"));
    EXPECT_TRUE(Contains(sql, "CREATE TABLE IF NOT EXISTS misclassified_complaints"));
    EXPECT_TRUE(Contains(sql, "CREATE INDEX IF NOT EXISTS ix_misclassified_complaints_complaint_id"));
  }
  EXPECT_FALSE(Contains(ApplicationTablesSql(SqlDialect::kSqlite, false), "IF NOT EXISTS"));
}

TEST(ApplicationSchema, SqliteKeepsTheChecksAndStoresBooleansAndTimesAsTheApplicationDoes) {
  TempDir dir;
  std::unique_ptr<AppDatabase> app = AppDatabase::Sqlite(dir.File("app.db"));
  app->Exec(ApplicationSchemaSql(SqlDialect::kSqlite));
  app->Exec(ApplicationSchemaSql(SqlDialect::kSqlite));  // when present, nothing changes

  app->Exec(InsertComplaint(kSchemaDepartments[2], kSchemaUrgencies[1]));
  EXPECT_THROW(app->Exec(InsertComplaint("Roads", "NORMAL")), std::runtime_error);
  EXPECT_THROW(app->Exec(InsertComplaint(kSchemaDepartments[0], "normal")), std::runtime_error);
  EXPECT_THROW(app->Exec("UPDATE complaints SET current_status = 'DONE'"), std::runtime_error);
  EXPECT_EQ(app->QueryInt("SELECT count(*) FROM complaints WHERE current_status = 'PENDING'"), 1);

  app->Exec("INSERT INTO misclassified_complaints (complaint_id) VALUES (1)");
  EXPECT_EQ(app->QueryInt("SELECT count(*) FROM misclassified_complaints WHERE typeof(reviewed) = 'integer' "
                          "AND reviewed = 0"),
            1);
  // ISO 8601 UTC with milliseconds, as the orchestrator's own tables write times.
  EXPECT_EQ(
      app->QueryInt("SELECT count(*) FROM complaints WHERE created_at GLOB "
                    "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'"),
      1);
  EXPECT_EQ(app->QueryInt("SELECT count(*) FROM complaints WHERE id = 1"), 1);  // the rowid

  std::unique_ptr<Database> db = OpenDatabase(app->database_url());
  EXPECT_TRUE(db->HasComplaintIdIndex());
}

TEST(ApplicationSchema, WithoutIfAbsentASecondCreateFails) {
  TempDir dir;
  std::unique_ptr<AppDatabase> app = AppDatabase::Sqlite(dir.File("app.db"));
  app->Exec(ApplicationTablesSql(SqlDialect::kSqlite, false));
  EXPECT_THROW(app->Exec(ApplicationTablesSql(SqlDialect::kSqlite, false)), std::runtime_error);
  app->Exec(ComplaintIdIndexSql(false));
  EXPECT_THROW(app->Exec(ComplaintIdIndexSql(false)), std::runtime_error);
}

class ApplicationSchemaPostgres : public testing::PostgresTest {};

TEST_F(ApplicationSchemaPostgres, CreatesTheSchemaOnceAndKeepsTheChecks) {
  std::unique_ptr<AppDatabase> app = AppDatabase::Postgres();
  app->Exec("SET client_min_messages = warning");
  app->Exec(ApplicationSchemaSql(SqlDialect::kPostgres));
  app->Exec(ApplicationSchemaSql(SqlDialect::kPostgres));
  app->Exec(InsertComplaint(kSchemaDepartments[3], kSchemaUrgencies[2]));
  EXPECT_THROW(app->Exec(InsertComplaint("Police", "URGENT")), std::runtime_error);
  app->Exec("INSERT INTO misclassified_complaints (complaint_id) VALUES (1)");
  EXPECT_EQ(app->QueryInt("SELECT count(*) FROM misclassified_complaints WHERE reviewed = FALSE"), 1);
  EXPECT_THROW(app->Exec("INSERT INTO misclassified_complaints (complaint_id) VALUES (99)"), std::runtime_error)
      << "the foreign key to complaints holds";
  std::unique_ptr<Database> db = OpenDatabase(app->database_url());
  EXPECT_TRUE(db->HasComplaintIdIndex());
}

}  // namespace
}  // namespace orch
