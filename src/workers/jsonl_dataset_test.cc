#include "workers/jsonl_dataset.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "support/temp_dir.h"
#include "util/error.h"
#include "workers/json_text.h"

namespace orch {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

constexpr const char* kLabels = R"({"Infrastructure": 0, "Education": 1, "Security": 2})";

std::string Rows(int count, int first_label = 0) {
  std::string text;
  for (int i = 0; i < count; ++i)
    text += R"({"grievance": "row )" + std::to_string(i) + R"( सडक", "label": )" +
            std::to_string((first_label + i) % 3) + "}\n";
  return text;
}

// HUB/department with a version holding 6/3/3 rows, named by the metadata when `publish` is set.
class JsonlDatasetTest : public ::testing::Test {
 protected:
  fs::path dataset_dir() const { return hub_.path() / "department"; }
  fs::path version_dir(const std::string& version) const { return dataset_dir() / version; }

  void MakeVersion(const std::string& version, bool publish = true) {
    fs::create_directories(version_dir(version));
    WriteFile((version_dir(version) / "labels.json").string(), kLabels);
    WriteFile((version_dir(version) / "train.jsonl").string(), Rows(6));
    WriteFile((version_dir(version) / "eval.jsonl").string(), Rows(3, 1));
    WriteFile((version_dir(version) / "test.jsonl").string(), Rows(3, 2));
    if (publish) Publish(version);
  }

  void Publish(const std::string& version, const std::string& name = "department") {
    WriteFile((dataset_dir() / "dataset_metadata.json").string(),
              R"({"dataset_name": ")" + name + R"(", "version_tag": ")" + version +
                  R"(", "label_column": "label", "num_samples": 12, "splits": {"train": 6, "eval": 3, "test": 3},
                  "created_at": "2026-11-26T10:15:02.110260+00:00"})");
  }

  // The WorkerError message reading the latest version gives.
  std::string ReadError(const std::optional<std::string>& version = std::nullopt) {
    try {
      ReadTextDataset(dataset_dir(), "department", version);
    } catch (const WorkerError& error) {
      return error.what();
    }
    ADD_FAILURE() << "the dataset was read without an error";
    return "";
  }

  TempDir hub_{"orch-jsonl"};
};

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST_F(JsonlDatasetTest, ReadsTheVersionTheMetadataNames) {
  MakeVersion("v20261126_090000");
  MakeVersion("v20261126_101502");
  TextDataset dataset = ReadTextDataset(dataset_dir(), "department");
  EXPECT_EQ(dataset.version_tag, "v20261126_101502");
  EXPECT_EQ(dataset.directory, version_dir("v20261126_101502"));
  ASSERT_EQ(dataset.train.size(), 6u);
  EXPECT_EQ(dataset.eval.size(), 3u);
  EXPECT_EQ(dataset.test.size(), 3u);
  EXPECT_EQ(dataset.train[4].text, "row 4 सडक");
  EXPECT_EQ(dataset.train[4].label, 1);
  EXPECT_EQ(dataset.classes, (ClassNamesById{{0, "Infrastructure"}, {1, "Education"}, {2, "Security"}}));
  EXPECT_EQ(LatestDatasetVersion(dataset_dir(), "department"), "v20261126_101502");
}

TEST_F(JsonlDatasetTest, AVersionCanBeChosen) {
  MakeVersion("v20261126_090000");
  MakeVersion("v20261126_101502");
  EXPECT_EQ(ReadTextDataset(dataset_dir(), "department", "v20261126_090000").version_tag, "v20261126_090000");
}

TEST_F(JsonlDatasetTest, AChosenVersionNeedsNoMetadata) {
  MakeVersion("v1", false);
  EXPECT_EQ(ReadTextDataset(dataset_dir(), "department", "v1").train.size(), 6u);
  EXPECT_TRUE(Contains(ReadError(), "dataset_metadata.json is missing"));
}

TEST_F(JsonlDatasetTest, ALastLineWithoutNewlineIsFineWhenComplete) {
  MakeVersion("v1");
  std::string train = Rows(6);
  train.pop_back();
  WriteFile((version_dir("v1") / "train.jsonl").string(), train);
  EXPECT_EQ(ReadTextDataset(dataset_dir(), "department").train.size(), 6u);
}

