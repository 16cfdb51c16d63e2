#include "workers/jsonl_dataset.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "hub/local_repository.h"
#include "support/dataset_repository.h"
#include "support/temp_dir.h"
#include "util/error.h"
#include "workers/json_text.h"

namespace orch {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::VersionFiles;

constexpr const char* kLabels = R"({"Infrastructure": 0, "Education": 1, "Security": 2})";

std::string Rows(int count, int first_label = 0) {
  std::string text;
  for (int i = 0; i < count; ++i)
    text += R"({"grievance": "row )" + std::to_string(i) + R"( सडक", "label": )" +
            std::to_string((first_label + i) % 3) + "}\n";
  return text;
}

VersionFiles Files() {
  return {.labels_json = kLabels, .train = Rows(6), .validation = Rows(3, 1), .test = Rows(3, 2)};
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The repository HUB/department, with versions of 6/3/3 rows.
class JsonlDatasetTest : public ::testing::Test {
 protected:
  fs::path dataset_dir() const { return hub_.path() / "department"; }
  // How messages name a file of `version`.
  std::string Named(const std::string& version, const std::string& path) const {
    return dataset_dir().string() + "@" + version + "/" + path;
  }

  std::string Publish(const std::string& version, const VersionFiles& files = Files()) {
    return testing::PublishVersion(dataset_dir(), version, files);
  }
  // The next version, v1, v2, ..., with one file replaced; returns its name.
  std::string PublishWith(const std::string& path, const std::string& content) {
    VersionFiles files = Files();
    if (path == "data/train.jsonl") files.train = content;
    if (path == "data/validation.jsonl") files.validation = content;
    if (path == "data/test.jsonl") files.test = content;
    if (path == "labels.json") files.labels_json = content;
    if (path == "dataset_metadata.json") files.metadata_json = content;
    const std::string version = "v" + std::to_string(++versions_);
    Publish(version, files);
    return version;
  }

  // The WorkerError message reading the latest version (or `version`) gives.
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
  int versions_ = 0;
};

TEST_F(JsonlDatasetTest, ReadsTheVersionMainsMetadataNamesAtItsTag) {
  Publish("v20261126_090000");
  const std::string commit = Publish("v20261126_101502");
  TextDataset dataset = ReadTextDataset(dataset_dir(), "department");
  EXPECT_EQ(dataset.version_tag, "v20261126_101502");
  EXPECT_EQ(dataset.location, dataset_dir().string() + "@v20261126_101502");
  EXPECT_EQ(dataset.commit, commit);
  ASSERT_EQ(dataset.train.size(), 6u);
  EXPECT_EQ(dataset.validation.size(), 3u);
  EXPECT_EQ(dataset.test.size(), 3u);
  EXPECT_EQ(dataset.train[4].text, "row 4 सडक");
  EXPECT_EQ(dataset.train[4].label, 1);
  EXPECT_EQ(dataset.classes, (ClassNamesById{{0, "Infrastructure"}, {1, "Education"}, {2, "Security"}}));
}

TEST_F(JsonlDatasetTest, AVersionCanBeChosenAndIsReadAsItWasAfterMainMovesOn) {
  Publish("v20261126_090000", {.labels_json = kLabels, .train = Rows(9), .validation = Rows(3), .test = Rows(3)});
  Publish("v20261126_101502");
  TextDataset old = ReadTextDataset(dataset_dir(), "department", "v20261126_090000");
  EXPECT_EQ(old.version_tag, "v20261126_090000");
  EXPECT_EQ(old.train.size(), 9u);
  const DatasetReference reference = ParseDatasetReference(dataset_dir().string() + "@v20261126_090000");
  EXPECT_EQ(reference.directory, dataset_dir());
  EXPECT_EQ(reference.version, "v20261126_090000");
}

TEST_F(JsonlDatasetTest, AChosenVersionNeedsNoMetadata) {
  LocalRepository repository(dataset_dir());
  repository.CreateIfMissing();
  CommitRequest request;
  request.summary = "a version without metadata";
  request.additions = {
      FileAddition::FromBytes("labels.json", kLabels), FileAddition::FromBytes("data/train.jsonl", Rows(6)),
      FileAddition::FromBytes("data/validation.jsonl", Rows(3)), FileAddition::FromBytes("data/test.jsonl", Rows(3))};
  repository.CreateTag("v1", repository.Commit(request));
  EXPECT_EQ(ReadTextDataset(dataset_dir(), "department", "v1").train.size(), 6u);
  EXPECT_TRUE(Contains(ReadError(), dataset_dir().string() + "/dataset_metadata.json is missing: no version of the "
                                                             "department dataset has been published"))
      << ReadError();
}

TEST_F(JsonlDatasetTest, MetadataNamingAVersionWithoutItsTagIsRefusedNotTrainedOn) {
  Publish("v20261126_090000", {.labels_json = kLabels, .train = Rows(9), .validation = Rows(3), .test = Rows(3)});
  LocalRepository repository(dataset_dir());
  CommitRequest request;
  request.summary = "metadata naming a version that has no tag";
  request.additions = {FileAddition::FromBytes("dataset_metadata.json", R"({"version_tag": "v20261127_000000"})")};
  repository.Commit(request);
  const std::string message = ReadError();
  EXPECT_TRUE(Contains(message, dataset_dir().string() +
                                    "/dataset_metadata.json names the version v20261127_000000, "
                                    "which has no tag in " +
                                    dataset_dir().string() + ": nothing is trained on it"))
      << message;
  EXPECT_TRUE(Contains(message, "the next orchestrator prepare, which tags it first")) << message;
  EXPECT_EQ(ReadTextDataset(dataset_dir(), "department", "v20261126_090000").train.size(), 9u)
      << "a version with its tag is still read";
}

TEST_F(JsonlDatasetTest, ALastLineWithoutNewlineIsFineWhenComplete) {
  std::string train = Rows(6);
  train.pop_back();
  PublishWith("data/train.jsonl", train);
  EXPECT_EQ(ReadTextDataset(dataset_dir(), "department").train.size(), 6u);
}

TEST_F(JsonlDatasetTest, WindowsLineEndsAreAccepted) {
  PublishWith("data/validation.jsonl",
              "{\"grievance\": \"a\", \"label\": 0}\r\n{\"grievance\": \"b\", \"label\": 1}\r\n{\"grievance\": \"c\", "
              "\"label\": 2}\r\n");
  EXPECT_EQ(ReadTextDataset(dataset_dir(), "department").validation[2].text, "c");
}

TEST_F(JsonlDatasetTest, ATruncatedFileNamesItsLastLine) {
  std::string train = Rows(6);
  VersionFiles files = Files();
  files.train = train.substr(0, train.size() - 12);
  files.metadata_json = R"({"version_tag": "v1"})";
  Publish("v1", files);
  std::string message = ReadError();
  EXPECT_TRUE(Contains(message, Named("v1", "data/train.jsonl") + " line 6")) << message;
  EXPECT_TRUE(Contains(message, "cut short")) << message;
  EXPECT_TRUE(Contains(message, "orchestrator prepare")) << message;
}

TEST_F(JsonlDatasetTest, ABrokenLineInsideTheFileIsNamed) {
  PublishWith("data/test.jsonl",
              "{\"grievance\": \"a\", \"label\": 0}\n{\"grievance\": \"b\", \"label\": }\n{\"grievance\": \"c\", "
              "\"label\": 2}\n");
  std::string message = ReadError();
  EXPECT_TRUE(Contains(message, "data/test.jsonl line 2: not valid JSON")) << message;
}

TEST_F(JsonlDatasetTest, EveryFieldIsChecked) {
  const std::pair<const char*, const char*> cases[] = {{"[1, 2]", "not a JSON object"},
                                                       {R"({"text": "a", "label": 0})", "no \"grievance\" string"},
                                                       {R"({"grievance": "a", "label": "0"})", "no integer \"label\""},
                                                       {R"({"grievance": "a", "label": 1.5})", "no integer \"label\""},
                                                       {"", "the line is empty"}};
  int version = 0;
  for (const auto& [line, problem] : cases) {
    VersionFiles files = Files();
    files.validation = Rows(1) + line + "\n" + Rows(1);
    Publish("v" + std::to_string(++version), files);
    std::string message = ReadError();
    EXPECT_TRUE(Contains(message, "data/validation.jsonl line 2: " + std::string(problem)))
        << line << " gave: " << message;
  }
}

TEST_F(JsonlDatasetTest, AClassIdOutsideTheLabelMapIsRefused) {
  PublishWith("data/train.jsonl", Rows(3) + R"({"grievance": "x", "label": 7})" + "\n" + Rows(2));
  std::string message = ReadError();
  EXPECT_TRUE(Contains(message, "data/train.jsonl line 4: class id 7 is not in " + Named("v1", "labels.json")))
      << message;
}

TEST_F(JsonlDatasetTest, AnEmptySplitIsRefused) {
  PublishWith("data/test.jsonl", "");
  std::string message = ReadError();
  EXPECT_TRUE(Contains(message, Named("v1", "data/test.jsonl") + " has no rows")) << message;
}

TEST_F(JsonlDatasetTest, AMissingFileIsNamed) {
  Publish("v1");
  LocalRepository repository(dataset_dir());
  for (const std::string path : {"data/validation.jsonl", "labels.json"}) {
    CommitRequest request;
    request.summary = "remove " + path;
    request.deletions = {path};
    const std::string tag = "without-" + fs::path(path).stem().string();
    repository.CreateTag(tag, repository.Commit(request));
    EXPECT_TRUE(ReadError(tag).starts_with(Named(tag, path) + " is missing: ")) << ReadError(tag);
  }
}

TEST_F(JsonlDatasetTest, AVersionThatDoesNotExistIsExplained) {
  Publish("v20261126_090000");
  EXPECT_EQ(ReadError("v2"), "version v2 of the department dataset does not exist in " + dataset_dir().string() +
                                 " (the latest is v20261126_090000)");
}

TEST_F(JsonlDatasetTest, RowCountsMustMatchTheMetadata) {
  VersionFiles files = Files();
  files.train = Rows(5);  // a whole line lost
  files.metadata_json = R"({"version_tag": "v1", "splits": {"train": 6, "validation": 3, "test": 3}})";
  Publish("v1", files);
  std::string message = ReadError();
  EXPECT_TRUE(Contains(message, Named("v1", "data/train.jsonl") + " has 5 rows, but " +
                                    Named("v1", "dataset_metadata.json") + " says 6"))
      << message;
}

TEST_F(JsonlDatasetTest, MetadataOfAnotherLabelIsRefused) {
  PublishWith("dataset_metadata.json", R"({"dataset_name": "urgency", "version_tag": "v1"})");
  EXPECT_TRUE(Contains(ReadError(), "describes the dataset \"urgency\", not \"department\""));
}

TEST_F(JsonlDatasetTest, BadMetadataIsRefused) {
  PublishWith("dataset_metadata.json", R"({"version_tag": "../../etc"})");
  EXPECT_TRUE(Contains(ReadError(), "cannot be a version tag")) << ReadError();
  PublishWith("dataset_metadata.json", R"({"version_tag": "v2")");
  EXPECT_TRUE(Contains(ReadError(), "is not valid JSON")) << ReadError();
}

TEST_F(JsonlDatasetTest, AVersionOptionMustBeAPlainName) {
  Publish("v1");
  EXPECT_THROW(ReadTextDataset(dataset_dir(), "department", "../v1"), ConfigError);
  EXPECT_THROW(ReadTextDataset(dataset_dir(), "department", ""), ConfigError);
  EXPECT_TRUE(IsSafeVersionTag("v20261126_101502_2"));
  EXPECT_FALSE(IsSafeVersionTag(".hidden"));
  EXPECT_FALSE(IsSafeVersionTag("a/b"));
  EXPECT_THROW(ParseDatasetReference("/srv/hub/department@../v1"), ConfigError);
}

TEST_F(JsonlDatasetTest, ADirectoryWithAnAtSignIsADirectory) {
  const fs::path odd = hub_.path() / "me@work";
  fs::create_directories(odd);
  EXPECT_EQ(ParseDatasetReference(odd.string()).directory, odd);
  EXPECT_EQ(ParseDatasetReference(odd.string()).version, std::nullopt);
  EXPECT_EQ(ParseDatasetReference(odd.string() + "@v2").directory, odd);
  EXPECT_EQ(ParseDatasetReference(odd.string() + "@v2").version, "v2");
  EXPECT_EQ(ParseDatasetReference("plain").version, std::nullopt);
}

TEST_F(JsonlDatasetTest, AMissingRepositoryOrAHubOfAnEarlierReleaseIsExplained) {
  try {
    ReadTextDataset(hub_.path() / "nowhere", "department");
    FAIL() << "no error";
  } catch (const WorkerError& error) {
    EXPECT_TRUE(Contains(error.what(), "pass --dataset HUB/department")) << error.what();
  }
  fs::create_directories(dataset_dir() / "v20251030_115250");
  testing::WriteFile((dataset_dir() / "v20251030_115250" / "eval.jsonl").string(), Rows(3));
  testing::WriteFile((dataset_dir() / "dataset_metadata.json").string(), R"({"version_tag": "v20251030_115250"})");
  EXPECT_TRUE(Contains(ReadError(), "holds no dataset repository (no .repo directory)")) << ReadError();
  EXPECT_TRUE(Contains(ReadError(), "run orchestrator prepare")) << ReadError();
}

TEST_F(JsonlDatasetTest, LabelMapsAreChecked) {
  PublishWith("labels.json", R"({"a": 0, "b": 0})");
  EXPECT_THROW(ReadTextDataset(dataset_dir(), "department"), WorkerError);
  PublishWith("labels.json", R"(["a"])");
  EXPECT_THROW(ReadTextDataset(dataset_dir(), "department"), WorkerError);
}

TEST_F(JsonlDatasetTest, SyntaxErrorsAreNamedByLineAndColumn) {
  std::string test = Named(PublishWith("data/test.jsonl", Rows(1) + "{\"grievance\": \"b\", \"label\": }\n" + Rows(1)),
                           "data/test.jsonl");
  EXPECT_EQ(ReadError(), test +
                             " line 2: not valid JSON (column 29: syntax error while parsing value - unexpected '}'; "
                             "expected '[', '{', or a literal); the file is damaged: publish the dataset again "
                             "(orchestrator prepare), or pass --version with an earlier version");
  // Bytes that are not UTF-8 are refused by position, and not quoted in the message.
  test = Named(PublishWith("data/test.jsonl", Rows(2) + "{\"grievance\": \"\xff\xfe\", \"label\": 0}\n"),
               "data/test.jsonl");
  const std::string message = ReadError();
  EXPECT_TRUE(message.starts_with(test + " line 3: not valid JSON (column 16: syntax error while parsing "
                                         "value - invalid string: ill-formed UTF-8 byte)"))
      << message;
  EXPECT_EQ(message.find('\xff'), std::string::npos);

  const std::string labels = PublishWith("labels.json", "{\n  \"Infrastructure\": 0,\n  \"Education\" 1\n}");
  EXPECT_TRUE(Contains(ReadError(), "label map " + Named(labels, "labels.json") +
                                        " is not valid JSON (line 3, column 15: syntax error while parsing object "
                                        "separator - unexpected number literal; expected ':')"))
      << ReadError();
  PublishWith("dataset_metadata.json", "{\"version_tag\":\n\n  v1}");
  EXPECT_TRUE(Contains(ReadError(), dataset_dir().string() +
                                        "/dataset_metadata.json is not valid JSON (line 3, column 3: syntax error "
                                        "while parsing value - invalid literal); publish the dataset again "
                                        "(orchestrator prepare)"))
      << ReadError();
}

TEST_F(JsonlDatasetTest, AFileThatIsNotARegularFileOrTooLargeIsRefused) {
  const std::string commit = Publish("v1");
  LocalRepository repository(dataset_dir());
  const fs::path train = repository.StoredFile(commit, "data/train.jsonl");
  const std::string named = "cannot read " + Named("v1", "data/train.jsonl") + ": ";
  const std::string advice = "; publish the dataset again (orchestrator prepare)";
  fs::remove(train);
  fs::create_directory(train);
  EXPECT_TRUE(ReadError().starts_with(named)) << ReadError();
  EXPECT_TRUE(Contains(ReadError(), train.string() + " is a directory, not a regular file" + advice)) << ReadError();
  fs::remove(train);
  ASSERT_EQ(mkfifo(train.c_str(), 0600), 0);
  EXPECT_TRUE(Contains(ReadError(), train.string() + " is a FIFO (named pipe), not a regular file" + advice))
      << ReadError();
  fs::remove(train);
  fs::create_symlink("train.jsonl", train);
  EXPECT_TRUE(Contains(ReadError(), train.string() + " is a loop of symlinks, not a regular file" + advice))
      << ReadError();
  fs::remove(train);
  fs::create_symlink("gone.jsonl", train);
  EXPECT_TRUE(ReadError().starts_with(Named("v1", "data/train.jsonl") + " is missing: the version is incomplete"))
      << ReadError();
  fs::remove(train);
  testing::WriteFile(train.string(), Rows(6));
  fs::resize_file(train, kMaxSplitFileBytes + 1);  // sparse: never read
  EXPECT_TRUE(Contains(ReadError(), train.string() + " is " + std::to_string(kMaxSplitFileBytes + 1) +
                                        " bytes, more than the " + std::to_string(kMaxSplitFileBytes) +
                                        " bytes such a file can have" + advice))
      << ReadError();

  const std::string second = Publish("v2");
  const fs::path labels = repository.StoredFile(second, "labels.json");
  fs::resize_file(labels, kMaxJsonDocumentBytes + 1);
  EXPECT_TRUE(Contains(ReadError(), labels.string() + " is " + std::to_string(kMaxJsonDocumentBytes + 1) +
                                        " bytes, more than the " + std::to_string(kMaxJsonDocumentBytes) +
                                        " bytes such a file can have" + advice))
      << ReadError();
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
