// The prepare worker's reads on both engines, against real databases: exactly the rows the
// orchestrator's counts count, the corrected labels, the texts intact, one snapshot per read.
#include "db/training_rows.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>

#include "db/open_database.h"
#include "support/app_database.h"
#include "support/heap_usage.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"

namespace orch {
namespace {

using testing::AppDatabase;
using testing::kDepartments;
using testing::kUrgencies;
using testing::MisclassifiedRow;
using testing::TempDir;

const LabelColumns kDepartment = LabelColumns::Defaults("department");
const LabelColumns kUrgency = LabelColumns::Defaults("urgency");

// A correction of department only (the urgency columns stay NULL).
MisclassifiedRow Department(std::optional<std::string> predicted, std::optional<std::string> correct,
                            std::optional<bool> reviewed = true) {
  MisclassifiedRow row;
  row.predicted_department = std::move(predicted);
  row.correct_department = std::move(correct);
  row.reviewed = reviewed;
  return row;
}

std::string NameOf(const ClassNames& classes, uint32_t index) { return classes.names().at(index); }

// A misclassified row as read, kept.
struct ReadRow {
  int64_t id = 0;
  uint32_t label = 0;
  std::string text;
};

// The rows a read hands over (in the order the database chose), sorted by id.
std::vector<ReadRow> ReadMisclassified(TrainingRows& rows, const LabelColumns& columns, ClassNames& classes) {
  std::vector<ReadRow> read;
  rows.ReadMisclassified(columns, classes, [&](const LabeledText& row) {
    read.push_back({row.id, row.label, std::string(row.text)});
  });
  std::sort(read.begin(), read.end(), [](const ReadRow& a, const ReadRow& b) { return a.id < b.id; });
  return read;
}

std::vector<PoolEntry> ReadCorrectPool(TrainingRows& rows, const LabelColumns& columns, ClassNames& classes) {
  std::vector<PoolEntry> pool;
  rows.ReadCorrectPool(columns, classes, [&](const PoolEntry& entry) { pool.push_back(entry); });
  std::sort(pool.begin(), pool.end(),
            [](const PoolEntry& a, const PoolEntry& b) { return a.complaint_id < b.complaint_id; });
  return pool;
}

std::vector<std::string> ReadMessages(TrainingRows& rows, const std::vector<int64_t>& ids) {
  std::vector<std::string> messages(ids.size(), "<not handed over>");
  size_t expected = 0;
  rows.ReadMessages(ids, [&](size_t i, std::string_view message) {
    EXPECT_EQ(i, expected++) << "in order";
    messages[i] = message;
  });
  return messages;
}

class TrainingRowsTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      ORCH_REQUIRE_POSTGRES();
      db_ = AppDatabase::Postgres();
    } else {
      db_ = AppDatabase::Sqlite(dir_.File("app.db"));
    }
  }

  bool postgres() const { return GetParam(); }
  std::unique_ptr<TrainingRows> Open() { return OpenTrainingRows(db_->database_url()); }

  // Complaints and corrections covering every case the counts distinguish. Returns the ids of the
  // complaints whose department correction counts, in order.
  std::vector<int64_t> AddMixedRows() {
    db_->CreateSchema();
    std::vector<int64_t> counted;
    const int64_t water = db_->AddComplaint(kDepartments[0], kUrgencies[0], "पानी आएन <b>३ दिन</b>\nभयो");
    db_->AddMisclassifiedRow(Department(kDepartments[3], kDepartments[1]), water);
    counted.push_back(water);
    const int64_t unreviewed = db_->AddComplaint(kDepartments[0], kUrgencies[0], "unreviewed");
    db_->AddMisclassifiedRow(Department(kDepartments[3], kDepartments[1], false), unreviewed);
    db_->AddMisclassifiedRow(Department(kDepartments[2], std::nullopt));
    db_->AddMisclassifiedRow(Department(kDepartments[2], kDepartments[2]));
    db_->AddMisclassifiedRow(Department(kDepartments[2], kDepartments[0], std::nullopt));
    const int64_t unpredicted = db_->AddComplaint(kDepartments[1], kUrgencies[2], "no prediction");
    db_->AddMisclassifiedRow(Department(std::nullopt, kDepartments[2]), unpredicted);
    counted.push_back(unpredicted);
    return counted;
  }

  TempDir dir_;
  std::unique_ptr<AppDatabase> db_;
};

