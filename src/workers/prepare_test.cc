#include "workers/prepare.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
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
#include "support/heap_usage.h"
#include "support/postgres_server.h"
#include "support/temp_dir.h"
#include "util/error.h"
#include "workers/row_keys.h"

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

  void ReadMisclassified(const LabelColumns&, ClassNames& classes,
                         const std::function<void(const LabeledText&)>& on_row) override {
    EXPECT_TRUE(in_snapshot_);
    for (size_t k = 0; k < misclassified.size(); ++k) {
      const size_t i = backwards ? misclassified.size() - 1 - k : k;
      on_row({static_cast<int64_t>(i + 1), classes.IndexOf(misclassified[i].correct), misclassified[i].text});
      if (heap) heap->Sample();
    }
  }
  void ReadCorrectPool(const LabelColumns&, ClassNames& classes,
                       const std::function<void(const PoolEntry&)>& on_entry) override {
    EXPECT_TRUE(in_snapshot_);
    ++pool_reads;
    if (backwards) {
      for (auto entry = pool.rbegin(); entry != pool.rend(); ++entry)
        on_entry({entry->first, classes.IndexOf(entry->second.label)});
    } else {
      for (const auto& [id, complaint] : pool) on_entry({id, classes.IndexOf(complaint.label)});
    }
  }
  int64_t CountMisclassified(const LabelColumns&) override {
    EXPECT_TRUE(in_snapshot_);
    return static_cast<int64_t>(misclassified.size());
  }
  std::unique_ptr<TrainingRows> ShareSnapshot() override {
    EXPECT_TRUE(in_snapshot_);
    return share ? std::make_unique<Companion>(*this) : nullptr;
  }
  void ReadMessages(std::span<const int64_t> ids,
                    const std::function<void(size_t, std::string_view)>& on_message) override {
    EXPECT_TRUE(in_snapshot_);
    RequireAscendingIds(ids);
    for (size_t i = 0; i < ids.size(); ++i) {
      EXPECT_TRUE(read_ids.insert(ids[i]).second) << "complaint " << ids[i] << " read twice";
      on_message(i, pool.count(ids[i]) ? pool.at(ids[i]).message : "");
      if (heap) heap->Sample();
    }
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
  std::atomic<int> pool_reads = 0;
  bool share = false;                 // offer a second reader of the snapshot (the pool's first pass then runs there)
  int companions_used = 0;            // second readers that read the pool
  testing::HeapPeak* heap = nullptr;  // sampled as rows are handed over, when set
  bool backwards = false;             // hand the rows over last first

 private:
  // A second reader of the same rows, as ShareSnapshot gives it: the pool and the counts only.
  class Companion final : public TrainingRows {
   public:
    explicit Companion(FakeTrainingRows& rows) : rows_(rows) {}
    ~Companion() override { rows_.companions_used += read_pool_; }
    void BeginSnapshot() override { ADD_FAILURE() << "a shared snapshot is begun already"; }
    void EndSnapshot() noexcept override {}
    void ReadMisclassified(const LabelColumns& columns, ClassNames& classes,
                           const std::function<void(const LabeledText&)>& on_row) override {
      rows_.ReadMisclassified(columns, classes, on_row);
    }
    void ReadCorrectPool(const LabelColumns& columns, ClassNames& classes,
                         const std::function<void(const PoolEntry&)>& on_entry) override {
      read_pool_ = true;
      rows_.ReadCorrectPool(columns, classes, on_entry);
    }
    void ReadMessages(std::span<const int64_t>, const std::function<void(size_t, std::string_view)>&) override {
      ADD_FAILURE() << "the messages are read by the first reader";
    }
    int64_t CountMisclassified(const LabelColumns& columns) override { return rows_.CountMisclassified(columns); }

   private:
    FakeTrainingRows& rows_;
    bool read_pool_ = false;
  };

  bool in_snapshot_ = false;
};

const std::vector<std::string> kUrgencyNames = {"NORMAL", "URGENT", "HIGHLY URGENT"};
const LabelColumns kUrgency = LabelColumns::Defaults("urgency");

