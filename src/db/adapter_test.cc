// The behaviour both adapters share, run against a real SQLite file and a real PostgreSQL server.
// Instantiated as Sqlite/AdapterTest.* and Postgres/AdapterTest.*.
#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "db/database.h"
#include "db/open_database.h"
#include "support/app_database.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"

namespace orch {
namespace {

using testing::AppDatabase;
using testing::DatabaseErrorOf;
using testing::kDepartments;
using testing::kUrgencies;
using testing::MisclassifiedRow;

enum class Engine { kSqlite, kPostgres };

void PrintTo(Engine engine, std::ostream* out) { *out << (engine == Engine::kPostgres ? "PostgreSQL" : "SQLite"); }

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const std::vector<LabelColumns> kLabels = {LabelColumns::Defaults("department"), LabelColumns::Defaults("urgency")};

class AdapterTest : public ::testing::TestWithParam<Engine> {
 protected:
  void SetUp() override {
    if (GetParam() == Engine::kPostgres) ORCH_REQUIRE_POSTGRES();
    app_ = GetParam() == Engine::kPostgres ? AppDatabase::Postgres() : AppDatabase::Sqlite(dir_.File("app.db"));
  }

  std::unique_ptr<Database> Open() { return OpenDatabase(app_->database_url()); }

  // Every case the misclassified count must tell apart, with one complaint per row.
  // department counts rows 1, 2, 8, 10; urgency counts rows 7, 8, 9.
  void AddCraftedMisclassifications() {
    const std::string a = kDepartments[0], b = kDepartments[1], c = kDepartments[2], d = kDepartments[3];
    const std::string normal = kUrgencies[0], urgent = kUrgencies[1];
    app_->AddMisclassifiedRow({a, b, {}, {}, true});            // 1 differs
    app_->AddMisclassifiedRow({{}, b, {}, {}, true});           // 2 NULL prediction, correction set
    app_->AddMisclassifiedRow({a, {}, {}, {}, true});           // 3 no correction
    app_->AddMisclassifiedRow({a, a, normal, normal, true});    // 4 correction equals prediction
    app_->AddMisclassifiedRow({a, b, normal, urgent, false});   // 5 not reviewed
    app_->AddMisclassifiedRow({a, b, normal, urgent, {}});      // 6 reviewed NULL
    app_->AddMisclassifiedRow({{}, {}, normal, urgent, true});  // 7 urgency only
    app_->AddMisclassifiedRow({a, b, normal, urgent, true});    // 8 both labels
    app_->AddMisclassifiedRow({{}, {}, {}, normal, true});      // 9 urgency, NULL prediction
    app_->AddMisclassifiedRow({c, d, {}, {}, true});            // 10 differs
  }

