#include "workers/dataset_publisher.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "hub/hub.h"
#include "hub/local_repository.h"
#include "support/temp_dir.h"
#include "util/error.h"
#include "workers/jsonl_dataset.h"
#include "workers/split_line.h"

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

// Rows held in memory: texts[i] with class id labels[i], each split's row indices in file order.
struct TestRows final : DatasetRows {
  std::vector<std::string> texts;
  std::vector<int64_t> labels;
  std::vector<size_t> train, validation, test;
  void WriteTo(SplitSink& sink) const override {
    const std::pair<Split, const std::vector<size_t>*> splits[] = {
        {Split::kTrain, &train}, {Split::kValidation, &validation}, {Split::kTest, &test}};
    std::string escaped;
    for (const auto& [split, rows] : splits)
      for (size_t row : *rows) {
        escaped.clear();
        AppendJsonEscaped(texts[row], escaped);
        sink.Add(split, escaped, labels[row]);
      }
  }
};

// Six rows of urgency: four NORMAL (id 0), two URGENT (id 1); rows 0..3 train, 4 validation, 5 test.
TestRows SmallRows() {
  TestRows rows;
  rows.texts = {"पानी आएन", "say \"hi\" \\ bye", "street light", "road", "fire now", "flood"};
  rows.labels = {0, 0, 0, 0, 1, 1};
  rows.train = {3, 1, 0, 2};
  rows.validation = {4};
  rows.test = {5};
  return rows;
}