TEST_P(TrainingRowsTest, ReadsExactlyTheMisclassifiedRowsTheOrchestratorCounts) {
  const std::vector<int64_t> counted = AddMixedRows();
  std::unique_ptr<TrainingRows> rows = Open();
  ClassNames classes;
  const std::vector<ReadRow> read = ReadMisclassified(*rows, kDepartment, classes);
  ASSERT_EQ(read.size(), counted.size());
  EXPECT_EQ(static_cast<int64_t>(read.size()),
            OpenDatabase(db_->database_url())->CountMisclassified({&kDepartment, 1})[0]);
  EXPECT_EQ(NameOf(classes, read[0].label), kDepartments[1]);  // the correction, not the complaint's value
  EXPECT_EQ(read[0].text, "पानी आएन <b>३ दिन</b>\nभयो");       // as stored: cleaning is the worker's
  EXPECT_EQ(NameOf(classes, read[1].label), kDepartments[2]);
  EXPECT_EQ(read[1].text, "no prediction");
  // No urgency was corrected anywhere.
  EXPECT_TRUE(ReadMisclassified(*rows, kUrgency, classes).empty());
}

TEST_P(TrainingRowsTest, ReadsExactlyThePoolTheOrchestratorCounts) {
  AddMixedRows();
  const int64_t first = db_->AddComplaint(kDepartments[3], kUrgencies[1], "street light");
  const int64_t no_department = db_->AddComplaint(std::nullopt, kUrgencies[2], "no department");
  const int64_t last = db_->AddComplaint(kDepartments[0], std::nullopt, "no urgency");
  std::unique_ptr<TrainingRows> rows = Open();
  std::unique_ptr<Database> counts = OpenDatabase(db_->database_url());
  ClassNames classes;

  const std::vector<PoolEntry> department = ReadCorrectPool(*rows, kDepartment, classes);
  ASSERT_EQ(department.size(), 2u);
  EXPECT_EQ(static_cast<int64_t>(department.size()), counts->CountCorrectPool({&kDepartment, 1})[0]);
  EXPECT_EQ(department[0].complaint_id, first);
  EXPECT_EQ(NameOf(classes, department[0].label), kDepartments[3]);
  EXPECT_EQ(department[1].complaint_id, last);

  const std::vector<PoolEntry> urgency = ReadCorrectPool(*rows, kUrgency, classes);
  ASSERT_EQ(urgency.size(), 2u);
  EXPECT_EQ(static_cast<int64_t>(urgency.size()), counts->CountCorrectPool({&kUrgency, 1})[0]);
  EXPECT_EQ(urgency[1].complaint_id, no_department);
  EXPECT_EQ(NameOf(classes, urgency[1].label), kUrgencies[2]);
}

TEST_P(TrainingRowsTest, ReadsMessagesInIdOrderWithMissingOnesEmpty) {
  db_->CreateSchema();
  const int64_t a = db_->AddComplaint(kDepartments[0], kUrgencies[0], "सडक \"भत्कियो\" \\ it's\ttab\nline");
  const int64_t b = db_->AddComplaint(kDepartments[1], kUrgencies[1], "second");
  std::unique_ptr<TrainingRows> rows = Open();
  EXPECT_EQ(ReadMessages(*rows, {a, b, 424242}),
            (std::vector<std::string>{"सडक \"भत्कियो\" \\ it's\ttab\nline", "second", ""}));
  EXPECT_TRUE(ReadMessages(*rows, {}).empty());
  EXPECT_THROW(ReadMessages(*rows, {b, a}), std::invalid_argument);
  EXPECT_THROW(ReadMessages(*rows, {a, a}), std::invalid_argument);
}

TEST_P(TrainingRowsTest, ReadsMessagesOfManyIds) {
  db_->CreateSchema();
  db_->AddCorrectComplaints(25000);  // messages "complaint <id>"
  std::vector<int64_t> ids;
  std::vector<std::string> expected;
  for (int64_t id = -3; id <= 26000; id += id % 3 == 0 ? 1 : 2) {  // more than one lookup's ids, some gone
    ids.push_back(id);
    expected.push_back(id >= 1 && id <= 25000 ? "complaint " + std::to_string(id) : "");
  }
  std::unique_ptr<TrainingRows> rows = Open();
  EXPECT_EQ(ReadMessages(*rows, ids), expected);
}

