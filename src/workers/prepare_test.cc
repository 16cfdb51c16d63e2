#include "workers/prepare.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "db/open_database.h"
#include "db/sqlite_database.h"
#include "engine/counts.h"
#include "engine/decision.h"
#include "hub/hub.h"
#include "hub/local_repository.h"
#include "support/app_database.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"
#include "util/error.h"

namespace orch {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;

// The application's rows in memory, with a record of how they were read.
class FakeTrainingRows final : public TrainingRows {
 public:
  struct Misclassified {
    std::string correct;
    std::string text;
  };
  struct Complaint {
    std::string label;
    std::string message;
  };

  void BeginSnapshot() override {
    EXPECT_FALSE(in_snapshot_) << "snapshot begun twice";
    in_snapshot_ = true;
    ++snapshots;
  }
  void EndSnapshot() noexcept override { in_snapshot_ = false; }

  std::vector<LabeledText> ReadMisclassified(const LabelColumns&, ClassNames& classes) override {
    EXPECT_TRUE(in_snapshot_);
    std::vector<LabeledText> rows;
    for (size_t i = 0; i < misclassified.size(); ++i)
      rows.push_back({static_cast<int64_t>(i + 1), classes.IndexOf(misclassified[i].correct), misclassified[i].text});
    return rows;
  }
  std::vector<PoolEntry> ReadCorrectPool(const LabelColumns&, ClassNames& classes) override {
    EXPECT_TRUE(in_snapshot_);
    std::vector<PoolEntry> entries;
    for (const auto& [id, complaint] : pool) entries.push_back({id, classes.IndexOf(complaint.label)});
    return entries;
  }
  std::vector<std::string> ReadMessages(std::span<const int64_t> ids) override {
    EXPECT_TRUE(in_snapshot_);
    std::vector<std::string> messages;
    for (int64_t id : ids) {
      EXPECT_TRUE(read_ids.insert(id).second) << "complaint " << id << " read twice";
      messages.push_back(pool.count(id) ? pool.at(id).message : "");
    }
    return messages;
  }

  // `count` misclassified rows cycling through `classes`.
  void AddMisclassified(size_t count, const std::vector<std::string>& classes) {
    for (size_t i = 0; i < count; ++i)
      misclassified.push_back({classes[i % classes.size()], "wrongly routed complaint " + std::to_string(i)});
  }
  void AddPool(size_t count, const std::vector<std::string>& classes) {
    for (size_t i = 0; i < count; ++i) {
      const int64_t id = 1000 + static_cast<int64_t>(pool.size());
      pool[id] = {classes[i % classes.size()], "correct complaint " + std::to_string(id)};
    }
  }

  std::vector<Misclassified> misclassified;
  std::map<int64_t, Complaint> pool;
  std::set<int64_t> read_ids;
  int snapshots = 0;

