// `orchestrator prepare`, the real binary as a process on a SQLite file: it publishes a version
// into a hub directory, a re-run publishes a second distinct version with the same splits, and
// mistakes (hub directory, label, database) end with a clear message and the documented status.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "hub/local_repository.h"
#include "support/app_database.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"

namespace orch {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::AppDatabase;
using testing::ProcessResult;
using testing::ReadFile;
using testing::Subprocess;
using testing::TempDir;

constexpr const char* kNepali = "सडकमा ठूलो खाल्डो छ, कृपया छिटो मर्मत गर्नुहोस्।";

bool Contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

class PrepareCli : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directory(hub());
    database_ = AppDatabase::Sqlite(dir_.File("app.db"));
    database_->CreateSchema();
    // department: 60 corrections + 30 sampled from 100 correct complaints = 90 rows, above its 40.
    database_->AddMisclassified(59, "department");
    const int64_t nepali = database_->AddComplaint(testing::kDepartments[2], testing::kUrgencies[0],
                                                   std::string("<p>") + kNepali + "</p>\nhttps://photos.example/1");
    testing::MisclassifiedRow correction;
    correction.predicted_department = testing::kDepartments[0];
    correction.correct_department = testing::kDepartments[2];
    database_->AddMisclassifiedRow(correction, nepali);
    database_->AddCorrectComplaints(100);
    env_ = {{"PATH", "/usr/bin:/bin"},
            {"DATABASE_URL", database_->url()},
            {"THRESHOLD_DEPARTMENT", "40"},
            {"THRESHOLD_URGENCY", "30"}};
  }

  fs::path hub() const { return dir_.path() / "hub"; }

  ProcessResult Prepare(std::vector<std::string> args) {
    args.insert(args.begin(), {ORCH_BINARY, "prepare"});
    ProcessResult result = Subprocess::Run(args, env_, dir_.path().string(), 60s);
    EXPECT_FALSE(result.timed_out);
    return result;
  }

  nlohmann::json PrepareJson(std::vector<std::string> args) {
    args.push_back("--json");
    const ProcessResult result = Prepare(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    const nlohmann::json report = nlohmann::json::parse(result.out, nullptr, false);
    EXPECT_TRUE(report.is_object()) << "stdout is one JSON object:\n" << result.out;
    return report;
  }

  TempDir dir_;
  std::unique_ptr<AppDatabase> database_;
  std::map<std::string, std::string> env_;
};

TEST_F(PrepareCli, PublishesAVersionAndAReRunPublishesASecondDistinctOneWithTheSameSplits) {
  const nlohmann::json first = PrepareJson({"--hub", hub().string(), "--label", "department"});
  ASSERT_EQ(first["labels"].size(), 1u) << first.dump();
  const nlohmann::json& label = first["labels"][0];
  EXPECT_EQ(label["label"], "department");
  EXPECT_EQ(label["num_samples"], 90);
  EXPECT_EQ(label["misclassified"], 60);
  EXPECT_EQ(label["correct"], 30);
  EXPECT_EQ(label["splits"]["train"].get<int>() + label["splits"]["validation"].get<int>() +
                label["splits"]["test"].get<int>(),
            90);
  const std::string tag = label["version_tag"];
  EXPECT_TRUE(std::regex_match(tag, std::regex("v\\d{8}_\\d{6}"))) << tag;
  EXPECT_EQ(fs::path(label["repository"].get<std::string>()), hub() / "department");
  LocalRepository repository(hub() / "department");
  EXPECT_EQ(repository.HeadOf(tag), label["commit"].get<std::string>());
  EXPECT_EQ(repository.HeadOf("main"), label["commit"].get<std::string>());
  const auto at = [&](const std::string& version, const std::string& path) {
    return repository.ReadFile(version, path, 1 << 24).value_or("<missing " + path + ">");
  };

  const nlohmann::json metadata =
      nlohmann::json::parse(ReadFile((hub() / "department/dataset_metadata.json").string()));
  EXPECT_EQ(metadata["version_tag"], tag);
  EXPECT_EQ(metadata["num_samples"], 90);
  EXPECT_EQ(metadata["dataset_name"], "department");

  // Every line is JSON; the Nepali text arrives cleaned and intact.
  std::string all_lines;
  for (const char* split : {"data/train.jsonl", "data/validation.jsonl", "data/test.jsonl"})
    all_lines += at(tag, split);
  std::istringstream lines(all_lines);
  int count = 0;
  bool found_nepali = false;
  for (std::string line; std::getline(lines, line); ++count) {
    const nlohmann::json row = nlohmann::json::parse(line);
    found_nepali |= row["grievance"] == kNepali;
    EXPECT_TRUE(row["label"].is_number_integer());
  }
  EXPECT_EQ(count, 90);
  EXPECT_TRUE(found_nepali);

  const nlohmann::json second = PrepareJson({"--hub", hub().string(), "--label", "department"});
  const std::string second_tag = second["labels"][0]["version_tag"];
  EXPECT_NE(second_tag, tag);
  EXPECT_EQ(nlohmann::json::parse(ReadFile((hub() / "department/dataset_metadata.json").string()))["version_tag"],
            second_tag);
  for (const char* split : {"data/train.jsonl", "data/validation.jsonl", "data/test.jsonl"})
    EXPECT_EQ(at(tag, split), at(second_tag, split)) << split;

  // Another PREPARE_SEED: another sample and split of the same rows.
  env_["PREPARE_SEED"] = "7";
  const nlohmann::json third = PrepareJson({"--hub", hub().string(), "--label", "department"});
  const std::string third_tag = third["labels"][0]["version_tag"];
  EXPECT_EQ(third["labels"][0]["num_samples"], 90);
  EXPECT_NE(at(tag, "data/train.jsonl"), at(third_tag, "data/train.jsonl"));
  const std::string card = at(third_tag, "README.md");
  EXPECT_NE(card.find("PREPARE_SEED=7"), std::string::npos) << card;
  EXPECT_TRUE(card.starts_with("---\nlanguage:\n- ne\n- en\n")) << card;
}