// Where the datasets of these tests spool their rows (each spool file is unlinked at once).
const fs::path& SpoolDir() {
  static const TempDir dir("orch-prepare-spool");
  return dir.path();
}

Dataset Build(FakeTrainingRows& rows, double ratio = 0.5, int64_t seed = 42) {
  return BuildDataset(rows, kUrgency, LabelMap::Initial("urgency"), {ratio, seed}, SpoolDir());
}

// A line of a split file, as the dataset hands it to the publisher.
struct Line {
  std::string escaped;  // as it goes into the file
  int64_t label = 0;
  std::string text() const { return nlohmann::json::parse("\"" + escaped + "\"").get<std::string>(); }
  bool operator==(const Line&) const = default;
};

// The lines of each split, in file order.
struct Lines : SplitSink {
  void Add(Split split, std::string_view escaped_text, int64_t label) override {
    (split == Split::kTrain        ? train
     : split == Split::kValidation ? validation
                                   : test)
        .push_back({std::string(escaped_text), label});
    if (heap) heap->Sample();
  }
  std::vector<Line> All() const {
    std::vector<Line> all = train;
    all.insert(all.end(), validation.begin(), validation.end());
    all.insert(all.end(), test.begin(), test.end());
    return all;
  }
  std::vector<Line> train, validation, test;
  testing::HeapPeak* heap = nullptr;
};

Lines LinesOf(const Dataset& dataset) {
  Lines lines;
  dataset.rows->WriteTo(lines);
  return lines;
}

std::multiset<std::string> TextsOf(const std::vector<Line>& lines) {
  std::multiset<std::string> texts;
  for (const Line& line : lines) texts.insert(line.text());
  return texts;
}

// Text -> class id, for lines whose texts are distinct.
std::map<std::string, int64_t> LabelsByText(const std::vector<Line>& lines) {
  std::map<std::string, int64_t> labels;
  for (const Line& line : lines) EXPECT_TRUE(labels.emplace(line.text(), line.label).second) << line.text();
  return labels;
}

TEST(Prepare, TakesEveryMisclassifiedRowWithItsCorrectedLabelAndASampleOfThePool) {
  FakeTrainingRows rows;
  rows.misclassified = {{"URGENT", "<p>पानी\nआएन</p> http://x.y"}, {"HIGHLY URGENT", "  fire  "}, {"NORMAL", "road"}};
  rows.AddPool(50, kUrgencyNames);
  const Dataset dataset = Build(rows, 1.0);
  EXPECT_EQ(rows.snapshots, 1);
  EXPECT_EQ(dataset.label, "urgency");
  EXPECT_EQ(dataset.size(), 6);
  const std::map<std::string, int64_t> labels = LabelsByText(LinesOf(dataset).All());
  ASSERT_EQ(labels.size(), 6u);
  EXPECT_EQ(labels.at("पानी आएन"), 1);  // cleaned; URGENT in the original ids
  EXPECT_EQ(labels.at("fire"), 2);
  EXPECT_EQ(labels.at("road"), 0);
  int sampled = 0;
  for (const auto& [text, label] : labels) {
    if (!text.starts_with("correct complaint ")) continue;
    ++sampled;
    const int64_t id = std::stoll(text.substr(std::string("correct complaint ").size()));
    ASSERT_TRUE(rows.pool.count(id)) << text;
    EXPECT_EQ(label, dataset.label_map.Find(rows.pool.at(id).label));
  }
  EXPECT_EQ(sampled, 3);
  EXPECT_EQ(dataset.sources.misclassified_read, 3);
  EXPECT_EQ(dataset.sources.misclassified, 3);
  EXPECT_EQ(dataset.sources.pool, 50);
  EXPECT_EQ(dataset.sources.correct_wanted, 3);
  EXPECT_EQ(dataset.sources.correct, 3);
  EXPECT_EQ(dataset.sources.dropped, 0);
  EXPECT_EQ(rows.read_ids.size(), 3u);  // texts were read only for the sampled complaints
  EXPECT_EQ(rows.pool_reads, 1);
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
    EXPECT_EQ(dataset.size(), static_cast<int64_t>(c.misclassified) + c.correct);
    EXPECT_EQ(static_cast<int64_t>(LinesOf(dataset).All().size()), dataset.size());
  }
}