 private:
  bool in_snapshot_ = false;
};

const std::vector<std::string> kUrgencyNames = {"NORMAL", "URGENT", "HIGHLY URGENT"};
const LabelColumns kUrgency = LabelColumns::Defaults("urgency");

Dataset Build(FakeTrainingRows& rows, double ratio = 0.5, int64_t seed = 42) {
  return BuildDataset(rows, kUrgency, LabelMap::Initial("urgency"), {ratio, seed});
}

std::multiset<std::string> TextsOf(const Dataset& dataset) {
  return std::multiset<std::string>(dataset.texts.begin(), dataset.texts.end());
}

TEST(Prepare, TakesEveryMisclassifiedRowWithItsCorrectedLabelAndASampleOfThePool) {
  FakeTrainingRows rows;
  rows.misclassified = {{"URGENT", "<p>पानी\nआएन</p> http://x.y"}, {"HIGHLY URGENT", "  fire  "}, {"NORMAL", "road"}};
  rows.AddPool(50, kUrgencyNames);
  const Dataset dataset = Build(rows, 1.0);
  EXPECT_EQ(rows.snapshots, 1);
  EXPECT_EQ(dataset.label, "urgency");
  ASSERT_EQ(dataset.texts.size(), 6u);
  EXPECT_EQ(dataset.texts[0], "पानी आएन");  // cleaned
  EXPECT_EQ(dataset.labels[0], 1);          // URGENT in the original ids
  EXPECT_EQ(dataset.texts[1], "fire");
  EXPECT_EQ(dataset.labels[1], 2);
  EXPECT_EQ(dataset.labels[2], 0);
  for (size_t i = 3; i < 6; ++i) {
    const int64_t id = std::stoll(dataset.texts[i].substr(std::string("correct complaint ").size()));
    ASSERT_TRUE(rows.pool.count(id)) << dataset.texts[i];
    EXPECT_EQ(dataset.labels[i], dataset.label_map.Find(rows.pool.at(id).label));
  }
  EXPECT_EQ(dataset.sources.misclassified_read, 3);
  EXPECT_EQ(dataset.sources.misclassified, 3);
  EXPECT_EQ(dataset.sources.pool, 50);
  EXPECT_EQ(dataset.sources.correct_wanted, 3);
  EXPECT_EQ(dataset.sources.correct, 3);
  EXPECT_EQ(dataset.sources.dropped, 0);
  EXPECT_EQ(dataset.splits.train.size() + dataset.splits.validation.size() + dataset.splits.test.size(), 6u);
  EXPECT_EQ(rows.read_ids.size(), 3u);  // texts were read only for the sampled complaints
}

TEST(Prepare, SamplesFloorOfMisclassifiedTimesTheRatioCappedAtThePool) {
  struct Case {
    size_t misclassified, pool;
    double ratio;
    int64_t correct;
  };
  for (const Case& c : std::vector<Case>{
           {7, 100, 0.5, 3}, {7, 2, 0.5, 2}, {7, 100, 0.0, 0}, {7, 100, 2.0, 14}, {3, 100, 0.34, 1}, {10, 0, 0.5, 0}}) {
    FakeTrainingRows rows;
    rows.AddMisclassified(c.misclassified, kUrgencyNames);
    rows.AddPool(c.pool, kUrgencyNames);
    const Dataset dataset = Build(rows, c.ratio);
    EXPECT_EQ(dataset.sources.correct, c.correct) << c.misclassified << " x " << c.ratio << ", pool " << c.pool;
    EXPECT_EQ(dataset.sources.correct_wanted, c.correct);
    EXPECT_EQ(static_cast<int64_t>(dataset.texts.size()), static_cast<int64_t>(c.misclassified) + c.correct);
  }
}

TEST(Prepare, TheSameRowsAndSeedGiveTheSameDatasetAndAnotherSeedAnother) {
  FakeTrainingRows rows;
  rows.AddMisclassified(200, kUrgencyNames);
  rows.AddPool(1000, kUrgencyNames);
  const Dataset first = Build(rows);
  rows.read_ids.clear();
  const Dataset again = Build(rows);
  rows.read_ids.clear();
  const Dataset other = Build(rows, 0.5, 43);
  EXPECT_EQ(first.texts, again.texts);
  EXPECT_EQ(first.labels, again.labels);
  EXPECT_EQ(first.splits.train, again.splits.train);
  EXPECT_EQ(first.splits.test, again.splits.test);
  EXPECT_NE(TextsOf(first), TextsOf(other));  // another sample of the pool
  EXPECT_NE(first.splits.test, other.splits.test);
}

TEST(Prepare, UnusableSampledRowsAreReplacedAndCounted) {
  FakeTrainingRows rows;
  rows.AddMisclassified(40, kUrgencyNames);
  rows.AddPool(30, kUrgencyNames);
  int unusable = 0;
  for (auto& [id, complaint] : rows.pool) {  // two of every three pool rows cannot be used
    if (id % 3 == 0) complaint.message = " https://only.a/url <br> \n";
    if (id % 3 == 1) complaint.label = " ";
    unusable += id % 3 != 2;
  }
  const Dataset dataset = Build(rows);
  EXPECT_EQ(dataset.sources.correct_wanted, 20);
  EXPECT_EQ(dataset.sources.correct, 10);  // only 10 usable rows in the pool: all taken
  EXPECT_EQ(dataset.sources.dropped, unusable);
  for (size_t i = 40; i < dataset.texts.size(); ++i) EXPECT_FALSE(dataset.texts[i].empty());
  EXPECT_FALSE(dataset.label_map.Find(" ").has_value());

  // With a large enough pool the sample reaches its size despite the unusable rows.
  rows.read_ids.clear();
  rows.AddPool(100, kUrgencyNames);
  EXPECT_EQ(Build(rows).sources.correct, 20);
}

TEST(Prepare, MisclassifiedRowsWithoutTextOrLabelAreLeftOut) {
  FakeTrainingRows rows;
  rows.misclassified = {{"URGENT", "ok"},
                        {"URGENT", "<br>\n\t"},
                        {"", "no label"},
                        {"\t", "blank label"},
                        {"URG\xFF", "bad bytes in the label"},
                        {"NORMAL", ""},
                        {"NORMAL", "fine"}};
  const Dataset dataset = Build(rows, 0.0);
  EXPECT_EQ(dataset.texts, (std::vector<std::string>{"ok", "fine"}));
  EXPECT_EQ(dataset.sources.misclassified_read, 7);
  EXPECT_EQ(dataset.sources.misclassified, 2);
  EXPECT_EQ(dataset.sources.dropped, 5);
  EXPECT_EQ(dataset.label_map.size(), 3u);  // nothing added for the unusable values
}

TEST(Prepare, MisclassifiedRowsLeftOutAreMadeUpForWithMoreCorrectRows) {
  FakeTrainingRows rows;
  rows.AddMisclassified(10, kUrgencyNames);
  rows.misclassified[2].text = "";
  rows.misclassified[5].text = " https://only.a/link ";
  rows.misclassified[7].text = "<p></p>\n<br/>";
  rows.misclassified[8].correct = " ";
  rows.AddPool(100, kUrgencyNames);
  const Dataset dataset = Build(rows);
  const DatasetSources& sources = dataset.sources;
  EXPECT_EQ(CountedRows(sources), 15) << "10 misclassified + floor(10 x 0.5): what the pass waits for";
  EXPECT_EQ(sources.misclassified, 6);
  EXPECT_EQ(sources.correct_wanted, 5);
  EXPECT_EQ(sources.correct, 9) << "5 wanted, and one more for each of the 4 misclassified rows left out";
  EXPECT_EQ(static_cast<int64_t>(dataset.texts.size()), 15);
  EXPECT_EQ(sources.dropped, 4);
  EXPECT_EQ(sources.dropped_no_text, 3);
  EXPECT_EQ(CountedRowsDropped(sources), 0);
  EXPECT_EQ(RowsReplaced(sources), 4);
  for (const std::string& text : dataset.texts) EXPECT_FALSE(text.empty());
}

TEST(Prepare, RowsThePoolCannotMakeUpForAreCountedAsDropped) {
  FakeTrainingRows rows;
  rows.AddMisclassified(10, kUrgencyNames);
  rows.misclassified[0].text = "www.example.org";
  rows.misclassified[1].text = "\t \n";
  rows.AddPool(6, kUrgencyNames);
  rows.pool.begin()->second.message = "<br>";  // one of the pool's rows is no better
  const Dataset dataset = Build(rows);
  const DatasetSources& sources = dataset.sources;
  EXPECT_EQ(CountedRows(sources), 15);
  EXPECT_EQ(sources.correct, 5) << "the pool's 5 usable rows, all taken";
  EXPECT_EQ(static_cast<int64_t>(dataset.texts.size()), 13);
  EXPECT_EQ(sources.dropped, 3);
  EXPECT_EQ(CountedRowsDropped(sources), 2) << "published 13 + dropped 2 = the 15 the pass counted";
  EXPECT_EQ(RowsReplaced(sources), 1);
}

TEST(Prepare, NewClassesGetNewIdsAndStoredIdsAreKept) {
  FakeTrainingRows rows;
  rows.misclassified = {{"URGENT", "a"}, {"CRITICAL", "b"}, {"LOW", "c"}};
  const Dataset dataset = BuildDataset(rows, kUrgency, LabelMap::Parse(R"({"URGENT": 7, "NORMAL": 2})", "x"), {0, 42});
  EXPECT_EQ(dataset.labels, (std::vector<int64_t>{7, 8, 9}));  // CRITICAL and LOW in byte order after 7
  EXPECT_EQ(dataset.label_map.Find("NORMAL"), 2);              // kept although no row uses it
}

TEST(Prepare, PublishesDistinctVersionsWithIdenticalSplitsFromTheSameData) {
  TempDir hub;
  FakeTrainingRows rows;
  rows.AddMisclassified(120, {"NORMAL", "URGENT", "HIGHLY URGENT", "CRITICAL"});
  rows.AddPool(500, kUrgencyNames);
  const auto now = std::chrono::system_clock::now();
  const PreparedLabel first = PrepareLabel(rows, kUrgency, hub.path(), {0.5, 42}, now);
  rows.read_ids.clear();
  const PreparedLabel second = PrepareLabel(rows, kUrgency, hub.path(), {0.5, 42}, now);
  EXPECT_NE(first.version.version_tag, second.version.version_tag);
  EXPECT_EQ(second.version.version_tag, first.version.version_tag + "_2");
  EXPECT_EQ(first.version.num_samples, 180);
  EXPECT_EQ(first.version.repository, (hub.path() / "urgency").string());
  LocalRepository repository(hub.path() / "urgency");
  for (const char* split : {"data/train.jsonl", "data/validation.jsonl", "data/test.jsonl"}) {
    const std::string a = repository.ReadFile(first.version.version_tag, split, 1 << 24).value_or("");
    EXPECT_FALSE(a.empty());
    EXPECT_EQ(a, repository.ReadFile(second.version.version_tag, split, 1 << 24)) << split;
  }
  const nlohmann::json metadata = nlohmann::json::parse(ReadFile(hub.File("urgency/dataset_metadata.json")));
  EXPECT_EQ(metadata["version_tag"], second.version.version_tag);
  EXPECT_EQ(metadata["num_samples"], 180);
  // The new class was given an id once, and kept it.
  const std::optional<LabelMap> stored = PublishedLabelMap(repository);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->Find("CRITICAL"), 3);
  EXPECT_EQ(stored->Find("URGENT"), 1);
  EXPECT_EQ(ReadFile(hub.File("urgency/labels.json")), stored->ToJson()) << "main's files are in the directory";
  EXPECT_FALSE(fs::exists(hub.path() / "urgency" / ".prepare-staging"));
}