Dataset DatasetOf(const TestRows& rows, LabelMap label_map = LabelMap::Initial("urgency")) {
  Dataset dataset;
  dataset.label = "urgency";
  dataset.label_map = std::move(label_map);
  for (size_t row : rows.train) ++dataset.classes[rows.labels[row]].train;
  for (size_t row : rows.validation) ++dataset.classes[rows.labels[row]].validation;
  for (size_t row : rows.test) ++dataset.classes[rows.labels[row]].test;
  dataset.rows = std::make_unique<TestRows>(rows);
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

Dataset SmallDataset() { return DatasetOf(SmallRows()); }

std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

TEST(DatasetPublisher, FormatsVersionTagsAndTimesInUtc) {
  EXPECT_EQ(VersionTag(TestTime()), "v20261126_101502");
  EXPECT_EQ(CreatedAt(TestTime()), "2026-11-26T10:15:02.110260+00:00");
  EXPECT_EQ(CreatedAt(TestTime() - std::chrono::microseconds(110260)), "2026-11-26T10:15:02.000000+00:00");
}

const CardSettings kCard{{"ne", "en"}};

// A local repository that fails one step, as a full disk or a killed process would.
class FailingRepository final : public Repository {
 public:
  enum class Step { kDataCommit, kMetadataCommit, kTag };
  FailingRepository(fs::path directory, Step step) : local_(std::move(directory)), step_(step) {}

  std::string Name() const override { return local_.Name(); }
  void CreateIfMissing() override { local_.CreateIfMissing(); }
  std::optional<std::string> HeadOf(const std::string& revision) override { return local_.HeadOf(revision); }
  std::string Commit(const CommitRequest& request) override {
    const bool metadata = request.additions.size() == 1 && request.additions[0].path == "dataset_metadata.json";
    if (step_ == (metadata ? Step::kMetadataCommit : Step::kDataCommit))
      throw RepositoryError(Name(), "commit to main", "No space left on device");
    return local_.Commit(request);
  }
  void CreateTag(const std::string& tag, const std::string& revision) override {
    if (step_ == Step::kTag) throw RepositoryError(Name(), "create the tag " + tag, "the process was killed");
    local_.CreateTag(tag, revision);
  }
  void CreateBranch(const std::string& branch, const std::string& revision) override {
    local_.CreateBranch(branch, revision);
  }
  std::optional<std::string> ReadFile(const std::string& revision, const std::string& path,
                                      uint64_t max_bytes) override {
    return local_.ReadFile(revision, path, max_bytes);
  }
  bool DownloadFile(const std::string& revision, const std::string& path, const fs::path& target) override {
    return local_.DownloadFile(revision, path, target);
  }
  std::vector<RepositoryFile> ListFiles(const std::string& revision) override { return local_.ListFiles(revision); }

 private:
  LocalRepository local_;
  Step step_;
};

class DatasetPublisherTest : public ::testing::Test {
 protected:
  fs::path Dir() const { return hub_.path() / "urgency"; }
  fs::path Scratch() const { return hub_.path() / "scratch"; }
  PublishedVersion Publish(Repository& repository, const Dataset& dataset, int seconds_later = 0) {
    return PublishDataset(repository, dataset, Scratch(), kCard, TestTime() + std::chrono::seconds(seconds_later));
  }
  PublishedVersion Publish(const Dataset& dataset = SmallDataset(), int seconds_later = 0) {
    return Publish(repository_, dataset, seconds_later);
  }
  std::string Read(const std::string& revision, const std::string& path) {
    return repository_.ReadFile(revision, path, 1 << 20).value_or("<missing>");
  }
  // The parent of `commit`, from its record.
  std::string ParentOf(const std::string& commit) {
    return nlohmann::json::parse(ReadFile((Dir() / ".repo" / "commits" / commit / "commit.json").string()))["parent"];
  }

  TempDir hub_{"orch-publish"};
  LocalRepository repository_{hub_.path() / "urgency"};
};

TEST_F(DatasetPublisherTest, PublishesTheDataThenTheMetadataThenTheTag) {
  const Dataset dataset = SmallDataset();
  const PublishedVersion version = Publish(dataset);
  EXPECT_EQ(version.version_tag, "v20261126_101502");
  EXPECT_EQ(version.repository, Dir().string());
  EXPECT_EQ(version.num_samples, 6);
  EXPECT_EQ(version.splits.train, 4u);
  EXPECT_EQ(version.splits.validation, 1u);
  EXPECT_EQ(repository_.HeadOf("main"), version.commit);
  EXPECT_EQ(repository_.HeadOf("v20261126_101502"), version.commit) << "the tag is on the metadata's commit";

  std::vector<std::string> paths;
  for (const RepositoryFile& file : repository_.ListFiles(version.version_tag)) paths.push_back(file.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"README.md", "data/test.jsonl", "data/train.jsonl",
                                             "data/validation.jsonl", "dataset_metadata.json", "labels.json"}));
  // The data came first, in a commit of its own without the metadata.
  const std::string data_commit = ParentOf(version.commit);
  EXPECT_EQ(repository_.ReadFile(data_commit, "dataset_metadata.json", 1 << 20), std::nullopt);
  EXPECT_EQ(Read(data_commit, "data/train.jsonl"), Read(version.version_tag, "data/train.jsonl"));

  const std::string metadata_text = Read(version.version_tag, "dataset_metadata.json");
  EXPECT_EQ(nlohmann::json::parse(metadata_text), nlohmann::json::parse(R"({"dataset_name": "urgency",
      "version_tag": "v20261126_101502", "label_column": "label", "num_samples": 6,
      "splits": {"train": 4, "validation": 1, "test": 1}, "created_at": "2026-11-26T10:15:02.110260+00:00",
      "rows_dropped": 1, "rows_left_out": {"no_text": 1, "no_label": 0, "replaced": 0}})"));
  const MetadataRead read = ParseMetadata(metadata_text);  // what the orchestrator polls
  ASSERT_EQ(read.status, MetadataRead::Status::kOk) << read.detail;
  EXPECT_EQ(read.metadata->version_tag, "v20261126_101502");
  EXPECT_EQ(read.metadata->rows_dropped, 1) << "5 misclassified + 2 correct counted, 6 published";
  // Main's files are in the label's directory, where file://HUB/urgency/dataset_metadata.json reads them.
  EXPECT_EQ(ReadFile((Dir() / "dataset_metadata.json").string()), metadata_text);
  EXPECT_EQ(ReadFile((Dir() / "labels.json").string()), dataset.label_map.ToJson());

  // Lines in split order, the text intact (Unicode, quotes, backslashes).
  const auto train = JsonLines(Read(version.version_tag, "data/train.jsonl"));
  ASSERT_EQ(train.size(), 4u);
  EXPECT_EQ(train[0], nlohmann::json::parse(R"({"grievance": "road", "label": 0})"));
  EXPECT_EQ(train[1]["grievance"], "say \"hi\" \\ bye");
  EXPECT_EQ(train[2]["grievance"], "पानी आएन");
  EXPECT_EQ(Read(version.version_tag, "data/train.jsonl").find("\\u"), std::string::npos);  // UTF-8, not escapes
  EXPECT_EQ(JsonLines(Read(version.version_tag, "data/validation.jsonl"))[0],
            nlohmann::json::parse(R"({"grievance": "fire now", "label": 1})"));
  EXPECT_EQ(JsonLines(Read(version.version_tag, "data/test.jsonl")).size(), 1u);
  EXPECT_EQ(Read(version.version_tag, "labels.json"), dataset.label_map.ToJson());

  const std::string card = Read(version.version_tag, "README.md");
  EXPECT_TRUE(card.starts_with("---\nlanguage:\n- ne\n- en\ntask_categories:\n- text-classification\n")) << card;
  EXPECT_NE(card.find("          \"2\": \"HIGHLY URGENT\"\n"), std::string::npos) << card;
  EXPECT_NE(card.find("  - name: validation\n    num_examples: 1\n"), std::string::npos) << card;
  EXPECT_NE(card.find("---\n\n# urgency dataset v20261126_101502"), std::string::npos) << card;
  EXPECT_NE(card.find("| class | id | train | validation | test | total |"), std::string::npos) << card;
  EXPECT_NE(card.find("| NORMAL | 0 | 4 | 0 | 0 | 4 |"), std::string::npos) << card;
  EXPECT_NE(card.find("| URGENT | 1 | 0 | 1 | 1 | 2 |"), std::string::npos) << card;
  EXPECT_NE(card.find("PREPARE_SEED=42, CORRECT_RATIO=0.5"), std::string::npos) << card;
  EXPECT_NE(card.find("| left out: no text after cleaning | 1 |"), std::string::npos) << card;
  EXPECT_NE(card.find("The orchestrator counts 7 rows for this data; 1 of them"), std::string::npos) << card;
  EXPECT_FALSE(fs::exists(Scratch())) << "the split files were written there and committed from there";
}