TEST(Prepare, TheSameRowsAndSeedGiveTheSameLinesAndAnotherSeedOthers) {
  FakeTrainingRows rows;
  rows.AddMisclassified(200, kUrgencyNames);
  rows.AddPool(1000, kUrgencyNames);
  const Lines first = LinesOf(Build(rows));
  rows.read_ids.clear();
  const Lines again = LinesOf(Build(rows));
  rows.read_ids.clear();
  const Lines other = LinesOf(Build(rows, 0.5, 43));
  EXPECT_EQ(first.train, again.train);
  EXPECT_EQ(first.validation, again.validation);
  EXPECT_EQ(first.test, again.test);
  EXPECT_NE(TextsOf(first.All()), TextsOf(other.All()));  // another sample of the pool
  EXPECT_NE(TextsOf(first.test), TextsOf(other.test));    // another split
}

TEST(Prepare, ReadingThePoolOnASecondReaderOfTheSnapshotChangesNothing) {
  FakeTrainingRows rows;
  rows.AddMisclassified(300, {"HIGHLY URGENT", "NORMAL", "URGENT", "CRITICAL"});
  for (size_t i = 0; i < 300; i += 7) rows.misclassified[i].text = "<br>";  // more than the spare
  rows.AddPool(900, {"LOW", "URGENT", "NORMAL"});
  for (auto& [id, complaint] : rows.pool)
    if (id % 11 == 0) complaint.message = " ";
  const Dataset alone = Build(rows);
  const Lines one_reader = LinesOf(alone);
  EXPECT_EQ(rows.companions_used, 0);
  rows.read_ids.clear();
  rows.share = true;
  const Dataset shared = Build(rows);
  EXPECT_EQ(rows.companions_used, 1);
  const Lines two_readers = LinesOf(shared);
  EXPECT_EQ(two_readers.train, one_reader.train);
  EXPECT_EQ(two_readers.validation, one_reader.validation);
  EXPECT_EQ(two_readers.test, one_reader.test);
  EXPECT_EQ(shared.sources.pool, 900);
  EXPECT_EQ(shared.sources.correct, alone.sources.correct);
  EXPECT_EQ(shared.sources.dropped, alone.sources.dropped);
  EXPECT_EQ(shared.size(), 450) << "the 43 misclassified rows left out were made up for";
  EXPECT_EQ(shared.label_map.ToJson(), alone.label_map.ToJson());
}

TEST(Prepare, TheOrderTheDatabaseHandsTheRowsOverInChangesNothing) {
  FakeTrainingRows rows;
  rows.AddMisclassified(300, {"HIGHLY URGENT", "NORMAL", "URGENT", "CRITICAL"});
  rows.misclassified[10].text = "<br>";
  rows.AddPool(900, kUrgencyNames);
  for (auto& [id, complaint] : rows.pool)
    if (id % 11 == 0) complaint.message = " ";
  const Lines forwards = LinesOf(Build(rows));
  rows.read_ids.clear();
  rows.backwards = true;
  const Dataset dataset = Build(rows);
  const Lines backwards = LinesOf(dataset);
  EXPECT_EQ(backwards.train, forwards.train);
  EXPECT_EQ(backwards.validation, forwards.validation);
  EXPECT_EQ(backwards.test, forwards.test);
  EXPECT_EQ(dataset.sources.dropped, dataset.sources.dropped_no_text);
  EXPECT_GT(dataset.sources.dropped, 1);
}