// A hub directory of an earlier release: a directory per version and the label map beside them.
// The first version published there keeps the map's ids; the old versions are left as they are.
TEST(Prepare, AHubOfAnEarlierReleaseKeepsItsIds) {
  TempDir hub;
  const fs::path old_version = hub.path() / "urgency" / "v20251030_115250";
  fs::create_directories(old_version);
  testing::WriteFile((old_version / "eval.jsonl").string(), "{\"grievance\": \"x\", \"label\": 4}\n");
  testing::WriteFile(hub.File("urgency/labels.json"),
                     R"({"NORMAL": 4, "URGENT": 1, "HIGHLY URGENT": 2, "CRITICAL": 0})");
  FakeTrainingRows rows;
  rows.AddMisclassified(30, {"NORMAL", "URGENT", "LOW"});
  rows.AddPool(30, kUrgencyNames);
  const PreparedLabel prepared = PrepareLabel(rows, kUrgency, hub.path(), {0.5, 42}, std::chrono::system_clock::now());
  LocalRepository repository(hub.path() / "urgency");
  const LabelMap map = LabelMap::Parse(
      repository.ReadFile(prepared.version.version_tag, "labels.json", 1 << 20).value_or(""), "labels.json");
  EXPECT_EQ(map.Find("NORMAL"), 4);
  EXPECT_EQ(map.Find("CRITICAL"), 0);
  EXPECT_EQ(map.Find("LOW"), 5) << "a new class after the largest id";
  EXPECT_EQ(ReadFile((old_version / "eval.jsonl").string()), "{\"grievance\": \"x\", \"label\": 4}\n");
  const std::string card = repository.ReadFile(prepared.version.version_tag, "README.md", 1 << 20).value_or("");
  EXPECT_NE(card.find("          \"3\": unused_id_3\n          \"4\": NORMAL\n"), std::string::npos) << card;
}

