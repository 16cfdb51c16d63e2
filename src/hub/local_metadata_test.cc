#include "hub/local_metadata.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "support/temp_dir.h"

namespace orch {
namespace {

using testing::TempDir;
using testing::WriteFile;

// Answers every URL with kUnavailable and remembers what it was asked.
class RecordingRemote : public Hub {
 public:
  std::vector<std::string> asked;
  std::vector<MetadataRead> ReadMetadata(std::span<const std::string> urls, TimeBudget) override {
    std::vector<MetadataRead> reads;
    for (const std::string& url : urls) {
      asked.push_back(url);
      reads.push_back({MetadataRead::Status::kUnavailable, std::nullopt, "remote " + url});
    }
    return reads;
  }
};

TEST(FileUrlPath, AcceptsLocalFileUrlsOnly) {
  EXPECT_EQ(FileUrlPath("file:///srv/hub/department/dataset_metadata.json"),
            "/srv/hub/department/dataset_metadata.json");
  EXPECT_EQ(FileUrlPath("file://localhost/srv/a.json"), "/srv/a.json");
  EXPECT_EQ(FileUrlPath("file:///srv/my%20hub/a.json"), "/srv/my hub/a.json");
  EXPECT_EQ(FileUrlPath("file://otherhost/srv/a.json"), "");
  EXPECT_EQ(FileUrlPath("https://huggingface.co/a.json"), "");
}

TEST(ReadMetadataFile, ReadsPublishedMetadata) {
  TempDir dir;
  WriteFile(dir.File("m.json"), R"({"version_tag": "v20261126_101502", "num_samples": 1600, "splits": {}})");
  MetadataRead read = ReadMetadataFile(dir.File("m.json"));
  ASSERT_EQ(read.status, MetadataRead::Status::kOk) << read.detail;
  EXPECT_EQ(read.metadata->version_tag, "v20261126_101502");
  EXPECT_EQ(read.metadata->num_samples, 1600);
}

TEST(ReadMetadataFile, AMissingFileMeansNothingPublishedYet) {
  TempDir dir;
  MetadataRead read = ReadMetadataFile(dir.File("department/dataset_metadata.json"));
  EXPECT_EQ(read.status, MetadataRead::Status::kNotFound);
  EXPECT_NE(read.detail.find("does not exist"), std::string::npos) << read.detail;
}

TEST(ReadMetadataFile, BadContentIsInvalidAndNamesTheFile) {
  TempDir dir;
  WriteFile(dir.File("truncated.json"), R"({"version_tag": "v1", "num_sam)");
  MetadataRead read = ReadMetadataFile(dir.File("truncated.json"));
  EXPECT_EQ(read.status, MetadataRead::Status::kInvalid);
  EXPECT_NE(read.detail.find(dir.File("truncated.json")), std::string::npos) << read.detail;

  WriteFile(dir.File("huge.json"), std::string(kMaxMetadataBytes + 10, ' '));
  EXPECT_EQ(ReadMetadataFile(dir.File("huge.json")).status, MetadataRead::Status::kInvalid);
}

TEST(ReadMetadataFile, AFifoInItsPlaceIsRefusedWithoutWaitingForAWriter) {
  TempDir dir;
  ASSERT_EQ(::mkfifo(dir.File("fifo.json").c_str(), 0600), 0);
  const MetadataRead read = ReadMetadataFile(dir.File("fifo.json"));  // returns at once: no writer is needed
  EXPECT_EQ(read.status, MetadataRead::Status::kRefused);
  EXPECT_NE(read.detail.find("FIFO"), std::string::npos) << read.detail;
}

TEST(ReadMetadataFile, ADirectoryCannotBeRead) {
  TempDir dir;
  std::filesystem::create_directory(dir.File("dataset_metadata.json"));
  EXPECT_EQ(ReadMetadataFile(dir.File("dataset_metadata.json")).status, MetadataRead::Status::kRefused);
}

TEST(MetadataSources, ReadsFilesLocallyAndSendsTheRestToTheRemoteHubInPlace) {
  TempDir dir;
  WriteFile(dir.File("a.json"), R"({"version_tag": "v2", "num_samples": 10})");
  RecordingRemote remote;
  MetadataSources sources(remote);
  const std::vector<std::string> urls = {"https://hub.example/x.json", "file://" + dir.File("a.json"),
                                         "https://hub.example/y.json", "file://" + dir.File("missing.json")};
  std::vector<MetadataRead> reads = sources.ReadMetadata(urls, std::nullopt);
  ASSERT_EQ(reads.size(), 4u);
  EXPECT_EQ(reads[0].detail, "remote https://hub.example/x.json");
  EXPECT_EQ(reads[1].status, MetadataRead::Status::kOk);
  EXPECT_EQ(reads[2].detail, "remote https://hub.example/y.json");
  EXPECT_EQ(reads[3].status, MetadataRead::Status::kNotFound);
  EXPECT_EQ(remote.asked, (std::vector<std::string>{urls[0], urls[2]}));
}

}  // namespace
}  // namespace orch