// The pool is drawn in ascending order of each complaint's draw key: the sample is the first rows of
// that order that can be used, and the rows before them that cannot are the ones left out.
TEST(Prepare, TheSampleIsTheFirstUsableRowsOfTheSeededDrawOrder) {
  FakeTrainingRows rows;
  rows.AddMisclassified(100, kUrgencyNames);
  rows.AddPool(400, kUrgencyNames);
  for (auto& [id, complaint] : rows.pool) {
    if (id % 5 == 0) complaint.message = "<br>";
    if (id % 7 == 0) complaint.label = "";
  }
  const Dataset dataset = Build(rows, 0.5, 9);
  std::vector<std::pair<uint64_t, int64_t>> order;
  const RowKeys keys(9);
  for (const auto& [id, complaint] : rows.pool) order.push_back({keys.Draw(id), id});
  std::sort(order.begin(), order.end());
  std::multiset<std::string> expected;
  int64_t left_out = 0, no_text = 0;
  for (const auto& [key, id] : order) {
    if (expected.size() == 50) break;
    const bool has_label = id % 7 != 0, has_text = id % 5 != 0;
    if (has_label && has_text) {
      expected.insert(rows.pool.at(id).message);
    } else {
      ++left_out;
      no_text += has_label && !has_text;
    }
  }
  std::multiset<std::string> sampled;
  for (const std::string& text : TextsOf(LinesOf(dataset).All()))
    if (text.starts_with("correct complaint")) sampled.insert(text);
  EXPECT_EQ(sampled, expected);
  EXPECT_EQ(dataset.sources.dropped, left_out);
  EXPECT_EQ(dataset.sources.dropped_no_text, no_text);
  EXPECT_GT(left_out, 0);
}

TEST(Prepare, ADrawThatNeedsMoreRowsThanItForesawReadsThePoolAgain) {
  FakeTrainingRows rows;
  rows.AddMisclassified(100, kUrgencyNames);  // 50 wanted: 66 candidates gathered
  rows.AddPool(2000, kUrgencyNames);
  for (auto& [id, complaint] : rows.pool)
    if (id % 20 != 0) complaint.message = " \n";  // one in twenty has text: 100 usable
  const Dataset dataset = Build(rows);
  EXPECT_EQ(dataset.sources.correct, 50);
  EXPECT_GT(rows.pool_reads, 1);
  EXPECT_EQ(dataset.sources.pool, 2000);
  EXPECT_EQ(dataset.sources.dropped, dataset.sources.dropped_no_text);
  EXPECT_EQ(static_cast<int64_t>(rows.read_ids.size()), 50 + dataset.sources.dropped) << "each drawn row read once";
  EXPECT_EQ(CountedRowsDropped(dataset.sources), 0);
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
  for (const Line& line : LinesOf(dataset).All()) EXPECT_FALSE(line.text().empty());
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
  EXPECT_EQ(TextsOf(LinesOf(dataset).All()), (std::multiset<std::string>{"ok", "fine"}));
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
  EXPECT_EQ(dataset.size(), 15);
  EXPECT_EQ(sources.dropped, 4);
  EXPECT_EQ(sources.dropped_no_text, 3);
  EXPECT_EQ(CountedRowsDropped(sources), 0);
  EXPECT_EQ(RowsReplaced(sources), 4);
  const std::vector<Line> lines = LinesOf(dataset).All();
  EXPECT_EQ(lines.size(), 15u);
  for (const Line& line : lines) EXPECT_FALSE(line.text().empty());
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
  EXPECT_EQ(dataset.size(), 13);
  EXPECT_EQ(sources.dropped, 3);
  EXPECT_EQ(CountedRowsDropped(sources), 2) << "published 13 + dropped 2 = the 15 the pass counted";
  EXPECT_EQ(RowsReplaced(sources), 1);
}