TEST(Prepare, NothingToPublishIsAWorkerErrorAndPublishesNothing) {
  TempDir hub;
  FakeTrainingRows rows;
  rows.misclassified = {{"URGENT", "<br>"}};
  try {
    PrepareLabel(rows, kUrgency, hub.path(), {0.5, 42}, std::chrono::system_clock::now());
    FAIL() << "an empty dataset was published";
  } catch (const WorkerError& error) {
    EXPECT_NE(std::string(error.what()).find("nothing to publish for urgency"), std::string::npos) << error.what();
  }
  EXPECT_FALSE(fs::exists(hub.path() / "urgency" / "dataset_metadata.json"));
}

// ---- on real databases ------------------------------------------------------------------------

void FillSameRows(testing::AppDatabase& db) {
  db.CreateSchema();
  db.AddMisclassified(300, "department");
  db.AddCorrectComplaints(700);
  db.AddComplaint(testing::kDepartments[1], testing::kUrgencies[2], "<b>विद्यालयको</b> छाना\nचुहिन्छ www.school.np");
  db.AddComplaint(testing::kDepartments[2], testing::kUrgencies[0], " \n ");  // nothing left after cleaning
}

TEST(Prepare, TheSameRowsGiveTheSameDatasetOnSqliteAndPostgres) {
  ORCH_REQUIRE_POSTGRES();
  TempDir dir;
  auto sqlite = testing::AppDatabase::Sqlite(dir.File("app.db"));
  auto postgres = testing::AppDatabase::Postgres();
  FillSameRows(*sqlite);
  FillSameRows(*postgres);
  const LabelColumns department = LabelColumns::Defaults("department");
  const PrepareSettings settings{0.5, 42};
  const Dataset a =
      BuildDataset(*OpenTrainingRows(sqlite->database_url()), department, LabelMap::Initial("department"), settings);
  const Dataset b =
      BuildDataset(*OpenTrainingRows(postgres->database_url()), department, LabelMap::Initial("department"), settings);
  EXPECT_EQ(a.texts.size(), 450u);
  EXPECT_EQ(a.texts, b.texts);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.splits.train, b.splits.train);
  EXPECT_EQ(a.splits.validation, b.splits.validation);
  EXPECT_EQ(a.splits.test, b.splits.test);
  EXPECT_EQ(a.sources.pool, 702);
  EXPECT_EQ(b.sources.pool, 702);
}