TEST_F(JsonlDatasetTest, WindowsLineEndsAreAccepted) {
  MakeVersion("v1");
  WriteFile((version_dir("v1") / "eval.jsonl").string(),
            "{\"grievance\": \"a\", \"label\": 0}\r\n{\"grievance\": \"b\", \"label\": 1}\r\n{\"grievance\": \"c\", "
            "\"label\": 2}\r\n");
  EXPECT_EQ(ReadTextDataset(dataset_dir(), "department").eval[2].text, "c");
}

TEST_F(JsonlDatasetTest, ATruncatedFileNamesItsLastLine) {
  MakeVersion("v1");
  std::string train = Rows(6);
  WriteFile((version_dir("v1") / "train.jsonl").string(), train.substr(0, train.size() - 12));
  std::string message = ReadError();
  EXPECT_TRUE(Contains(message, (version_dir("v1") / "train.jsonl").string() + " line 6")) << message;
  EXPECT_TRUE(Contains(message, "cut short")) << message;
  EXPECT_TRUE(Contains(message, "orchestrator prepare")) << message;
}

TEST_F(JsonlDatasetTest, ABrokenLineInsideTheFileIsNamed) {
  MakeVersion("v1");
  WriteFile((version_dir("v1") / "test.jsonl").string(),
            "{\"grievance\": \"a\", \"label\": 0}\n{\"grievance\": \"b\", \"label\": }\n{\"grievance\": \"c\", "
            "\"label\": 2}\n");
  std::string message = ReadError();
  EXPECT_TRUE(Contains(message, "test.jsonl line 2: not valid JSON")) << message;
}

TEST_F(JsonlDatasetTest, EveryFieldIsChecked) {
  MakeVersion("v1");
  const std::pair<const char*, const char*> cases[] = {{"[1, 2]", "not a JSON object"},
                                                       {R"({"text": "a", "label": 0})", "no \"grievance\" string"},
                                                       {R"({"grievance": "a", "label": "0"})", "no integer \"label\""},
                                                       {R"({"grievance": "a", "label": 1.5})", "no integer \"label\""},
                                                       {"", "the line is empty"}};
  for (const auto& [line, problem] : cases) {
    WriteFile((version_dir("v1") / "eval.jsonl").string(), Rows(1) + line + "\n" + Rows(1));
    std::string message = ReadError();
    EXPECT_TRUE(Contains(message, "eval.jsonl line 2: " + std::string(problem))) << line << " gave: " << message;
  }
}

TEST_F(JsonlDatasetTest, AClassIdOutsideTheLabelMapIsRefused) {
  MakeVersion("v1");
  WriteFile((version_dir("v1") / "train.jsonl").string(), Rows(3) +
                                                              R"({"grievance": "x", "label": 7})"
                                                              "\n" +
                                                              Rows(2));
  std::string message = ReadError();
  EXPECT_TRUE(
      Contains(message, "train.jsonl line 4: class id 7 is not in " + (version_dir("v1") / "labels.json").string()))
      << message;
}

TEST_F(JsonlDatasetTest, AnEmptySplitIsRefused) {
  MakeVersion("v1");
  WriteFile((version_dir("v1") / "test.jsonl").string(), "");
  std::string message = ReadError();
  EXPECT_TRUE(Contains(message, "test.jsonl has no rows")) << message;
}

TEST_F(JsonlDatasetTest, AMissingFileIsNamed) {
  MakeVersion("v1");
  fs::remove(version_dir("v1") / "eval.jsonl");
  EXPECT_TRUE(Contains(ReadError(), (version_dir("v1") / "eval.jsonl").string() + " is missing"));
  MakeVersion("v1");
  fs::remove(version_dir("v1") / "labels.json");
  EXPECT_TRUE(Contains(ReadError(), (version_dir("v1") / "labels.json").string() + " is missing"));
}

TEST_F(JsonlDatasetTest, MetadataNamingAMissingVersionIsExplained) {
  MakeVersion("v20261126_090000");
  Publish("v20261126_101502");
  std::string message = ReadError();
  EXPECT_TRUE(Contains(message, "names the version v20261126_101502")) << message;
  EXPECT_TRUE(Contains(message, "does not exist")) << message;
  EXPECT_TRUE(Contains(message, "v20261126_090000")) << message;  // the versions that do exist
  EXPECT_TRUE(Contains(ReadError("v2"), "version v2 of the department dataset does not exist"));
}