TEST_F(PrepareCli, WithoutLabelsPreparesTheLabelsAtTheirThreshold) {
  const ProcessResult result = Prepare({"--hub", hub().string()});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(Contains(result.out, "department: published v")) << result.out;
  EXPECT_TRUE(Contains(result.out, "with 90 rows")) << result.out;
  EXPECT_FALSE(Contains(result.out, "urgency")) << result.out;
  EXPECT_TRUE(fs::exists(hub() / "department" / "dataset_metadata.json"));
  EXPECT_FALSE(fs::exists(hub() / "urgency"));

  env_["THRESHOLD_DEPARTMENT"] = "1000";
  const ProcessResult none = Prepare({"--hub", hub().string()});
  EXPECT_EQ(none.exit_code, 0) << none.err;
  EXPECT_TRUE(Contains(none.out, "no label has reached its threshold")) << none.out;
  EXPECT_EQ(PrepareJson({"--hub", hub().string()}), nlohmann::json::parse(R"({"labels": []})"));
}

TEST_F(PrepareCli, TheCardNamesTheLanguagesOfTheSetting) {
  env_["DATASET_LANGUAGES"] = "en";
  const nlohmann::json report = PrepareJson({"--hub", hub().string(), "--label", "department"});
  const std::string card = LocalRepository(hub() / "department")
                               .ReadFile(report["labels"][0]["version_tag"], "README.md", 1 << 20)
                               .value_or("");
  EXPECT_TRUE(card.starts_with("---\nlanguage:\n- en\ntask_categories:\n")) << card;

  env_["DATASET_LANGUAGES"] = "ne,Nepali";
  const ProcessResult bad = Prepare({"--hub", hub().string(), "--label", "urgency"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(Contains(bad.err, "DATASET_LANGUAGES: \"Nepali\" is not a language code")) << bad.err;
  EXPECT_FALSE(fs::exists(hub() / "urgency")) << "nothing was done";
}

TEST_F(PrepareCli, ABadHubDirectoryIsAClearErrorWithStatus1) {
  const ProcessResult missing = Prepare({"--hub", (dir_.path() / "no-such-hub").string(), "--label", "department"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(Contains(missing.err, "hub directory " + (dir_.path() / "no-such-hub").string() + " does not exist"))
      << missing.err;
  EXPECT_TRUE(missing.out.empty()) << missing.out;

  testing::WriteFile(dir_.File("a-file"), "x");
  const ProcessResult file = Prepare({"--hub", dir_.File("a-file"), "--label", "department"});
  EXPECT_EQ(file.exit_code, 1);
  EXPECT_TRUE(Contains(file.err, "is not a directory")) << file.err;
  EXPECT_FALSE(fs::exists(dir_.path() / "no-such-hub"));
}

TEST_F(PrepareCli, AnUnknownLabelIsAUsageErrorWithStatus2) {
  const ProcessResult result = Prepare({"--hub", hub().string(), "--label", "department", "--label", "colour"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(Contains(result.err, "label \"colour\" is not a configured label")) << result.err;
  EXPECT_TRUE(Contains(result.err, "department, urgency")) << result.err;
  EXPECT_FALSE(fs::exists(hub() / "department"));  // nothing was done
}

TEST_F(PrepareCli, ALabelWithNothingToPublishFailsAfterTheOthersWerePublished) {
  // No urgency was ever corrected: department is published, then urgency fails.
  const ProcessResult result =
      Prepare({"--hub", hub().string(), "--label", "department", "--label", "urgency", "--json"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(Contains(result.err, "nothing to publish for urgency")) << result.err;
  const nlohmann::json report = nlohmann::json::parse(result.out);
  ASSERT_EQ(report["labels"].size(), 1u) << result.out;
  EXPECT_EQ(report["labels"][0]["label"], "department");
  EXPECT_TRUE(Contains(report["error"].get<std::string>(), "nothing to publish for urgency"));
  EXPECT_TRUE(fs::exists(hub() / "department" / "dataset_metadata.json"));
  EXPECT_FALSE(fs::exists(hub() / "urgency" / "dataset_metadata.json"));
}

TEST_F(PrepareCli, AnUnreadableDatabaseIsStatus1AndPublishesNothing) {
  env_["DATABASE_URL"] = "sqlite:///" + dir_.File("missing.db");
  const ProcessResult result = Prepare({"--hub", hub().string(), "--label", "department"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(Contains(result.err, "missing.db does not exist")) << result.err;
  EXPECT_FALSE(fs::exists(hub() / "department" / "dataset_metadata.json"));
}

}  // namespace
}  // namespace orch