// ---- rows that clean to nothing: the worker and the pass agree, on a real database ------------

class PrepareAgreesWithThePass : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = testing::AppDatabase::Sqlite(dir_.File("app.db"));
    db_->CreateSchema();
    db_->AddMisclassified(20, "department");
    // Reviewed corrections of complaints whose text is nothing once cleaned: counted by the pass.
    for (const char* message : {"", " \n\t ", "https://example.org/only-a-link", "<p></p><br/>"}) {
      const int64_t id = db_->AddComplaint(testing::kDepartments[2], testing::kUrgencies[0], message);
      testing::MisclassifiedRow row;
      row.predicted_department = testing::kDepartments[0];
      row.correct_department = testing::kDepartments[2];
      db_->AddMisclassifiedRow(row, id);
    }
    config_.correct_ratio = 0.5;
    LabelConfig label;
    label.name = "department";
    label.columns = LabelColumns::Defaults("department");
    label.threshold = 10;
    config_.labels.push_back(label);
  }
  // The dataset_len a pass counts now.
  int64_t PassDatasetLen() {
    SqliteDatabase database(db_->database_url().target);
    const std::vector<int64_t> misclassified = CountMisclassified(config_, database);
    const std::vector<std::optional<int64_t>> pools = CountPools(config_, database, misclassified);
    return Decide(misclassified[0], pools[0], config_.correct_ratio, config_.labels[0].threshold).dataset_len;
  }
  // Publishes with the worker, and returns dataset_metadata.json.
  nlohmann::json Prepare() {
    PrepareLabel(*OpenTrainingRows(db_->database_url()), config_.labels[0].columns, hub_.path(), {0.5, 42},
                 std::chrono::system_clock::now());
    return nlohmann::json::parse(ReadFile(hub_.File("department/dataset_metadata.json")));
  }
  // What the pass makes of that file.
  static DatasetMetadata AsThePassReadsIt(const nlohmann::json& metadata) {
    const MetadataRead read = ParseMetadata(metadata.dump());
    EXPECT_EQ(read.status, MetadataRead::Status::kOk) << read.detail;
    return read.metadata.value_or(DatasetMetadata{});
  }

  TempDir dir_, hub_;
  std::unique_ptr<testing::AppDatabase> db_;
  Config config_;
};