TEST(Prepare, NewClassesGetNewIdsAndStoredIdsAreKept) {
  FakeTrainingRows rows;
  rows.misclassified = {{"URGENT", "a"}, {"CRITICAL", "b"}, {"LOW", "c"}};
  const Dataset dataset =
      BuildDataset(rows, kUrgency, LabelMap::Parse(R"({"URGENT": 7, "NORMAL": 2})", "x"), {0, 42}, SpoolDir());
  // CRITICAL and LOW in byte order after 7.
  EXPECT_EQ(LabelsByText(LinesOf(dataset).All()), (std::map<std::string, int64_t>{{"a", 7}, {"b", 8}, {"c", 9}}));
  EXPECT_EQ(dataset.label_map.Find("NORMAL"), 2);  // kept although no row uses it
  EXPECT_EQ(dataset.classes.size(), 3u);
}

TEST(Prepare, EveryClassIsSplitAsStratifiedSplitSays) {
  FakeTrainingRows rows;
  const std::map<std::string, size_t> sizes = {{"one", 1},      {"five", 5},  {"six", 6},    {"fifteen", 15},
                                               {"sixteen", 16}, {"many", 57}, {"more", 400}, {"most", 1203}};
  for (const auto& [name, count] : sizes)
    for (size_t i = 0; i < count; ++i) rows.misclassified.push_back({name, name + " " + std::to_string(i)});
  const Dataset dataset = BuildDataset(rows, kUrgency, LabelMap(), {0, 42}, SpoolDir());
  const Lines lines = LinesOf(dataset);
  std::map<int64_t, SplitSizes> counted;
  for (const Line& line : lines.train) ++counted[line.label].train;
  for (const Line& line : lines.validation) ++counted[line.label].validation;
  for (const Line& line : lines.test) ++counted[line.label].test;
  for (const auto& [name, count] : sizes) {
    const int64_t id = dataset.label_map.Find(name).value();
    const SplitSizes expected = ClassSplitSizes(count);
    EXPECT_EQ(counted[id].train, expected.train) << name;
    EXPECT_EQ(counted[id].validation, expected.validation) << name;
    EXPECT_EQ(counted[id].test, expected.test) << name;
    EXPECT_EQ(dataset.classes.at(id).train, expected.train) << name;
    EXPECT_EQ(dataset.classes.at(id).validation, expected.validation) << name;
    EXPECT_EQ(dataset.classes.at(id).test, expected.test) << name;
  }
  const std::multiset<std::string> texts = TextsOf(lines.All());
  EXPECT_EQ(texts.size(), 1703u);
  EXPECT_EQ(std::set<std::string>(texts.begin(), texts.end()).size(), 1703u) << "every row once";
}

TEST(Prepare, SplitsInterleaveTheirClasses) {
  FakeTrainingRows rows;
  rows.AddMisclassified(1000, {"NORMAL", "URGENT"});  // read alternately; sorted by class, they would be in blocks
  for (size_t i = 0; i < 1000; ++i) rows.misclassified[i].correct = i < 500 ? "NORMAL" : "URGENT";
  const Lines lines = LinesOf(Build(rows, 0));
  std::map<int64_t, int> head;
  for (size_t i = 0; i < 400; ++i) ++head[lines.train[i].label];
  EXPECT_GT(head[0], 100);
  EXPECT_GT(head[1], 100);
}