// The rows stream: while millions of rows (here 60 MB of text) pass through, the adapter holds one
// row, or a small batch, never the whole result (a PGresult, or a cursor's FETCH, would).
TEST_P(TrainingRowsTest, AReadHoldsNoMoreThanARowAtATime) {
  db_->CreateSchema();
  db_->AddMisclassified(30000, "urgency");
  db_->Exec(std::string("UPDATE complaints SET message = message || ' ' || ") +
            (postgres() ? "repeat('x', 2000)" : "replace(hex(zeroblob(1000)), '0', 'x')"));
  std::unique_ptr<TrainingRows> rows = Open();
  ClassNames classes;
  testing::HeapPeak heap;
  size_t count = 0, bytes = 0;
  rows->ReadMisclassified(kUrgency, classes, [&](const LabeledText& row) {
    ++count;
    bytes += row.text.size();
    heap.Sample();
  });
  EXPECT_EQ(count, 30000u);
  EXPECT_GT(bytes, 60'000'000u);
  EXPECT_LT(heap.growth(), 8u << 20) << "the read held " << heap.growth() << " bytes";
  std::vector<int64_t> ids;
  for (int64_t id = 1; id <= 30000; ++id) ids.push_back(id);
  testing::HeapPeak lookup;
  bytes = 0;
  rows->ReadMessages(ids, [&](size_t, std::string_view message) {
    bytes += message.size();
    lookup.Sample();
  });
  EXPECT_GT(bytes, 60'000'000u);
  EXPECT_LT(lookup.growth(), 8u << 20) << "the lookup held " << lookup.growth() << " bytes";
}

TEST_P(TrainingRowsTest, ManyRowsComeBackComplete) {
  db_->CreateSchema();
  db_->AddMisclassified(45000, "urgency");  // more than one batch of a cursor
  db_->AddCorrectComplaints(30000);
  std::unique_ptr<TrainingRows> rows = Open();
  ClassNames classes;
  SnapshotScope snapshot(*rows);
  const std::vector<ReadRow> misclassified = ReadMisclassified(*rows, kUrgency, classes);
  ASSERT_EQ(misclassified.size(), 45000u);
  EXPECT_EQ(misclassified.front().id, 1);
  EXPECT_EQ(misclassified.back().id, 45000) << "each row once";
  EXPECT_EQ(misclassified.back().text, "complaint 45000");
  const std::vector<PoolEntry> pool = ReadCorrectPool(*rows, kUrgency, classes);
  ASSERT_EQ(pool.size(), 30000u);
  EXPECT_EQ(pool.front().complaint_id, 45001);
  EXPECT_EQ(classes.names().size(), 3u);  // the three urgencies, each stored once
}

TEST_P(TrainingRowsTest, LabelColumnsComeFromTheConfiguration) {
  db_->CreateSchema();
  db_->Exec("ALTER TABLE complaints ADD COLUMN topic TEXT");
  db_->Exec("ALTER TABLE misclassified_complaints ADD COLUMN guessed_topic TEXT");
  db_->Exec("ALTER TABLE misclassified_complaints ADD COLUMN fixed_topic TEXT");
  const int64_t roads = db_->AddComplaint(kDepartments[0], kUrgencies[0], "roads");
  db_->Exec("UPDATE complaints SET topic = 'roads' WHERE id = " + std::to_string(roads));
  const int64_t water = db_->AddComplaint(kDepartments[0], kUrgencies[0], "water");
  db_->Exec("INSERT INTO misclassified_complaints (complaint_id, guessed_topic, fixed_topic, reviewed) VALUES (" +
            std::to_string(water) + ", 'roads', 'water', TRUE)");
  const LabelColumns topic{"topic", "guessed_topic", "fixed_topic", "topic"};
  std::unique_ptr<TrainingRows> rows = Open();
  ClassNames classes;
  const std::vector<ReadRow> misclassified = ReadMisclassified(*rows, topic, classes);
  ASSERT_EQ(misclassified.size(), 1u);
  EXPECT_EQ(NameOf(classes, misclassified[0].label), "water");
  const std::vector<PoolEntry> pool = ReadCorrectPool(*rows, topic, classes);
  ASSERT_EQ(pool.size(), 1u);
  EXPECT_EQ(pool[0].complaint_id, roads);
}