TEST_F(DatasetPublisherTest, AVersionNameIsNeverUsedTwice) {
  const PublishedVersion first = Publish();
  EXPECT_EQ(Publish().version_tag, "v20261126_101502_2");
  // A tag of that name, whoever made it, holds the name.
  repository_.CreateTag("v20261126_101502_3", "main");
  const PublishedVersion fourth = Publish();
  EXPECT_EQ(fourth.version_tag, "v20261126_101502_4");
  EXPECT_EQ(nlohmann::json::parse(ReadFile((Dir() / "dataset_metadata.json").string()))["version_tag"],
            "v20261126_101502_4");
  EXPECT_THROW(repository_.CreateTag(first.version_tag, "main"), TagExistsError);
  EXPECT_EQ(repository_.HeadOf(first.version_tag), first.commit);
  // The same splits again cost no copy: the files are the first version's.
  struct stat a {
  }, b{};
  ASSERT_EQ(::stat(repository_.StoredFile(first.commit, "data/train.jsonl").c_str(), &a), 0);
  ASSERT_EQ(::stat(repository_.StoredFile(fourth.commit, "data/train.jsonl").c_str(), &b), 0);
  EXPECT_EQ(a.st_ino, b.st_ino);
}

// Another six rows, so a version of them can be told from SmallDataset's.
Dataset OtherDataset() {
  TestRows rows = SmallRows();
  for (std::string& text : rows.texts) text += " again";
  return DatasetOf(rows);
}

TEST_F(DatasetPublisherTest, AFailureBeforeTheMetadataLeavesItNamingTheOldVersionWhoseFilesAreThere) {
  const PublishedVersion first = Publish();
  const std::string metadata_before = ReadFile((Dir() / "dataset_metadata.json").string());
  for (const auto step : {FailingRepository::Step::kDataCommit, FailingRepository::Step::kMetadataCommit}) {
    FailingRepository failing(Dir(), step);
    try {
      Publish(failing, OtherDataset(), 1);
      FAIL() << "published through a failing step";
    } catch (const RepositoryError& error) {
      EXPECT_NE(std::string(error.what()).find("No space left on device"), std::string::npos) << error.what();
    }
    EXPECT_EQ(ReadFile((Dir() / "dataset_metadata.json").string()), metadata_before);
    EXPECT_EQ(Read("main", "dataset_metadata.json"), metadata_before);
    EXPECT_EQ(repository_.HeadOf("v20261126_101503"), std::nullopt);
    EXPECT_FALSE(fs::exists(Scratch()));
    // A reader of the latest version reads the old one, at its tag, whatever main's data is now.
    const TextDataset read = ReadTextDataset(Dir(), "urgency");
    EXPECT_EQ(read.version_tag, first.version_tag);
    EXPECT_EQ(read.commit, first.commit);
    EXPECT_EQ(read.train[0].text, "road");
  }
  EXPECT_EQ(Read("main", "data/train.jsonl").find("road again") != std::string::npos, true)
      << "the data commit of the second try landed; nothing names it";
  const PublishedVersion next = Publish(OtherDataset(), 2);
  EXPECT_EQ(next.version_tag, "v20261126_101504");
  EXPECT_EQ(ReadTextDataset(Dir(), "urgency").train[0].text, "road again");
}

