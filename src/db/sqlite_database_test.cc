#include "db/sqlite_database.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <csignal>
#include <filesystem>
#include <vector>

#include "db/open_database.h"
#include "db/sqlite_session.h"
#include "support/app_database.h"
#include "support/temp_dir.h"
#include "util/cancellation.h"
#include "util/error.h"

namespace orch {
namespace {

using testing::AppDatabase;
using testing::DatabaseErrorOf;
using testing::TempDir;

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

DatabaseUrl SqliteUrl(const std::string& path) {
  DatabaseUrl url;
  url.kind = DatabaseUrl::Kind::kSqlite;
  url.target = path;
  url.redacted = "sqlite:///" + path;
  return url;
}

TEST(SqliteOpen, AMissingFileNamesThePathAndWhatToDo) {
  TempDir dir;
  const std::string path = dir.File("nowhere.db");
  const std::string message = DatabaseErrorOf([&] { OpenDatabase(SqliteUrl(path)); });
  EXPECT_TRUE(Contains(message, path)) << message;
  EXPECT_TRUE(Contains(message, "create the database")) << message;
  EXPECT_TRUE(Contains(message, "DATABASE_URL")) << message;
  EXPECT_FALSE(std::filesystem::exists(path)) << "opening must not create the file";
}

TEST(SqliteOpen, AFileThatIsNotADatabaseFailsAtOpen) {
  TempDir dir;
  const std::string path = dir.File("notes.db");
  testing::WriteFile(path, std::string(4096, 'x'));
  const std::string message = DatabaseErrorOf([&] { OpenDatabase(SqliteUrl(path)); });
  EXPECT_TRUE(Contains(message, "not a database")) << message;
  EXPECT_TRUE(Contains(message, path)) << message;
}

TEST(SqliteOpen, LeavesTheFileUnchanged) {
  TempDir dir;
  std::unique_ptr<AppDatabase> app = AppDatabase::Sqlite(dir.File("app.db"));
  app->CreateSchema();
  app->AddMisclassified(5, "urgency");
  const std::string before = testing::ReadFile(dir.File("app.db"));
  {
    std::unique_ptr<Database> db = OpenDatabase(app->database_url());
    EXPECT_EQ(db->CountMisclassified(std::vector{LabelColumns::Defaults("urgency")}), std::vector<int64_t>{5});
    EXPECT_THROW(db->CountWithQuery("UPDATE misclassified_complaints SET reviewed = 0 RETURNING 1"), DatabaseError);
  }
  EXPECT_EQ(testing::ReadFile(dir.File("app.db")), before);
}

// Booleans are 0/1 as SQLAlchemy stores them; text 'true'/'t' in any case is accepted too.
TEST(SqliteReviewed, AcceptsOneAndTextTrue) {
  TempDir dir;
  std::unique_ptr<AppDatabase> app = AppDatabase::Sqlite(dir.File("app.db"));
  app->CreateSchema();
  app->AddMisclassified(9, "department");
  app->Exec(
      "UPDATE misclassified_complaints SET reviewed = CASE id "
      "WHEN 1 THEN 1 WHEN 2 THEN 'true' WHEN 3 THEN 't' WHEN 4 THEN 'TRUE' WHEN 5 THEN '1' "
      "WHEN 6 THEN 0 WHEN 7 THEN 'false' WHEN 8 THEN 'f' ELSE NULL END");
  std::unique_ptr<Database> db = OpenDatabase(app->database_url());
  EXPECT_EQ(db->CountMisclassified(std::vector{LabelColumns::Defaults("department")}), std::vector<int64_t>{5});
}

TEST(SqliteVersion, IsTheLibrarysVersion) {
  TempDir dir;
  std::unique_ptr<AppDatabase> app = AppDatabase::Sqlite(dir.File("app.db"));
  app->CreateSchema();
  EXPECT_EQ(OpenDatabase(app->database_url())->ServerVersion(), std::string("SQLite ") + sqlite3_libversion());
}

TEST(SqliteCancellation, AStopGivesUpAWaitForTheLockAfterItsSecond) {
  TempDir dir;
  std::unique_ptr<AppDatabase> app = AppDatabase::Sqlite(dir.File("app.db"));
  app->Exec("CREATE TABLE complaints (id INTEGER PRIMARY KEY)");
  Cancellation stop;
  stop.Cancel(SIGTERM);
  PassDatabases databases = OpenPassDatabases(app->database_url(), /*with_lock=*/false, "orchestrator", "host:1",
                                              std::chrono::seconds(60), &stop);
  SqliteSession writer(app->database_url().target, SqliteAccess::kReadWrite, SqliteTables::kApplication);
  writer.Execute("BEGIN EXCLUSIVE", "taking the file");  // readers wait for it in the default journal mode
  const std::string message =
      DatabaseErrorOf([&] { databases.counts->CountWithQuery("SELECT count(*) FROM complaints"); });
  EXPECT_TRUE(Contains(message, "was cancelled: the pass was asked to stop")) << message;
  writer.Execute("ROLLBACK", "giving the file back");
  EXPECT_EQ(databases.counts->CountWithQuery("SELECT 7"), 7) << "the session stays usable for the last records";
}

TEST(SqliteCancellation, AStopInterruptsALongStatementAfterItsSecond) {
  TempDir dir;
  std::unique_ptr<AppDatabase> app = AppDatabase::Sqlite(dir.File("app.db"));
  Cancellation stop;
  stop.Cancel(SIGTERM);
  PassDatabases databases = OpenPassDatabases(app->database_url(), /*with_lock=*/false, "orchestrator", "host:1",
                                              std::chrono::seconds(60), &stop);
  const std::string endless = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n";
  const std::string message = DatabaseErrorOf([&] { databases.counts->CountWithQuery(endless); });
  EXPECT_TRUE(Contains(message, "was cancelled: the pass was asked to stop")) << message;
}

TEST(SqliteCancellation, WithoutAStopALockedFileIsReportedAsSuch) {
  TempDir dir;
  std::unique_ptr<AppDatabase> app = AppDatabase::Sqlite(dir.File("app.db"));
  app->Exec("CREATE TABLE complaints (id INTEGER PRIMARY KEY)");
  Cancellation never;
  PassDatabases databases = OpenPassDatabases(app->database_url(), /*with_lock=*/false, "orchestrator", "host:1",
                                              std::chrono::seconds(60), &never);
  SqliteSession writer(app->database_url().target, SqliteAccess::kReadWrite, SqliteTables::kApplication);
  writer.Execute("BEGIN EXCLUSIVE", "taking the file");
  const std::string message =
      DatabaseErrorOf([&] { databases.counts->CountWithQuery("SELECT count(*) FROM complaints"); });
  EXPECT_TRUE(Contains(message, "database is locked")) << message;
  EXPECT_FALSE(Contains(message, "cancelled")) << message;
}

}  // namespace
}  // namespace orch
