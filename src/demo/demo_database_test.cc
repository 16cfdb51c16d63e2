#include "demo/demo_database.h"

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "db/open_database.h"
#include "support/app_database.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"
#include "util/error.h"

namespace orch {
namespace {

using testing::AppDatabase;
using testing::DatabaseErrorOf;
using testing::SqlLiteral;
using testing::TempDir;

const std::array<LabelColumns, 2> kLabels = {LabelColumns::Defaults("department"), LabelColumns::Defaults("urgency")};

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

DatabaseUrl SqliteUrl(const std::string& path) {
  DatabaseUrl url;
  url.kind = DatabaseUrl::Kind::kSqlite;
  url.target = path;
  url.redacted = "sqlite:///" + path;
  return url;
}

DemoCounts Sum(const DemoCounts& a, const DemoCounts& b) {
  return {a.complaints + b.complaints, a.misclassified_rows + b.misclassified_rows, a.department + b.department,
          a.urgency + b.urgency};
}

void ExpectSameCounts(const DemoCounts& actual, const DemoCounts& expected) {
  EXPECT_EQ(actual.complaints, expected.complaints);
  EXPECT_EQ(actual.misclassified_rows, expected.misclassified_rows);
  EXPECT_EQ(actual.department, expected.department);
  EXPECT_EQ(actual.urgency, expected.urgency);
}

// What the orchestrator itself reads from the database matches what the application wrote.
void ExpectTheOrchestratorSees(const DatabaseUrl& url, const DemoCounts& inserted) {
  std::unique_ptr<Database> db = OpenDatabase(url);
  EXPECT_EQ(db->CountMisclassified(kLabels), (std::vector<int64_t>{inserted.department, inserted.urgency}));
  EXPECT_TRUE(db->HasComplaintIdIndex());
}

// Checks that hold on either engine, through the test's own connection.
void ExpectConsistentRows(AppDatabase& app, int64_t complaints) {
  EXPECT_EQ(app.QueryInt("SELECT count(*) FROM complaints"), complaints);
  EXPECT_EQ(app.QueryInt("SELECT max(id) FROM complaints"), complaints) << "ids continue without gaps";
  // A reviewed correction is applied to the complaint; an unreviewed one is not yet.
  EXPECT_EQ(app.QueryInt("SELECT count(*) FROM complaints c JOIN misclassified_complaints m ON m.complaint_id = c.id "
                         "WHERE m.reviewed AND m.correct_department IS NOT NULL AND "
                         "(c.department <> m.correct_department OR c.urgency <> m.correct_urgency)"),
            0);
  EXPECT_EQ(app.QueryInt("SELECT count(*) FROM complaints c JOIN misclassified_complaints m ON m.complaint_id = c.id "
                         "WHERE NOT m.reviewed AND c.department <> m.model_predicted_department"),
            0);
  EXPECT_EQ(app.QueryInt("SELECT count(*) FROM misclassified_complaints WHERE reviewed AND reviewed_at IS NULL"), 0);
  EXPECT_EQ(
      app.QueryInt("SELECT count(*) FROM misclassified_complaints WHERE NOT reviewed AND reviewed_at IS NOT NULL"), 0);
  // Some rows must not count: unreviewed, uncorrected, or confirming the prediction.
  EXPECT_GT(app.QueryInt("SELECT count(*) FROM misclassified_complaints WHERE NOT reviewed"), 0);
  EXPECT_GT(app.QueryInt("SELECT count(*) FROM misclassified_complaints WHERE reviewed AND correct_department IS NULL"),
            0);
}

TEST(DemoDatabase, CreatesASqliteFileWhoseCountsTheOrchestratorReadsBack) {
  TempDir dir;
  const std::string path = dir.File("demo.db");
  ASSERT_FALSE(std::filesystem::exists(path));
  DemoDatabase demo(SqliteUrl(path), DemoDataOptions::WithSeed(21));
  ASSERT_TRUE(std::filesystem::exists(path));
  ExpectSameCounts(demo.Counts(), {});

  const DemoCounts inserted = demo.AddBatch(3000);
  EXPECT_EQ(inserted.complaints, 3000);
  // About 58% of complaints have a wrong label, and 60% of those are reviewed and corrected.
  EXPECT_GT(inserted.department, 500);
  EXPECT_GT(inserted.urgency, 500);
  EXPECT_GT(inserted.misclassified_rows, inserted.department);
  ExpectSameCounts(demo.Counts(), inserted);
  ExpectTheOrchestratorSees(SqliteUrl(path), inserted);
  std::unique_ptr<AppDatabase> app = AppDatabase::Sqlite(path);
  ExpectConsistentRows(*app, 3000);
}

TEST(DemoDatabase, ASecondBatchAddsToTheFirstWithIdsContinuing) {
  TempDir dir;
  const std::string path = dir.File("demo.db");
  DemoCounts total;
  {
    DemoDatabase demo(SqliteUrl(path), DemoDataOptions::WithSeed(22));
    total = demo.AddBatch(1000);
  }
  DemoDatabase reopened(SqliteUrl(path), DemoDataOptions::WithSeed(22));  // the schema is there already
  DemoDataOptions more_reviews = DemoDataOptions::WithSeed(22);
  more_reviews.reviews.reviewed_share = 0.9;
  more_reviews.reviews.unreviewed_share = 0.05;
  more_reviews.reviews.uncorrected_share = 0.05;
  const DemoCounts second = reopened.AddBatch(1000, more_reviews);
  EXPECT_GT(second.department, total.department) << "a batch with more reviews counts more";
  total = Sum(total, second);
  ExpectSameCounts(reopened.Counts(), total);
  ExpectTheOrchestratorSees(SqliteUrl(path), total);
  std::unique_ptr<AppDatabase> app = AppDatabase::Sqlite(path);
  ExpectConsistentRows(*app, 2000);
}

TEST(DemoDatabase, TheSameSeedWritesTheSameComplaints) {
  TempDir dir;
  DemoDatabase one(SqliteUrl(dir.File("one.db")), DemoDataOptions::WithSeed(23));
  DemoDatabase two(SqliteUrl(dir.File("two.db")), DemoDataOptions::WithSeed(23));
  ExpectSameCounts(one.AddBatch(500), two.AddBatch(500));
  GrievanceOptions options;
  options.seed = 23;
  const GrievanceGenerator generator(options);
  std::unique_ptr<AppDatabase> app = AppDatabase::Sqlite(dir.File("two.db"));
  for (int64_t id : {1, 17, 500})
    EXPECT_EQ(app->QueryInt("SELECT count(*) FROM complaints WHERE id = " + std::to_string(id) +
                            " AND message = " + SqlLiteral(generator.At(static_cast<uint64_t>(id)).message)),
              1)
        << id;
}

TEST(DemoDatabase, SqliteStoresBooleansAsNumbersAndTimesAsIsoText) {
  TempDir dir;
  const std::string path = dir.File("demo.db");
  DemoDatabase(SqliteUrl(path)).AddBatch(400);
  std::unique_ptr<AppDatabase> app = AppDatabase::Sqlite(path);
  EXPECT_EQ(app->QueryInt("SELECT count(*) FROM misclassified_complaints WHERE typeof(reviewed) <> 'integer' "
                          "OR reviewed NOT IN (0, 1)"),
            0);
  EXPECT_GT(
      app->QueryInt("SELECT count(*) FROM misclassified_complaints WHERE reviewed_at GLOB "
                    "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'"),
      0);
  EXPECT_EQ(app->QueryInt("SELECT count(*) FROM misclassified_complaints WHERE reviewed_at IS NOT NULL AND "
                          "reviewed_at NOT LIKE '____-__-__T__:__:__.___Z'"),
            0);
}

TEST(DemoDatabase, ContinuesAfterComplaintsTheApplicationAlreadyHas) {
  TempDir dir;
  std::unique_ptr<AppDatabase> app = AppDatabase::Sqlite(dir.File("app.db"));
  app->CreateSchema();
  app->AddCorrectComplaints(10);
  DemoDatabase demo(app->database_url());
  const DemoCounts inserted = demo.AddBatch(90);
  EXPECT_EQ(demo.Counts().complaints, 100);
  EXPECT_EQ(app->QueryInt("SELECT min(complaint_id) > 10 FROM misclassified_complaints"), 1);
  ExpectTheOrchestratorSees(app->database_url(), inserted);
}

TEST(DemoDatabase, ASqliteFileInAMissingDirectoryIsADatabaseError) {
  TempDir dir;
  const std::string path = dir.File("no/such/dir/demo.db");
  const std::string message = DatabaseErrorOf([&] { DemoDatabase demo(SqliteUrl(path)); });
  EXPECT_TRUE(Contains(message, path)) << message;
}

TEST(DemoDatabase, AnEmptyBatchChangesNothing) {
  TempDir dir;
  DemoDatabase demo(SqliteUrl(dir.File("demo.db")));
  ExpectSameCounts(demo.AddBatch(0), {});
  EXPECT_THROW(demo.AddBatch(-1), ConfigError);
  ExpectSameCounts(demo.Counts(), {});
}

TEST(DemoDatabase, AFailedBatchLeavesNothingBehind) {
  TempDir dir;
  std::unique_ptr<AppDatabase> app = AppDatabase::Sqlite(dir.File("app.db"));
  app->CreateSchema();
  app->Exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON misclassified_complaints BEGIN SELECT RAISE(ABORT, 'refused'); END");
  DemoDatabase demo(app->database_url());
  const std::string message = DatabaseErrorOf([&] { demo.AddBatch(200); });
  EXPECT_TRUE(Contains(message, "refused")) << message;
  ExpectSameCounts(demo.Counts(), {});  // the complaints inserted before the failure are gone too
  app->Exec("DROP TRIGGER refuse");
  EXPECT_EQ(demo.AddBatch(10).complaints, 10) << "the connection is still usable";
}

class DemoDatabasePostgres : public testing::PostgresTest {};

TEST_F(DemoDatabasePostgres, AFailedBatchLeavesNothingBehind) {
  std::unique_ptr<AppDatabase> app = AppDatabase::Postgres();
  app->CreateSchema();
  app->Exec("ALTER TABLE misclassified_complaints ADD COLUMN required INTEGER NOT NULL");
  DemoDatabase demo(app->database_url());
  const std::string message = DatabaseErrorOf([&] { demo.AddBatch(200); });
  EXPECT_TRUE(Contains(message, "inserting misclassified_complaints rows failed on " + app->url())) << message;
  EXPECT_TRUE(Contains(message, "required")) << message;
  ExpectSameCounts(demo.Counts(), {});
  app->Exec("ALTER TABLE misclassified_complaints DROP COLUMN required");
  EXPECT_EQ(demo.AddBatch(10).complaints, 10) << "the connection is still usable";
}

TEST_F(DemoDatabasePostgres, CreatesTheSchemaAndTheOrchestratorCountsWhatWasInserted) {
  std::unique_ptr<AppDatabase> app = AppDatabase::Postgres();  // an empty database
  DemoDatabase demo(app->database_url(), DemoDataOptions::WithSeed(31));
  const DemoCounts first = demo.AddBatch(2500);  // more rows than one INSERT carries
  ExpectSameCounts(demo.Counts(), first);
  ExpectTheOrchestratorSees(app->database_url(), first);

  DemoDatabase again(app->database_url(), DemoDataOptions::WithSeed(31));  // the schema exists: kept
  const DemoCounts total = Sum(first, again.AddBatch(700));
  ExpectSameCounts(again.Counts(), total);
  ExpectTheOrchestratorSees(app->database_url(), total);
  ExpectConsistentRows(*app, 3200);
}

TEST_F(DemoDatabasePostgres, WritesTheSameDataAsOnSqlite) {
  std::unique_ptr<AppDatabase> app = AppDatabase::Postgres();
  TempDir dir;
  DemoDatabase postgres(app->database_url(), DemoDataOptions::WithSeed(32));
  DemoDatabase sqlite(SqliteUrl(dir.File("demo.db")), DemoDataOptions::WithSeed(32));
  ExpectSameCounts(postgres.AddBatch(800), sqlite.AddBatch(800));
  GrievanceOptions options;
  options.seed = 32;
  const GrievanceGenerator generator(options);
  // Line breaks, tabs, tags and Devanagari arrive unchanged.
  int checked = 0;
  for (uint64_t id = 1; id <= 800; ++id) {
    const std::string message = generator.At(id).message;
    const bool tricky = message.find_first_of("\n\r\t<") != std::string::npos || (id % 50 == 0);
    if (!tricky) continue;
    ++checked;
    EXPECT_EQ(app->QueryInt("SELECT count(*) FROM complaints WHERE id = " + std::to_string(id) +
                            " AND message = " + SqlLiteral(message)),
              1)
        << message;
  }
  EXPECT_GT(checked, 40);
}

TEST_F(DemoDatabasePostgres, AddsToTheTablesOfAnExistingApplication) {
  std::unique_ptr<AppDatabase> app = AppDatabase::Postgres();
  app->CreateSchema();
  app->AddMisclassified(5, "urgency");
  DemoDatabase demo(app->database_url());
  const DemoCounts inserted = demo.AddBatch(100);
  EXPECT_EQ(demo.Counts().complaints, 105);
  EXPECT_EQ(demo.Counts().urgency, inserted.urgency + 5);
  app->Exec("INSERT INTO complaints (message) VALUES ('filed by the application afterwards')");
  EXPECT_EQ(app->QueryInt("SELECT max(id) FROM complaints"), 106) << "the sequence knows the demo's ids";
}

}  // namespace
}  // namespace orch
