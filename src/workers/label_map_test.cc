#include "workers/label_map.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <vector>

#include "support/temp_dir.h"
#include "util/error.h"
#include "workers/json_text.h"

namespace orch {
namespace {

using testing::TempDir;
using testing::WriteFile;

std::string WorkerErrorOf(const std::string& json) {
  try {
    LabelMap::Parse(json, "test.json");
  } catch (const WorkerError& error) {
    return error.what();
  }
  return "";
}

TEST(LabelMap, StartsFromTheOriginalWorkersIds) {
  const LabelMap department = LabelMap::Initial("department");
  EXPECT_EQ(department.size(), 4u);
  EXPECT_EQ(department.Find("Municipal Governance & Community Services"), 0);
  EXPECT_EQ(department.Find("Education, Health & Social Welfare"), 1);
  EXPECT_EQ(department.Find("Infrastructure, Utilities & Natural Resources"), 2);
  EXPECT_EQ(department.Find("Security & Law Enforcement"), 3);
  const LabelMap urgency = LabelMap::Initial("urgency");
  EXPECT_EQ(urgency.size(), 3u);
  EXPECT_EQ(urgency.Find("NORMAL"), 0);
  EXPECT_EQ(urgency.Find("URGENT"), 1);
  EXPECT_EQ(urgency.Find("HIGHLY URGENT"), 2);
  EXPECT_EQ(LabelMap::Initial("topic").size(), 0u);
  EXPECT_EQ(urgency.Find("normal"), std::nullopt);
}

TEST(LabelMap, NewNamesGetTheNextFreeIdsInByteOrder) {
  LabelMap map = LabelMap::Initial("urgency");
  const std::vector<std::string> names = {"URGENT", "LOW", "CRITICAL", "LOW", "NORMAL"};
  EXPECT_EQ(map.AddAll(names), 2u);
  EXPECT_EQ(map.Find("CRITICAL"), 3);
  EXPECT_EQ(map.Find("LOW"), 4);
  EXPECT_EQ(map.Find("URGENT"), 1);  // unchanged
  EXPECT_EQ(map.AddAll(names), 0u);
}

TEST(LabelMap, TheNextFreeIdFollowsTheLargestEvenWithGaps) {
  LabelMap map = LabelMap::Parse(R"({"a": 0, "b": 7})", "x");
  const std::vector<std::string> names = {"c"};
  map.AddAll(names);
  EXPECT_EQ(map.Find("c"), 8);
}

TEST(LabelMap, JsonRoundTripsOrderedByIdWithUnicodeIntact) {
  LabelMap map = LabelMap::Initial("topic");
  const std::vector<std::string> names = {"सडक", "पानी", "Zebra", "apple"};
  map.AddAll(names);
  const std::string json = map.ToJson();
  EXPECT_EQ(json, "{\n  \"Zebra\": 0,\n  \"apple\": 1,\n  \"पानी\": 2,\n  \"सडक\": 3\n}\n");
  const LabelMap again = LabelMap::Parse(json, "again");
  EXPECT_EQ(again.ids(), map.ids());
}

TEST(LabelMap, RefusesWhatIsNotAMapOfDistinctIds) {
  EXPECT_NE(WorkerErrorOf("not json").find("label map test.json is not valid JSON"), std::string::npos);
  EXPECT_NE(WorkerErrorOf("[1, 2]").find("is not a JSON object"), std::string::npos);
  EXPECT_NE(WorkerErrorOf(R"({"a": 0, "b": 0})").find("gives the id 0 to two classes"), std::string::npos);
  EXPECT_NE(WorkerErrorOf(R"({"a": -1})").find("gives \"a\" the id -1"), std::string::npos);
  EXPECT_NE(WorkerErrorOf(R"({"a": 1.5})").find("the id 1.5"), std::string::npos);
  EXPECT_NE(WorkerErrorOf(R"({"a": "1"})").find("the id \"1\""), std::string::npos);
  EXPECT_NE(WorkerErrorOf(R"({"a": 99999999999})").find("from 0 to 2147483647"), std::string::npos);
  EXPECT_NE(WorkerErrorOf(R"({"": 1})").find("empty class name"), std::string::npos);
  EXPECT_EQ(WorkerErrorOf(R"({"a": 2147483647, "b": 0})"), "");
}

TEST(LabelMap, AnIdOfAnyLengthIsQuotedOnOneShortLine) {
  const std::string error = WorkerErrorOf("{\"a\": \"x\x7f" + std::string(100000, 'x') + "\"}");
  EXPECT_NE(error.find("the id \"x\\x7fxxx"), std::string::npos) << error.substr(0, 300);
  EXPECT_LT(error.size(), 600u);
  EXPECT_NE(WorkerErrorOf(R"({"a": [1, 2]})").find("the id \"[1,2]\""), std::string::npos);
}

TEST(LabelMap, LoadsTheFileOrStartsFromTheInitialMap) {
  TempDir dir;
  const std::filesystem::path file = dir.path() / "labels.json";
  EXPECT_EQ(LabelMap::Load(file, "urgency").ids(), LabelMap::Initial("urgency").ids());
  WriteFile(file.string(), R"({"URGENT": 5, "NORMAL": 9})");
  const LabelMap loaded = LabelMap::Load(file, "urgency");
  EXPECT_EQ(loaded.size(), 2u);
  EXPECT_EQ(loaded.Find("URGENT"), 5);
  EXPECT_EQ(loaded.Find("HIGHLY URGENT"), std::nullopt);
  WriteFile(file.string(), "{broken");
  EXPECT_THROW(LabelMap::Load(file, "urgency"), WorkerError);
  std::filesystem::remove(file);
  std::filesystem::create_directory(file);
  EXPECT_THROW(LabelMap::Load(file, "urgency"), WorkerError);
}

TEST(LabelMap, ADamagedFileIsNamedAndNotTakenForAMissingOne) {
  TempDir dir;
  const std::filesystem::path file = dir.path() / "labels.json";
  auto load_error = [&] {
    try {
      LabelMap::Load(file, "urgency");
    } catch (const WorkerError& error) {
      return std::string(error.what());
    }
    return std::string("(loaded)");
  };
  const std::string named = "label map " + file.string();
  const std::string advice =
      "; put back the label map, e.g. a copy of the newest version's labels.json, so that ids keep their meaning";
  WriteFile(file.string(), "{\"NORMAL\": 0,\n \"URGENT\": 1,,\n}");
  EXPECT_EQ(load_error(), named +
                              " is not valid JSON (line 2, column 14: syntax error while parsing object key - "
                              "unexpected ','; expected string literal); it must be a JSON object of class names to "
                              "distinct non-negative integer ids, e.g. {\"NORMAL\": 0, \"URGENT\": 1}");
  std::filesystem::remove(file);
  ASSERT_EQ(mkfifo(file.c_str(), 0600), 0);
  EXPECT_EQ(load_error(), "the " + named + " is a FIFO (named pipe), not a regular file" + advice);
  std::filesystem::remove(file);
  std::filesystem::create_symlink("labels.json", file);
  EXPECT_EQ(load_error(), "the " + named + " is a loop of symlinks, not a regular file" + advice);
  std::filesystem::remove(file);
  WriteFile(file.string(), "{}");
  std::filesystem::resize_file(file, kMaxJsonDocumentBytes + 1);
  EXPECT_EQ(load_error(), "the " + named + " is " + std::to_string(kMaxJsonDocumentBytes + 1) +
                              " bytes, more than the " + std::to_string(kMaxJsonDocumentBytes) +
                              " bytes such a file can have" + advice);
}

}  // namespace
}  // namespace orch