TEST_P(TrainingRowsTest, ASnapshotDoesNotSeeRowsAddedMeanwhile) {
  if (!postgres()) db_->Exec("PRAGMA journal_mode = WAL");  // so the application may write meanwhile
  db_->CreateSchema();
  db_->AddCorrectComplaints(10);
  std::unique_ptr<TrainingRows> rows = Open();
  ClassNames classes;
  {
    SnapshotScope snapshot(*rows);
    ASSERT_EQ(ReadCorrectPool(*rows, kDepartment, classes).size(), 10u);
    db_->AddCorrectComplaints(5);
    db_->AddMisclassified(3, "department");
    EXPECT_EQ(ReadCorrectPool(*rows, kDepartment, classes).size(), 10u);
    EXPECT_EQ(ReadMisclassified(*rows, kDepartment, classes).size(), 0u);
  }
  EXPECT_EQ(ReadCorrectPool(*rows, kDepartment, classes).size(), 15u);
  EXPECT_EQ(ReadMisclassified(*rows, kDepartment, classes).size(), 3u);
}

TEST_P(TrainingRowsTest, CountsTheMisclassifiedRowsItWouldRead) {
  const std::vector<int64_t> counted = AddMixedRows();
  std::unique_ptr<TrainingRows> rows = Open();
  EXPECT_EQ(rows->CountMisclassified(kDepartment), static_cast<int64_t>(counted.size()));
  EXPECT_EQ(rows->CountMisclassified(kUrgency), 0);
}

// PostgreSQL shares a snapshot with a second session, which sees exactly what the first one sees;
// SQLite gains nothing from a second reader and offers none.
TEST_P(TrainingRowsTest, ASecondReaderOfTheSnapshotSeesTheSameRows) {
  db_->CreateSchema();
  db_->AddCorrectComplaints(10);
  db_->AddMisclassified(4, "department");
  std::unique_ptr<TrainingRows> rows = Open();
  SnapshotScope snapshot(*rows);
  std::unique_ptr<TrainingRows> second = rows->ShareSnapshot();
  if (!postgres()) {
    EXPECT_EQ(second, nullptr);
    return;
  }
  ASSERT_NE(second, nullptr);
  db_->AddCorrectComplaints(5);
  db_->AddMisclassified(3, "department");
  ClassNames classes;
  EXPECT_EQ(ReadCorrectPool(*second, kDepartment, classes).size(), 10u);
  EXPECT_EQ(second->CountMisclassified(kDepartment), 4);
  EXPECT_EQ(ReadMisclassified(*rows, kDepartment, classes).size(), 4u);
  EXPECT_EQ(ReadCorrectPool(*rows, kDepartment, classes).size(), 10u);
  second.reset();
  EXPECT_EQ(ReadMessages(*rows, {2, 15}), (std::vector<std::string>{"complaint 2", ""}))
      << "the first reader goes on in its snapshot after the second is gone";
}

TEST_P(TrainingRowsTest, AMissingTableOrColumnSaysWhereToLook) {
  std::unique_ptr<TrainingRows> rows = Open();
  ClassNames classes;
  std::string error = testing::DatabaseErrorOf([&] { ReadMisclassified(*rows, kDepartment, classes); });
  EXPECT_NE(error.find("reading the misclassified rows of department failed"), std::string::npos) << error;
  EXPECT_NE(error.find("does DATABASE_URL point at the application's database?"), std::string::npos) << error;
  db_->CreateSchema();
  rows = Open();
  const LabelColumns wrong{"topic", "model_predicted_topic", "correct_topic", "topic"};
  error = testing::DatabaseErrorOf([&] { ReadCorrectPool(*rows, wrong, classes); });
  EXPECT_NE(error.find("reading the correct complaints of topic failed"), std::string::npos) << error;
  EXPECT_NE(error.find("columns can be renamed per label"), std::string::npos) << error;
}

