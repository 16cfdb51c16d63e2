#include "workers/dataset_publisher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "hub/hub.h"
#include "support/temp_dir.h"
#include "util/error.h"

namespace orch {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

// 2026-11-26T10:15:02.110260Z
std::chrono::system_clock::time_point TestTime() {
  using namespace std::chrono;
  return sys_days{year{2026} / 11 / 26} + hours{10} + minutes{15} + seconds{2} + microseconds{110260};
}

// Six rows of urgency: four NORMAL (id 0), two URGENT (id 1); rows 0..3 train, 4 eval, 5 test.
Dataset SmallDataset() {
  Dataset dataset;
  dataset.label = "urgency";
  dataset.label_map = LabelMap::Initial("urgency");
  dataset.texts = {"पानी आएन", "say \"hi\" \\ bye", "street light", "road", "fire now", "flood"};
  dataset.labels = {0, 0, 0, 0, 1, 1};
  dataset.splits.train = {3, 1, 0, 2};
  dataset.splits.eval = {4};
  dataset.splits.test = {5};
  dataset.sources = {.misclassified_read = 5,
                     .misclassified = 4,
                     .pool = 9,
                     .correct_wanted = 2,
                     .correct = 2,
                     .dropped = 1,
                     .dropped_no_text = 1,
                     .correct_ratio = 0.5,
                     .seed = 42};
  return dataset;
}

std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

std::vector<std::string> Entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(DatasetPublisher, FormatsVersionTagsAndTimesInUtc) {
  EXPECT_EQ(VersionTag(TestTime()), "v20261126_101502");
  EXPECT_EQ(CreatedAt(TestTime()), "2026-11-26T10:15:02.110260+00:00");
  EXPECT_EQ(CreatedAt(TestTime() - std::chrono::microseconds(110260)), "2026-11-26T10:15:02.000000+00:00");
}

TEST(DatasetPublisher, WritesTheContractsLayoutWithTheMetadataNamingTheVersion) {
  TempDir hub;
  const Dataset dataset = SmallDataset();
  const PublishedVersion version = PublishDataset(hub.path(), dataset, TestTime());
  EXPECT_EQ(version.version_tag, "v20261126_101502");
  EXPECT_EQ(version.path, hub.path() / "urgency" / "v20261126_101502");
  EXPECT_EQ(version.num_samples, 6);
  EXPECT_EQ(version.splits.train, 4u);

  const fs::path label_dir = hub.path() / "urgency";
  EXPECT_EQ(Entries(label_dir), (std::vector<std::string>{"dataset_metadata.json", "labels.json", "v20261126_101502"}));
  EXPECT_EQ(Entries(version.path),
            (std::vector<std::string>{"README.md", "eval.jsonl", "labels.json", "test.jsonl", "train.jsonl"}));

  const std::string metadata_text = ReadFile((label_dir / "dataset_metadata.json").string());
  const nlohmann::json metadata = nlohmann::json::parse(metadata_text);
  EXPECT_EQ(metadata, nlohmann::json::parse(R"({"dataset_name": "urgency", "version_tag": "v20261126_101502",
      "label_column": "label", "num_samples": 6, "splits": {"train": 4, "eval": 1, "test": 1},
      "created_at": "2026-11-26T10:15:02.110260+00:00",
      "rows_dropped": 1, "rows_left_out": {"no_text": 1, "no_label": 0, "replaced": 0}})"));
  const MetadataRead read = ParseMetadata(metadata_text);  // what the orchestrator polls
  ASSERT_EQ(read.status, MetadataRead::Status::kOk) << read.detail;
  EXPECT_EQ(read.metadata->version_tag, "v20261126_101502");
  EXPECT_EQ(read.metadata->num_samples, 6);
  EXPECT_EQ(read.metadata->rows_dropped, 1) << "5 misclassified + 2 correct counted, 6 published";

  // Lines in split order, the text intact (Unicode, quotes, backslashes).
  const auto train = JsonLines(ReadFile((version.path / "train.jsonl").string()));
  ASSERT_EQ(train.size(), 4u);
  EXPECT_EQ(train[0], nlohmann::json::parse(R"({"grievance": "road", "label": 0})"));
  EXPECT_EQ(train[1]["grievance"], "say \"hi\" \\ bye");
  EXPECT_EQ(train[2]["grievance"], "पानी आएन");
  EXPECT_EQ(train[3]["grievance"], "street light");
  EXPECT_EQ(ReadFile((version.path / "train.jsonl").string()).find("\\u"), std::string::npos);  // UTF-8, not escapes
  EXPECT_EQ(JsonLines(ReadFile((version.path / "eval.jsonl").string()))[0],
            nlohmann::json::parse(R"({"grievance": "fire now", "label": 1})"));
  EXPECT_EQ(JsonLines(ReadFile((version.path / "test.jsonl").string())).size(), 1u);

  EXPECT_EQ(ReadFile((version.path / "labels.json").string()), dataset.label_map.ToJson());
  EXPECT_EQ(ReadFile((label_dir / "labels.json").string()), dataset.label_map.ToJson());
  const std::string card = ReadFile((version.path / "README.md").string());
  EXPECT_NE(card.find("# urgency dataset v20261126_101502"), std::string::npos);
  EXPECT_NE(card.find("| NORMAL | 0 | 4 | 0 | 0 | 4 |"), std::string::npos) << card;
  EXPECT_NE(card.find("| URGENT | 1 | 0 | 1 | 1 | 2 |"), std::string::npos) << card;
  EXPECT_NE(card.find("PREPARE_SEED=42, CORRECT_RATIO=0.5"), std::string::npos) << card;
  EXPECT_NE(card.find("| left out: no text after cleaning | 1 |"), std::string::npos) << card;
  EXPECT_NE(card.find("The orchestrator counts 7 rows for this data; 1 of them"), std::string::npos) << card;
}

TEST(DatasetPublisher, VersionsInTheSameSecondGetSuffixes) {
  TempDir hub;
  const Dataset dataset = SmallDataset();
  EXPECT_EQ(PublishDataset(hub.path(), dataset, TestTime()).version_tag, "v20261126_101502");
  EXPECT_EQ(PublishDataset(hub.path(), dataset, TestTime()).version_tag, "v20261126_101502_2");
  // A leftover of a killed prepare holds its name, and the next free one is taken.
  fs::create_directory(hub.path() / "urgency" / "incomplete-v20261126_101502_3");
  EXPECT_EQ(PublishDataset(hub.path(), dataset, TestTime()).version_tag, "v20261126_101502_4");
  const nlohmann::json metadata = nlohmann::json::parse(ReadFile(hub.File("urgency/dataset_metadata.json")));
  EXPECT_EQ(metadata["version_tag"], "v20261126_101502_4");
  EXPECT_EQ(ReadFile(hub.File("urgency/v20261126_101502/train.jsonl")),
            ReadFile(hub.File("urgency/v20261126_101502_2/train.jsonl")));
}

TEST(DatasetPublisher, AFailureBeforeTheMetadataLeavesItAndTheOtherVersionsUntouched) {
  TempDir hub;
  const Dataset dataset = SmallDataset();
  PublishDataset(hub.path(), dataset, TestTime());
  const fs::path label_dir = hub.path() / "urgency";
  const std::string metadata_before = ReadFile((label_dir / "dataset_metadata.json").string());

  // Block the metadata's temporary file (the documented name) with a directory that is not empty:
  // every version file gets written, and then the metadata cannot be.
  const fs::path blocker = label_dir / (".dataset_metadata.json." + std::to_string(::getpid()) + ".tmp");
  fs::create_directory(blocker);
  WriteFile((blocker / "keep").string(), "x");
  try {
    PublishDataset(hub.path(), dataset, TestTime() + std::chrono::seconds(1));
    FAIL() << "publishing succeeded with the metadata blocked";
  } catch (const WorkerError& error) {
    EXPECT_NE(std::string(error.what()).find("dataset_metadata.json"), std::string::npos) << error.what();
  }
  EXPECT_EQ(ReadFile((label_dir / "dataset_metadata.json").string()), metadata_before);
  fs::remove_all(blocker);
  // The half-published version was removed; nothing incomplete is left.
  EXPECT_EQ(Entries(label_dir), (std::vector<std::string>{"dataset_metadata.json", "labels.json", "v20261126_101502"}));
}

TEST(DatasetPublisher, TheHubMustBeAnExistingDirectory) {
  TempDir dir;
  try {
    RequireHubDirectory(dir.path() / "missing");
    FAIL();
  } catch (const WorkerError& error) {
    EXPECT_NE(std::string(error.what()).find("missing does not exist"), std::string::npos) << error.what();
  }
  WriteFile(dir.File("file"), "x");
  try {
    PublishDataset(dir.path() / "file", SmallDataset(), TestTime());
    FAIL();
  } catch (const WorkerError& error) {
    EXPECT_NE(std::string(error.what()).find("is not a directory"), std::string::npos) << error.what();
  }
  EXPECT_NO_THROW(RequireHubDirectory(dir.path()));
}

TEST(DatasetPublisher, OnePrepareAtATimeHoldsALabel) {
  TempDir hub;
  std::optional<LabelDirectoryLock> first;
  first.emplace(hub.path(), "urgency");
  EXPECT_TRUE(fs::is_directory(hub.path() / "urgency"));
  try {
    LabelDirectoryLock second(hub.path(), "urgency");
    FAIL() << "two locks on one label";
  } catch (const WorkerError& error) {
    EXPECT_NE(std::string(error.what()).find("another orchestrator prepare is publishing urgency"), std::string::npos)
        << error.what();
  }
  EXPECT_NO_THROW(LabelDirectoryLock other(hub.path(), "department"));
  first.reset();
  EXPECT_NO_THROW(LabelDirectoryLock again(hub.path(), "urgency"));
}

}  // namespace
}  // namespace orch