TEST_F(JsonlDatasetTest, RowCountsMustMatchTheMetadata) {
  MakeVersion("v1");
  WriteFile((version_dir("v1") / "train.jsonl").string(), Rows(5));  // a whole line lost
  std::string message = ReadError();
  EXPECT_TRUE(Contains(message, "train.jsonl has 5 rows, but")) << message;
  EXPECT_TRUE(Contains(message, "says 6")) << message;
}

TEST_F(JsonlDatasetTest, MetadataOfAnotherLabelIsRefused) {
  MakeVersion("v1");
  Publish("v1", "urgency");
  EXPECT_TRUE(Contains(ReadError(), "describes the dataset \"urgency\", not \"department\""));
}

TEST_F(JsonlDatasetTest, BadMetadataIsRefused) {
  MakeVersion("v1");
  WriteFile((dataset_dir() / "dataset_metadata.json").string(), R"({"version_tag": "../../etc"})");
  EXPECT_TRUE(Contains(ReadError(), "cannot be a version directory's name"));
  WriteFile((dataset_dir() / "dataset_metadata.json").string(), R"({"version_tag": "v1")");
  EXPECT_TRUE(Contains(ReadError(), "is not valid JSON"));
}

TEST_F(JsonlDatasetTest, AVersionOptionMustBeAPlainName) {
  MakeVersion("v1");
  EXPECT_THROW(ReadTextDataset(dataset_dir(), "department", "../v1"), ConfigError);
  EXPECT_THROW(ReadTextDataset(dataset_dir(), "department", ""), ConfigError);
  EXPECT_TRUE(IsSafeVersionTag("v20261126_101502_2"));
  EXPECT_FALSE(IsSafeVersionTag(".hidden"));
  EXPECT_FALSE(IsSafeVersionTag("a/b"));
}

TEST_F(JsonlDatasetTest, AMissingDatasetDirectoryIsExplained) {
  try {
    ReadTextDataset(hub_.path() / "nowhere", "department");
    FAIL() << "no error";
  } catch (const WorkerError& error) {
    EXPECT_TRUE(Contains(error.what(), "pass --dataset HUB/department")) << error.what();
  }
}

TEST_F(JsonlDatasetTest, LabelMapsAreChecked) {
  MakeVersion("v1");
  WriteFile((version_dir("v1") / "labels.json").string(), R"({"a": 0, "b": 0})");
  EXPECT_THROW(ReadTextDataset(dataset_dir(), "department"), WorkerError);
  WriteFile((version_dir("v1") / "labels.json").string(), R"(["a"])");
  EXPECT_THROW(ReadTextDataset(dataset_dir(), "department"), WorkerError);
}

TEST_F(JsonlDatasetTest, SyntaxErrorsAreNamedByLineAndColumn) {
  MakeVersion("v1");
  const fs::path test = version_dir("v1") / "test.jsonl";
  WriteFile(test.string(), Rows(1) + "{\"grievance\": \"b\", \"label\": }\n" + Rows(1));
  EXPECT_EQ(ReadError(), test.string() +
                             " line 2: not valid JSON (column 29: syntax error while parsing value - unexpected '}'; "
                             "expected '[', '{', or a literal); the file is damaged: publish the dataset again "
                             "(orchestrator prepare), or pass --version with an earlier version");
  // Bytes that are not UTF-8 are refused by position, and not quoted in the message.
  WriteFile(test.string(), Rows(2) + "{\"grievance\": \"\xff\xfe\", \"label\": 0}\n");
  const std::string message = ReadError();
  EXPECT_TRUE(message.starts_with(test.string() + " line 3: not valid JSON (column 16: syntax error while parsing "
                                                  "value - invalid string: ill-formed UTF-8 byte)"))
      << message;
  EXPECT_EQ(message.find('\xff'), std::string::npos);

  MakeVersion("v1");
  WriteFile((version_dir("v1") / "labels.json").string(), "{\n  \"Infrastructure\": 0,\n  \"Education\" 1\n}");
  EXPECT_TRUE(Contains(ReadError(), "label map " + (version_dir("v1") / "labels.json").string() +
                                        " is not valid JSON (line 3, column 15: syntax error while parsing object "
                                        "separator - unexpected number literal; expected ':')"))
      << ReadError();
  MakeVersion("v1");
  WriteFile((dataset_dir() / "dataset_metadata.json").string(), "{\"version_tag\":\n\n  v1}");
  EXPECT_TRUE(Contains(ReadError(), (dataset_dir() / "dataset_metadata.json").string() +
                                        " is not valid JSON (line 3, column 3: syntax error while parsing value - "
                                        "invalid literal); publish the dataset again (orchestrator prepare)"))
      << ReadError();
}