TEST_P(TrainingRowsTest, AnUnreachableDatabaseIsADatabaseError) {
  DatabaseUrl url = db_->database_url();
  if (postgres()) {
    url.target = "postgresql://postgres@127.0.0.1:" + std::to_string(testing::FreeLoopbackPort()) + "/none";
    url.redacted = url.target;
  } else {
    url.target = dir_.File("missing.db");
  }
  const std::string error = testing::DatabaseErrorOf([&] { OpenTrainingRows(url); });
  EXPECT_FALSE(error.empty());
  if (!postgres()) {
    EXPECT_NE(error.find("does not exist"), std::string::npos) << error;
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, TrainingRowsTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return std::string(info.param ? "Postgres" : "Sqlite");
                         });

// SQLite-only forms of data: booleans as SQLAlchemy and hand-made rows store them, and corrections
// of complaints that no longer exist (SQLite does not enforce foreign keys unless asked to).
TEST(SqliteTrainingRows, ReadsReviewedInEveryStoredFormAndRowsWithoutComplaint) {
  TempDir dir;
  auto db = AppDatabase::Sqlite(dir.File("app.db"));
  db->CreateSchema();
  const std::string insert =
      "INSERT INTO misclassified_complaints (complaint_id, model_predicted_urgency, correct_urgency, reviewed) "
      "VALUES ";
  const int64_t id = db->AddComplaint(kDepartments[0], kUrgencies[0], "x");
  for (const char* reviewed : {"1", "'t'", "'TRUE'", "'true'", "0", "'no'", "'f'", "NULL"})
    db->Exec(insert + "(" + std::to_string(id) + ", 'NORMAL', 'URGENT', " + reviewed + ")");
  db->Exec(insert + "(9999, 'NORMAL', 'HIGHLY URGENT', 1)");
  std::unique_ptr<TrainingRows> rows = OpenTrainingRows(db->database_url());
  ClassNames classes;
  const std::vector<ReadRow> read = ReadMisclassified(*rows, kUrgency, classes);
  ASSERT_EQ(read.size(), 5u);
  EXPECT_EQ(static_cast<int64_t>(read.size()), OpenDatabase(db->database_url())->CountMisclassified({&kUrgency, 1})[0]);
  EXPECT_EQ(read[4].text, "");  // the complaint is gone: no text
  EXPECT_EQ(NameOf(classes, read[4].label), "HIGHLY URGENT");
}

TEST(TrainingRowsSql, UsesTheCountsPredicatesOnQuotedColumns) {
  const LabelColumns topic{"topic", "guessed_topic", "fixed_topic", "topic_col"};
  EXPECT_EQ(MisclassifiedRowsSql(SqlDialect::kPostgres, topic),
            "SELECT m.id, m.\"fixed_topic\", c.message FROM misclassified_complaints m LEFT JOIN complaints c ON "
            "c.id = m.complaint_id WHERE m.reviewed AND m.\"fixed_topic\" IS NOT NULL AND m.\"guessed_topic\" IS "
            "DISTINCT FROM m.\"fixed_topic\"");
  EXPECT_NE(MisclassifiedRowsSql(SqlDialect::kSqlite, topic).find("lower(m.reviewed) IN ('1', 't', 'true')"),
            std::string::npos);
  EXPECT_NE(MisclassifiedRowsSql(SqlDialect::kSqlite, topic).find("m.\"guessed_topic\" IS NOT m.\"fixed_topic\""),
            std::string::npos);
  EXPECT_EQ(CorrectPoolRowsSql(topic),
            "SELECT c.id, c.\"topic_col\" FROM complaints c WHERE c.\"topic_col\" IS NOT NULL AND NOT EXISTS "
            "(SELECT 1 FROM misclassified_complaints m WHERE m.complaint_id = c.id)");
  const LabelColumns bad{"x", "x; DROP TABLE complaints", "y", "z"};
  EXPECT_THROW(MisclassifiedRowsSql(SqlDialect::kSqlite, bad), DatabaseError);
}

TEST(ClassNames, GivesEachDistinctNameOneIndexInFirstSeenOrder) {
  ClassNames classes;
  EXPECT_EQ(classes.IndexOf("b"), 0u);
  EXPECT_EQ(classes.IndexOf("a"), 1u);
  EXPECT_EQ(classes.IndexOf("a"), 1u);
  EXPECT_EQ(classes.IndexOf("b"), 0u);
  EXPECT_EQ(classes.IndexOf(""), 2u);
  EXPECT_EQ(classes.names(), (std::vector<std::string>{"b", "a", ""}));
}

}  // namespace
}  // namespace orch