TEST_F(DatasetPublisherTest, AVersionWhoseTagWasNotSetIsNotReadAndIsTaggedByTheNextPublication) {
  Publish();
  FailingRepository failing(Dir(), FailingRepository::Step::kTag);
  EXPECT_THROW(Publish(failing, OtherDataset(), 1), RepositoryError);
  const std::optional<std::string> head = repository_.HeadOf("main");
  EXPECT_EQ(repository_.HeadOf("v20261126_101503"), std::nullopt);
  EXPECT_EQ(nlohmann::json::parse(ReadFile((Dir() / "dataset_metadata.json").string()))["version_tag"],
            "v20261126_101503");
  EXPECT_THROW(ReadTextDataset(Dir(), "urgency"), WorkerError) << "no training on a version without its tag";

  const PublishedVersion next = Publish(SmallDataset(), 2);
  EXPECT_EQ(repository_.HeadOf("v20261126_101503"), head) << "tagged where its metadata landed, before anything else";
  EXPECT_EQ(next.version_tag, "v20261126_101504");
  EXPECT_EQ(ReadTextDataset(Dir(), "urgency", "v20261126_101503").train[0].text, "road again");
}

TEST_F(DatasetPublisherTest, IdsWithoutAClassAreNamedInTheCardAndIdsTooLargeStopEverything) {
  TestRows rows = SmallRows();
  rows.labels = {0, 0, 0, 0, 3, 3};
  const PublishedVersion version = Publish(DatasetOf(rows, LabelMap::Parse(R"({"NORMAL": 0, "URGENT": 3})", "test")));
  const std::string card = Read(version.version_tag, "README.md");
  EXPECT_NE(card.find("          \"1\": unused_id_1\n          \"2\": unused_id_2\n          \"3\": URGENT\n"),
            std::string::npos)
      << card;

  rows.labels = {0, 0, 0, 0, 2000000, 2000000};
  EXPECT_THROW(Publish(DatasetOf(rows, LabelMap::Parse(R"({"NORMAL": 0, "URGENT": 2000000})", "test")), 1),
               WorkerError);
  EXPECT_EQ(repository_.HeadOf("main"), version.commit) << "nothing committed";
}

TEST_F(DatasetPublisherTest, RowsThatDoNotAddUpToTheSplitSizesStopEverything) {
  const PublishedVersion version = Publish();
  Dataset short_of_a_row = SmallDataset();
  ++short_of_a_row.classes[1].test;  // says 2 test rows; the rows hold 1
  try {
    Publish(short_of_a_row, 1);
    FAIL() << "published rows that do not match the split sizes";
  } catch (const WorkerError& error) {
    EXPECT_NE(std::string(error.what()).find("came to 4/1/1 train/validation/test rows where its classes count 4/1/2"),
              std::string::npos)
        << error.what();
  }
  EXPECT_EQ(repository_.HeadOf("main"), version.commit) << "nothing committed";
  EXPECT_FALSE(fs::exists(Scratch()));
}

TEST_F(DatasetPublisherTest, LinesAreCompactJsonInTheRowsOrder) {
  const PublishedVersion version = Publish();
  EXPECT_EQ(Read(version.version_tag, "data/train.jsonl"),
            "{\"grievance\":\"road\",\"label\":0}\n"
            "{\"grievance\":\"say \\\"hi\\\" \\\\ bye\",\"label\":0}\n"
            "{\"grievance\":\"पानी आएन\",\"label\":0}\n"
            "{\"grievance\":\"street light\",\"label\":0}\n");
}

TEST(DatasetPublisher, LanguagesAreCodes) {
  EXPECT_EQ(ParseLanguages("ne,en"), (std::vector<std::string>{"ne", "en"}));
  EXPECT_EQ(ParseLanguages(" ne , en,,ne "), (std::vector<std::string>{"ne", "en"}));
  EXPECT_TRUE(ParseLanguages("").empty());
  try {
    ParseLanguages("ne,Nepali");
    FAIL();
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("DATASET_LANGUAGES: \"Nepali\" is not a language code"), std::string::npos)
        << error.what();
  }
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
    RequireHubDirectory(dir.path() / "file");
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