TEST_F(JsonlDatasetTest, AFileThatIsNotARegularFileIsRefused) {
  MakeVersion("v1");
  const fs::path train = version_dir("v1") / "train.jsonl";
  const std::string named = "the dataset file " + train.string();
  const std::string advice = "; publish the dataset again (orchestrator prepare)";
  fs::remove(train);
  fs::create_directory(train);
  EXPECT_EQ(ReadError(), named + " is a directory, not a regular file" + advice);
  fs::remove(train);
  ASSERT_EQ(mkfifo(train.c_str(), 0600), 0);
  EXPECT_EQ(ReadError(), named + " is a FIFO (named pipe), not a regular file" + advice);
  fs::remove(train);
  fs::create_symlink("train.jsonl", train);
  EXPECT_EQ(ReadError(), named + " is a loop of symlinks, not a regular file" + advice);
  fs::remove(train);
  fs::create_symlink("gone.jsonl", train);
  EXPECT_TRUE(ReadError().starts_with(train.string() + " is missing: the version is incomplete")) << ReadError();
  fs::remove(train);
  WriteFile(train.string(), Rows(6));
  fs::resize_file(train, kMaxSplitFileBytes + 1);  // sparse: never read
  EXPECT_EQ(ReadError(), named + " is " + std::to_string(kMaxSplitFileBytes + 1) + " bytes, more than the " +
                             std::to_string(kMaxSplitFileBytes) + " bytes such a file can have" + advice);

  MakeVersion("v1");
  const fs::path metadata = dataset_dir() / "dataset_metadata.json";
  fs::remove(metadata);
  ASSERT_EQ(mkfifo(metadata.c_str(), 0600), 0);
  EXPECT_EQ(ReadError(),
            "the dataset file " + metadata.string() + " is a FIFO (named pipe), not a regular file" + advice);
  fs::remove(metadata);
  Publish("v1");
  const fs::path labels = version_dir("v1") / "labels.json";
  WriteFile(labels.string(), kLabels);
  fs::resize_file(labels, kMaxJsonDocumentBytes + 1);
  EXPECT_EQ(ReadError(), "the dataset file " + labels.string() + " is " + std::to_string(kMaxJsonDocumentBytes + 1) +
                             " bytes, more than the " + std::to_string(kMaxJsonDocumentBytes) +
                             " bytes such a file can have" + advice);
}

TEST(ParseLabelledJsonl, ReadsTextAsTheFileWould) {
  const ClassNamesById classes = {{0, "a"}, {4, "b"}};
  const std::vector<SplitRow> rows = ParseLabelledJsonl(
      "{\"grievance\": \"x\", \"label\": 4}\r\n{\"grievance\": \"\", \"label\": 0}", classes, "f.jsonl");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].text, "x");
  EXPECT_EQ(rows[0].label, 4);
  EXPECT_EQ(rows[1].label, 0);
  EXPECT_TRUE(ParseLabelledJsonl("", classes, "f.jsonl").empty());
  try {
    ParseLabelledJsonl("{\"grievance\": \"x\", \"label\": 0}\n{\"grievance\": \"x\", \"label\": 6E666}\n", classes,
                       "f.jsonl");
    FAIL() << "a number beyond a double was accepted";
  } catch (const WorkerError& error) {
    EXPECT_TRUE(std::string(error.what()).starts_with("f.jsonl line 2: not valid JSON (a number too large to be read)"))
        << error.what();
  }
  try {
    ParseLabelledJsonl("{\"grievance\": \"x\", \"label\": 9223372036854775808}\n", classes, "f.jsonl");
    FAIL() << "a class id beyond int64 was accepted";
  } catch (const WorkerError& error) {
    EXPECT_TRUE(std::string(error.what()).starts_with("f.jsonl line 1: class id ")) << error.what();
  }
}

}  // namespace
}  // namespace orch