  testing::TempDir dir_;
  std::unique_ptr<AppDatabase> app_;
};

TEST_P(AdapterTest, CountsReviewedDifferingCorrectionsPerLabel) {
  app_->CreateSchema();
  AddCraftedMisclassifications();
  EXPECT_EQ(Open()->CountMisclassified(kLabels), (std::vector<int64_t>{4, 3}));
}

TEST_P(AdapterTest, ResultsFollowTheOrderOfTheLabels) {
  app_->CreateSchema();
  AddCraftedMisclassifications();
  const std::vector<LabelColumns> reversed = {kLabels[1], kLabels[0]};
  EXPECT_EQ(Open()->CountMisclassified(reversed), (std::vector<int64_t>{3, 4}));
}

TEST_P(AdapterTest, PoolHoldsComplaintsWithTheLabelSetAndNoMisclassifiedRowAtAll) {
  app_->CreateSchema();
  AddCraftedMisclassifications();  // 10 complaints, both labels set: none is in the pool, reviewed or not
  const int64_t spare = app_->AddComplaint(kDepartments[2], kUrgencies[2]);
  app_->AddMisclassifiedRow({{}, {}, {}, {}, false}, spare);  // an unreviewed row still takes it out
  app_->AddCorrectComplaints(5);                              // both labels: +5 +5
  app_->AddComplaint(std::nullopt, kUrgencies[1]);            // urgency only
  app_->AddComplaint(std::nullopt, kUrgencies[2]);            // urgency only
  app_->AddComplaint(kDepartments[3], std::nullopt);          // department only
  app_->AddComplaint(std::nullopt, std::nullopt);             // neither
  EXPECT_EQ(Open()->CountCorrectPool(kLabels), (std::vector<int64_t>{6, 7}));
}

TEST_P(AdapterTest, CountsBulkDataExactly) {
  app_->CreateSchema();
  app_->AddCorrectComplaints(100000);
  app_->AddMisclassified(3000, "department");
  app_->AddMisclassified(1200, "urgency");
  std::unique_ptr<Database> db = Open();
  EXPECT_EQ(db->CountMisclassified(kLabels), (std::vector<int64_t>{3000, 1200}));
  EXPECT_EQ(db->CountCorrectPool(kLabels), (std::vector<int64_t>{100000, 100000}));
}

TEST_P(AdapterTest, NoLabelsRunsNoQuery) {
  // No tables at all: any query would fail.
  std::unique_ptr<Database> db = Open();
  EXPECT_TRUE(db->CountMisclassified({}).empty());
  EXPECT_TRUE(db->CountCorrectPool({}).empty());
}

TEST_P(AdapterTest, FindsAnIndexStartingWithComplaintId) {
  app_->CreateSchema(/*with_complaint_id_index=*/true);
  EXPECT_TRUE(Open()->HasComplaintIdIndex());
}

TEST_P(AdapterTest, NoIndexOnComplaintIdIsReported) {
  app_->CreateSchema(/*with_complaint_id_index=*/false);
  EXPECT_FALSE(Open()->HasComplaintIdIndex());
}

TEST_P(AdapterTest, OnlyTheFirstColumnOfAnIndexCounts) {
  app_->CreateSchema(/*with_complaint_id_index=*/false);
  app_->Exec("CREATE INDEX reviewed_then_complaint ON misclassified_complaints (reviewed, complaint_id)");
  EXPECT_FALSE(Open()->HasComplaintIdIndex());
  app_->Exec("CREATE INDEX complaint_then_reviewed ON misclassified_complaints (complaint_id, reviewed)");
  EXPECT_TRUE(Open()->HasComplaintIdIndex());
}

TEST_P(AdapterTest, AMissingTableIsNamedWithTheHint) {
  std::unique_ptr<Database> db = Open();
  for (const std::string& message : {DatabaseErrorOf([&] { db->CountMisclassified(kLabels); }),
                                     DatabaseErrorOf([&] { db->HasComplaintIdIndex(); })}) {
    EXPECT_TRUE(Contains(message, "misclassified_complaints")) << message;
    EXPECT_TRUE(Contains(message, "does DATABASE_URL point at the application's database?")) << message;
    EXPECT_TRUE(Contains(message, "--config")) << message;
  }
  const std::string pool = DatabaseErrorOf([&] { db->CountCorrectPool(kLabels); });
  EXPECT_TRUE(Contains(pool, "complaints")) << pool;
  EXPECT_TRUE(Contains(pool, "does DATABASE_URL point at the application's database?")) << pool;
}

TEST_P(AdapterTest, AMissingColumnIsNamedWithTheHint) {
  app_->CreateSchema();
  std::unique_ptr<Database> db = Open();
  const std::vector<LabelColumns> renamed = {{"department", "predicted_dept", "correct_department", "department"}};
  const std::string message = DatabaseErrorOf([&] { db->CountMisclassified(renamed); });
  EXPECT_TRUE(Contains(message, "predicted_dept")) << message;
  EXPECT_TRUE(Contains(message, "columns can be renamed per label in the --config file")) << message;
  const std::vector<LabelColumns> topic = {LabelColumns::Defaults("topic")};
  const std::string pool = DatabaseErrorOf([&] { db->CountCorrectPool(topic); });
  EXPECT_TRUE(Contains(pool, "topic")) << pool;
  EXPECT_TRUE(Contains(pool, "columns can be renamed per label in the --config file")) << pool;
}

TEST_P(AdapterTest, RunsAConfiguredCountQuery) {
  app_->CreateSchema();
  app_->AddCorrectComplaints(7);
  EXPECT_EQ(Open()->CountWithQuery("SELECT count(*) FROM complaints WHERE urgency IS NOT NULL"), 7);
}

TEST_P(AdapterTest, AConfiguredQueryMustReturnOneRowWithOneNonNegativeInteger) {
  app_->CreateSchema();
  app_->AddCorrectComplaints(3);
  std::unique_ptr<Database> db = Open();
  const struct {
    const char* sql;
    const char* says;
  } cases[] = {
      {"SELECT 1, 2", "column"},
      {"SELECT id FROM complaints WHERE id < 0", "row"},
      {"SELECT id FROM complaints", "row"},
      {"SELECT NULL", "NULL"},
      {"SELECT 'many'", "\"many\", which is not an integer"},
      {"SELECT 2.5", "not an integer"},
      {"SELECT -1", "cannot be negative"},
      {"SELECT 1; SELECT 2", ""},
      {"", "empty"},
  };
  for (const auto& bad : cases) {
    const std::string message = DatabaseErrorOf([&] { db->CountWithQuery(bad.sql); });
    EXPECT_FALSE(message.empty()) << bad.sql << " was accepted";
    EXPECT_TRUE(Contains(message, bad.says)) << bad.sql << ": " << message;
  }
  EXPECT_TRUE(Contains(DatabaseErrorOf([&] { db->CountWithQuery("SELECT 'many'"); }), "SELECT 'many'"));
}

TEST_P(AdapterTest, NeverWritesTheApplicationsTables) {
  app_->CreateSchema();
  app_->AddCorrectComplaints(2);
  std::unique_ptr<Database> db = Open();
  const std::string message =
      DatabaseErrorOf([&] { db->CountWithQuery("INSERT INTO complaints (message) VALUES ('x') RETURNING id"); });
  EXPECT_TRUE(Contains(message, "read-only") || Contains(message, "readonly")) << message;
  const std::string deleting = DatabaseErrorOf([&] { db->CountWithQuery("DELETE FROM complaints RETURNING id"); });
  EXPECT_FALSE(deleting.empty());
  EXPECT_EQ(app_->QueryInt("SELECT count(*) FROM complaints"), 2);
}

std::string EngineName(const ::testing::TestParamInfo<Engine>& info) {
  return info.param == Engine::kPostgres ? "postgres" : "sqlite";
}

INSTANTIATE_TEST_SUITE_P(Sqlite, AdapterTest, ::testing::Values(Engine::kSqlite), EngineName);
INSTANTIATE_TEST_SUITE_P(Postgres, AdapterTest, ::testing::Values(Engine::kPostgres), EngineName);

}  // namespace
}  // namespace orch