TEST_F(PrepareAgreesWithThePass, RowsThatCleanToNothingAreMadeUpForAndReported) {
  db_->AddCorrectComplaints(100);
  const int64_t dataset_len = PassDatasetLen();
  ASSERT_EQ(dataset_len, 36) << "24 misclassified, empty texts included, + 12 correct";
  const nlohmann::json metadata = Prepare();
  EXPECT_EQ(metadata["num_samples"], 36) << "4 more correct rows in place of the 4 without text";
  EXPECT_EQ(metadata["rows_dropped"], 0);
  EXPECT_EQ(metadata["rows_left_out"], nlohmann::json::parse(R"({"no_text": 4, "no_label": 0, "replaced": 4})"));
  EXPECT_TRUE(IsNewDataset(AsThePassReadsIt(metadata), std::nullopt, dataset_len));
}

TEST_F(PrepareAgreesWithThePass, RowsThePoolCannotMakeUpForAreReportedAndThePassStillTakesTheDataset) {
  db_->AddCorrectComplaints(5);  // 12 wanted: the pool is taken whole, nothing left to make up with
  const int64_t dataset_len = PassDatasetLen();
  ASSERT_EQ(dataset_len, 29);
  const nlohmann::json metadata = Prepare();
  EXPECT_EQ(metadata["num_samples"], 25);
  EXPECT_EQ(metadata["rows_dropped"], 4);
  EXPECT_EQ(metadata["rows_left_out"], nlohmann::json::parse(R"({"no_text": 4, "no_label": 0, "replaced": 0})"));
  const DatasetMetadata read = AsThePassReadsIt(metadata);
  EXPECT_TRUE(IsNewDataset(read, std::nullopt, dataset_len));
  EXPECT_FALSE(IsNewDataset(read, std::nullopt, dataset_len + 1)) << "a row more than counted is a row short";
  const std::string card = LocalRepository(hub_.path() / "department")
                               .ReadFile(metadata["version_tag"].get<std::string>(), "README.md", 1 << 20)
                               .value_or("");
  EXPECT_NE(card.find("| left out: no text after cleaning | 4 |"), std::string::npos) << card;
}

// ---- which labels are due: counted as a pass counts, on a real database ----------------------

class LabelsDue : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = testing::AppDatabase::Sqlite(dir_.File("app.db"));
    db_->CreateSchema();
    config_.correct_ratio = 0.5;
    for (const char* name : {"department", "urgency"}) {
      LabelConfig label;
      label.name = name;
      label.columns = LabelColumns::Defaults(name);
      label.threshold = 1000;
      config_.labels.push_back(label);
    }
  }
  std::vector<std::string> Due() {
    SqliteDatabase database(db_->database_url().target);
    return LabelsDueForPrepare(config_, database);
  }

  TempDir dir_;
  std::unique_ptr<testing::AppDatabase> db_;
  Config config_;
};

TEST_F(LabelsDue, ALabelIsDueWhenMisclassifiedPlusSampledCorrectReachesItsThreshold) {
  db_->AddMisclassified(8, "department");
  db_->AddCorrectComplaints(3);
  EXPECT_TRUE(Due().empty());
  config_.labels[0].threshold = 11;  // 8 + min(4, 3 in the pool)
  EXPECT_EQ(Due(), (std::vector<std::string>{"department"}));
  config_.labels[0].threshold = 12;
  EXPECT_TRUE(Due().empty());
  db_->AddCorrectComplaints(1);
  EXPECT_EQ(Due(), (std::vector<std::string>{"department"}));
}

TEST_F(LabelsDue, ConfiguredQueriesCountInsteadOfTheBuiltInOnes) {
  config_.labels[1].misclassified_sql = "SELECT 2000";
  EXPECT_EQ(Due(), (std::vector<std::string>{"urgency"}));
  config_.labels[1].misclassified_sql = "SELECT 800";
  config_.labels[1].pool_sql = "SELECT 400";
  EXPECT_EQ(Due(), (std::vector<std::string>{"urgency"}));
  config_.labels[1].pool_sql = "SELECT 100";
  EXPECT_TRUE(Due().empty());
}

}  // namespace
}  // namespace orch