// The worker streams: the texts go through a scratch file, and the memory it takes while reading
// and writing stays far below the texts' size.
TEST(Prepare, BuildingAndWritingADatasetHoldsNoTextInMemory) {
  FakeTrainingRows rows;
  const std::string long_text(2000, 'x');
  for (int i = 0; i < 20000; ++i)
    rows.misclassified.push_back({kUrgencyNames[i % 3], std::to_string(i) + " " + long_text});  // 40 MB of text
  for (int i = 0; i < 10000; ++i) rows.pool[100000 + i] = {kUrgencyNames[i % 3], std::to_string(i) + long_text};
  testing::HeapPeak heap;
  rows.heap = &heap;
  const Dataset dataset = Build(rows);
  struct Counting : SplitSink {
    void Add(Split, std::string_view text, int64_t) override {
      ++lines;
      bytes += text.size();
      heap->Sample();
    }
    size_t lines = 0, bytes = 0;
    testing::HeapPeak* heap = nullptr;
  } counting;
  counting.heap = &heap;
  dataset.rows->WriteTo(counting);
  EXPECT_EQ(counting.lines, 30000u);
  EXPECT_GT(counting.bytes, 60'000'000u);
  EXPECT_LT(heap.growth(), 16u << 20) << "the texts, 60 MB, were held in memory";
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
  for (const fs::directory_entry& entry : fs::directory_iterator(hub.path() / "urgency"))
    EXPECT_FALSE(entry.path().filename().string().starts_with(".prepare-spool")) << "the scratch file has no name";
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

// Complaints with texts that clean to nothing, quotes, backslashes, line breaks and Unicode, and
// misclassified rows among them, loaded in bulk: the same rows whichever engine.
void FillSameRows(testing::AppDatabase& db) {
  db.CreateSchema();
  int64_t id = 0;
  db.BulkInsert("complaints", {"id", "department", "urgency", "message"}, [&](testing::AppDatabase::BulkRow& row) {
    if (++id > 6000) return false;
    const char* shapes[] = {"<b>विद्यालयको</b> छाना\nचुहिन्छ www.school.np ", "say \"hi\" \\ bye\t", " \n ",
                            "road <br/> broken", "https://only.a/link"};
    row = {std::to_string(id), testing::kDepartments[id % 4], testing::kUrgencies[id % 3],
           std::string(shapes[id % 5]) + (id % 5 == 2 || id % 5 == 4 ? "" : " " + std::to_string(id))};
    return true;
  });
  int64_t complaint = 0;
  db.BulkInsert(
      "misclassified_complaints", {"complaint_id", "model_predicted_department", "correct_department", "reviewed"},
      [&](testing::AppDatabase::BulkRow& row) {
        complaint += 3;  // every third complaint, a few twice
        if (complaint > 6000) return false;
        row = {std::to_string(complaint % 999 == 0 ? complaint - 3 : complaint),
               testing::kDepartments[(complaint / 3 + 1) % 4], testing::kDepartments[(complaint / 3) % 4], "1"};
        return true;
      });
}

TEST(Prepare, TheSameRowsGiveTheSameFilesOnSqliteAndPostgres) {
  ORCH_REQUIRE_POSTGRES();
  TempDir dir;
  auto sqlite = testing::AppDatabase::Sqlite(dir.File("app.db"));
  auto postgres = testing::AppDatabase::Postgres();
  FillSameRows(*sqlite);
  FillSameRows(*postgres);
  const LabelColumns department = LabelColumns::Defaults("department");
  const auto now = std::chrono::system_clock::now();
  fs::create_directory(dir.path() / "sqlite");
  fs::create_directory(dir.path() / "postgres");
  const PreparedLabel a =
      PrepareLabel(*OpenTrainingRows(sqlite->database_url()), department, dir.path() / "sqlite", {0.5, 42}, now);
  const PreparedLabel b =
      PrepareLabel(*OpenTrainingRows(postgres->database_url()), department, dir.path() / "postgres", {0.5, 42}, now);
  EXPECT_EQ(a.sources.misclassified_read, 2000);
  EXPECT_EQ(a.sources.pool, 4006);
  EXPECT_GT(a.sources.dropped_no_text, 0);
  EXPECT_EQ(a.version.num_samples, 3000) << "the rows left out were made up for";
  EXPECT_EQ(b.version.num_samples, a.version.num_samples);
  for (const char* split : {"data/train.jsonl", "data/validation.jsonl", "data/test.jsonl"}) {
    const std::string from_sqlite = ReadFile((dir.path() / "sqlite" / "department" / split).string());
    EXPECT_FALSE(from_sqlite.empty());
    EXPECT_TRUE(from_sqlite == ReadFile((dir.path() / "postgres" / "department" / split).string())) << split;
  }
  EXPECT_EQ(ReadFile((dir.path() / "sqlite" / "department" / "README.md").string()),
            ReadFile((dir.path() / "postgres" / "department" / "README.md").string()));
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
