// `orchestrator prepare --hub hf://datasets/...`, the real binary against the fake Hub over HTTP:
// what it publishes (the repository, its two commits, the card's YAML, the tag), what a pass stopped
// between the commits or before the tag leaves and how the next one finishes it, and the mistakes
// that stop it before anything is read, and a refusal of each step of a publication (401, 403,
// 404, 409, 412, 429, 5xx) with what it must never leave behind.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "support/app_database.h"
#include "support/fake_hub.h"
#include "support/refused_step.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"
#include "support/yaml_read_back.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using testing::AppDatabase;
using testing::FakeHub;
using testing::FakeHubRepos;
using testing::ProcessResult;
using testing::RefusalName;
using testing::RefusedStep;
using testing::RefuseStep;
using testing::Subprocess;
using testing::TempDir;
using Fault = FakeHub::Fault;

constexpr char kHubUrl[] = "hf://datasets/acme/grievances-{label}";
constexpr char kRepo[] = "acme/grievances-department";

bool Contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

class PrepareHubCli : public ::testing::Test {
 protected:
  void SetUp() override {
    database_ = AppDatabase::Sqlite(dir_.File("app.db"));
    database_->CreateSchema();
    database_->AddMisclassified(60, "department");  // 60 corrections + 30 sampled = 90 rows
    database_->AddCorrectComplaints(100);
    env_ = {{"PATH", "/usr/bin:/bin"},       {"DATABASE_URL", database_->url()}, {"THRESHOLD_DEPARTMENT", "40"},
            {"THRESHOLD_URGENCY", "30"},     {"HF_ENDPOINT", hub_.endpoint()},   {"HF_TOKEN", "hf_test_token"},
            {"HTTP_RETRIES", "2"},           {"HTTP_RETRY_BASE", "0.01"},        {"HTTP_RETRY_MAX", "0.05"},
            {"TMPDIR", dir_.path().string()}};
  }

  ProcessResult Prepare(std::vector<std::string> args) {
    args.insert(args.begin(), {ORCH_BINARY, "prepare"});
    ProcessResult result = Subprocess::Run(args, env_, dir_.path().string(), 120s);
    EXPECT_FALSE(result.timed_out);
    return result;
  }

  nlohmann::json PrepareJson() {
    const ProcessResult result = Prepare({"--hub", kHubUrl, "--label", "department", "--json"});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    const nlohmann::json report = nlohmann::json::parse(result.out, nullptr, false);
    EXPECT_TRUE(report.is_object() && report["labels"].size() == 1) << result.out;
    return report.is_object() && report["labels"].size() == 1 ? report["labels"][0] : nlohmann::json::object();
  }

  std::string File(const std::string& revision, const std::string& path) {
    const auto file = hub_.repos().FileAt("dataset", kRepo, revision, path);
    return file ? file->content : "<missing " + path + " at " + revision + ">";
  }

  // The version_tag main's dataset_metadata.json names, of every commit of main that changed it.
  std::vector<std::string> MetadataVersionsOfMain() {
    std::vector<std::string> versions;
    std::string newer_text;
    const auto history = hub_.repos().Commits("dataset", kRepo);
    for (auto commit = history.rbegin(); commit != history.rend(); ++commit) {
      const auto file = hub_.repos().FileAt("dataset", kRepo, commit->oid, "dataset_metadata.json");
      if (!file || file->content == newer_text) continue;
      newer_text = file->content;
      versions.push_back(nlohmann::json::parse(file->content)["version_tag"]);
    }
    return versions;
  }

  // Every tag of the repository names a commit whose metadata names that tag, and whose data files
  // are all there.
  void ExpectEveryTagIsAWholeVersion() {
    for (const auto& [tag, commit] : hub_.repos().Tags("dataset", kRepo)) {
      const nlohmann::json metadata = nlohmann::json::parse(File(commit, "dataset_metadata.json"), nullptr, false);
      EXPECT_EQ(metadata.value("version_tag", ""), tag);
      int rows = 0;
      for (const char* split : {"data/train.jsonl", "data/validation.jsonl", "data/test.jsonl"}) {
        const std::string text = File(commit, split);
        EXPECT_FALSE(text.starts_with("<missing")) << text;
        rows += static_cast<int>(std::count(text.begin(), text.end(), '\n'));
      }
      EXPECT_EQ(rows, metadata.value("num_samples", -1)) << tag;
    }
  }

  FakeHub hub_;
  TempDir dir_;
  std::unique_ptr<AppDatabase> database_;
  std::map<std::string, std::string> env_;
};

TEST_F(PrepareHubCli, PublishesTheDataThenTheMetadataThenTheTagIntoAPrivateRepository) {
  const nlohmann::json label = PrepareJson();
  const std::string tag = label.value("version_tag", "");
  EXPECT_EQ(label["repository"], "hf://datasets/acme/grievances-department");
  EXPECT_EQ(label["num_samples"], 90);
  FakeHubRepos& repos = hub_.repos();
  ASSERT_TRUE(repos.HasRepo("dataset", kRepo));
  EXPECT_TRUE(repos.IsPrivate("dataset", kRepo));
  EXPECT_FALSE(repos.HasRepo("dataset", "acme/grievances-urgency"));

  // Two commits on the Hub's initial one: the data, then the metadata, which the tag is on.
  const auto history = repos.Commits("dataset", kRepo);
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].oid, label["commit"]);
  EXPECT_EQ(history[0].title, "Publish " + tag);
  EXPECT_EQ(history[1].title, "Add the department dataset " + tag);
  EXPECT_EQ(history[0].parent, history[1].oid);
  EXPECT_EQ(repos.Tags("dataset", kRepo), (std::map<std::string, std::string>{{tag, history[0].oid}}));
  EXPECT_EQ(repos.PathsAt("dataset", kRepo, history[1].oid),
            (std::vector<std::string>{".gitattributes", "README.md", "data/test.jsonl", "data/train.jsonl",
                                      "data/validation.jsonl", "labels.json"}))
      << "the data commit has no metadata";
  EXPECT_EQ(repos.PathsAt("dataset", kRepo, tag).size(), 7u);
  const nlohmann::json metadata = nlohmann::json::parse(File(tag, "dataset_metadata.json"));
  EXPECT_EQ(metadata["version_tag"], tag);
  EXPECT_EQ(metadata["num_samples"], 90);
  EXPECT_EQ(metadata["dataset_name"], "department");
  ExpectEveryTagIsAWholeVersion();

  // The card's YAML, as the Hub's tools read it: the three splits and the class names of labels.json.
  const nlohmann::json card = testing::ReadYaml(File(tag, "README.md"), /*front_matter=*/true);
  ASSERT_TRUE(card.is_object());
  EXPECT_EQ(card["configs"][0]["data_files"][0], (nlohmann::json{{"split", "train"}, {"path", "data/train.jsonl"}}));
  EXPECT_EQ(card["configs"][0]["data_files"].size(), 3u);
  const nlohmann::json labels = nlohmann::json::parse(File(tag, "labels.json"));
  const nlohmann::json& names = card["dataset_info"]["features"][1]["dtype"]["class_label"]["names"];
  ASSERT_EQ(names.size(), labels.size());
  for (const auto& [name, id] : labels.items()) EXPECT_EQ(names[std::to_string(id.get<int>())], name);

  // The token went to the Hub's API only; nothing was refused but the reads of files a new
  // repository has not got yet (labels.json, dataset_metadata.json).
  for (const FakeHub::RecordedCall& call : hub_.Calls()) {
    EXPECT_EQ(call.authorization, "Bearer hf_test_token") << call.path;
    EXPECT_TRUE(call.status < 400 || (call.status == 404 && Contains(call.path, "/resolve/")))
        << call.status << " " << call.method << " " << call.path;
  }
  for (const FakeHubRepos::StorageCall& call : repos.StorageCalls()) EXPECT_EQ(call.authorization, "");
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path()))
    EXPECT_FALSE(entry.path().filename().string().starts_with("orchestrator-prepare-"))
        << "the split files' scratch directory is removed: " << entry.path();

  // A second run: a second version on top, the same splits.
  const nlohmann::json second = PrepareJson();
  const std::string second_tag = second.value("version_tag", "");
  EXPECT_NE(second_tag, tag);
  EXPECT_EQ(repos.Tags("dataset", kRepo).size(), 2u);
  EXPECT_EQ(File(second_tag, "data/train.jsonl"), File(tag, "data/train.jsonl"));
  EXPECT_EQ(File(second_tag, "labels.json"), File(tag, "labels.json")) << "ids are read back from main";
  EXPECT_EQ(MetadataVersionsOfMain(), (std::vector<std::string>{tag, second_tag}));
  ExpectEveryTagIsAWholeVersion();
}

TEST_F(PrepareHubCli, HfRepoPrivateFalseCreatesThePublicRepositoryAndOneThatExistsKeepsItsVisibility) {
  env_["HF_REPO_PRIVATE"] = "false";
  PrepareJson();
  ASSERT_TRUE(hub_.repos().HasRepo("dataset", kRepo));
  EXPECT_FALSE(hub_.repos().IsPrivate("dataset", kRepo));

  hub_.repos().CreateRepo("dataset", "acme/grievances-urgency", /*is_private=*/true);
  database_->AddMisclassified(40, "urgency");
  const ProcessResult urgency = Prepare({"--hub", kHubUrl, "--label", "urgency"});
  ASSERT_EQ(urgency.exit_code, 0) << urgency.err;
  EXPECT_EQ(hub_.repos().Tags("dataset", "acme/grievances-urgency").size(), 1u);
  EXPECT_TRUE(hub_.repos().IsPrivate("dataset", "acme/grievances-urgency")) << "its visibility is the Hub's to change";
}

TEST_F(PrepareHubCli, APassStoppedBetweenTheCommitsLeavesNoMetadataAndTheNextPublishesOnce) {
  const std::string first = PrepareJson().value("version_tag", "");
  // The next pass's second commit (its metadata) fails at each of its three attempts.
  hub_.InjectFault("/commit/main", Fault::Status(503, 3), /*after=*/1);
  const ProcessResult stopped = Prepare({"--hub", kHubUrl, "--label", "department"});
  EXPECT_EQ(stopped.exit_code, 1);
  EXPECT_TRUE(Contains(stopped.err,
                       "hf://datasets/acme/grievances-department: cannot commit onto main: the Hub "
                       "answered HTTP 503 after 3 attempts"))
      << stopped.err;
  const auto history = hub_.repos().Commits("dataset", kRepo);
  ASSERT_EQ(history.size(), 4u) << "the data commit landed, the metadata did not";
  EXPECT_TRUE(history[0].title.starts_with("Add the department dataset ")) << history[0].title;
  EXPECT_EQ(nlohmann::json::parse(File("main", "dataset_metadata.json"))["version_tag"], first)
      << "main's metadata still names the version whose data it has";
  EXPECT_EQ(hub_.repos().Tags("dataset", kRepo).size(), 1u);

  const std::string next = PrepareJson().value("version_tag", "");
  EXPECT_EQ(hub_.repos().Tags("dataset", kRepo).size(), 2u);
  EXPECT_TRUE(hub_.repos().Tags("dataset", kRepo).contains(next));
  EXPECT_EQ(MetadataVersionsOfMain(), (std::vector<std::string>{first, next})) << "each version published once";
  ExpectEveryTagIsAWholeVersion();
}

TEST_F(PrepareHubCli, APassStoppedBeforeTheTagIsFinishedByTheNext) {
  hub_.InjectFault("/tag/", Fault::Status(503, 3));
  const ProcessResult stopped = Prepare({"--hub", kHubUrl, "--label", "department", "--json"});
  EXPECT_EQ(stopped.exit_code, 1);
  const nlohmann::json report = nlohmann::json::parse(stopped.out, nullptr, false);
  ASSERT_TRUE(report.is_object()) << stopped.out;
  const std::string error = report.value("error", "");
  EXPECT_TRUE(Contains(error, "hf://datasets/acme/grievances-department: cannot tag ")) << error;
  EXPECT_TRUE(hub_.repos().Tags("dataset", kRepo).empty());
  const std::string untagged = nlohmann::json::parse(File("main", "dataset_metadata.json"))["version_tag"];
  const std::string metadata_commit = hub_.repos().Branches("dataset", kRepo).at("main");

  hub_.ClearCalls();
  const nlohmann::json next = PrepareJson();
  const std::string next_tag = next.value("version_tag", "");
  EXPECT_NE(next_tag, untagged);
  EXPECT_EQ(hub_.repos().Tags("dataset", kRepo),
            (std::map<std::string, std::string>{{untagged, metadata_commit}, {next_tag, next["commit"]}}))
      << "the stopped version got its tag, on its own commit, before the next was published";
  std::vector<std::string> tagged;
  for (const FakeHub::RecordedCall& call : hub_.Calls())
    if (call.method == "POST" && Contains(call.path, "/tag/"))
      tagged.push_back(nlohmann::json::parse(call.body)["tag"]);
  EXPECT_EQ(tagged, (std::vector<std::string>{untagged, next_tag}));
  EXPECT_EQ(MetadataVersionsOfMain(), (std::vector<std::string>{untagged, next_tag})) << "each version published once";
  ExpectEveryTagIsAWholeVersion();
}

TEST_F(PrepareHubCli, AMetadataCommitWhoseAnswerWasLostIsNotMadeTwice) {
  hub_.InjectFault("/commit/main", Fault::CarryOutThenStatus(502), /*after=*/1);
  const nlohmann::json label = PrepareJson();
  const auto history = hub_.repos().Commits("dataset", kRepo);
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].oid, label["commit"]);
  EXPECT_EQ(hub_.Count("POST", "/commit/main"), 2);
  EXPECT_EQ(hub_.repos().Tags("dataset", kRepo).at(label["version_tag"]), history[0].oid);
  ExpectEveryTagIsAWholeVersion();
}

TEST_F(PrepareHubCli, ACommitRefusedAsStaleIsMadeAgainOnMainsNewHead) {
  hub_.InjectFault("/commit/main", Fault::Status(412));
  const nlohmann::json label = PrepareJson();
  EXPECT_EQ(hub_.repos().Commits("dataset", kRepo).size(), 3u) << "the refused commit changed nothing";
  EXPECT_EQ(hub_.Count("POST", "/commit/main"), 3);
  EXPECT_EQ(MetadataVersionsOfMain(), (std::vector<std::string>{label.value("version_tag", "")}));
  ExpectEveryTagIsAWholeVersion();
}

TEST_F(PrepareHubCli, MistakesStopItBeforeAnythingIsReadOrSent) {
  const std::pair<std::vector<std::string>, const char*> cases[] = {
      {{"--hub", "hf://datasets/acme/grievances"},
       "--hub: hf://datasets/acme/grievances would be the one repository of 2 labels (department, urgency)"},
      {{"--hub", "hf://datasets/acme/grievances-{label}@v1", "--label", "department"}, "names the revision @v1"},
      {{"--hub", "hf://datasets/acme", "--label", "department"}, "--hub: \"hf://datasets/acme\" is not a repository"},
      {{"--hub", "https://huggingface.co/datasets/acme/x", "--label", "department"}, "without the host"},
  };
  for (const auto& [args, expected] : cases) {
    const ProcessResult result = Prepare(args);
    EXPECT_EQ(result.exit_code, 2) << args[1];
    EXPECT_TRUE(Contains(result.err, expected)) << result.err;
  }
  env_.erase("HF_TOKEN");
  const ProcessResult no_token = Prepare({"--hub", kHubUrl, "--label", "department"});
  EXPECT_EQ(no_token.exit_code, 2);
  EXPECT_TRUE(Contains(no_token.err, "set HF_TOKEN to a token with write access to acme")) << no_token.err;
  EXPECT_TRUE(hub_.Calls().empty()) << "nothing was sent";
  EXPECT_FALSE(hub_.repos().HasRepo("dataset", kRepo));
}

TEST_F(PrepareHubCli, ATokenThatMayNotCreateTheRepositoryIsToldSo) {
  hub_.InjectFault("/api/repos/create", Fault::Status(403));
  const ProcessResult result = Prepare({"--hub", kHubUrl, "--label", "department"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_TRUE(Contains(result.err,
                       "hf://datasets/acme/grievances-department: cannot create the repository: HF_TOKEN "
                       "may not create repositories under acme (403)"))
      << result.err;
  EXPECT_FALSE(Contains(result.err, "hf_test_token"));
}

// ---- every step of a publication, refused ----------------------------------------------------

constexpr RefusedStep kSteps[] = {
    {"create", "/api/repos/create", "POST", 0, false},  // the repository exists: a refusal may be borne
    {"refs", "/refs", "GET", 0, true},
    {"resolve", "/resolve/", "GET", 0, false},  // labels.json of main; a 404 is "none yet"
    {"preupload", "/preupload/main", "POST", 0, true},
    {"lfs_batch", "/info/lfs/objects/batch", "POST", 0, true},
    {"upload", "", "PUT", 0, true},
    {"data_commit", "/commit/main", "POST", 0, true},
    {"metadata_commit", "/commit/main", "POST", 1, true},
    {"tag", "/tag/", "POST", 0, true},
};
constexpr int kStatuses[] = {401, 403, 404, 409, 412, 429, 500, 502, 503};

class PrepareHubRefused : public PrepareHubCli, public ::testing::WithParamInterface<std::tuple<RefusedStep, int>> {
 protected:
  // Every commit of main that holds metadata holds the data it names: the three splits, their
  // rows as many as num_samples say, and labels.json.
  void ExpectNoMetadataWithoutItsData() {
    for (const auto& commit : hub_.repos().Commits("dataset", kRepo)) {
      const auto metadata = hub_.repos().FileAt("dataset", kRepo, commit.oid, "dataset_metadata.json");
      if (!metadata) continue;
      int rows = 0;
      for (const char* split : {"data/train.jsonl", "data/validation.jsonl", "data/test.jsonl"}) {
        const auto data = hub_.repos().FileAt("dataset", kRepo, commit.oid, split);
        ASSERT_TRUE(data) << split << " missing at " << commit.oid << ", which has metadata";
        rows += static_cast<int>(std::count(data->content.begin(), data->content.end(), '\n'));
      }
      EXPECT_TRUE(hub_.repos().FileAt("dataset", kRepo, commit.oid, "labels.json"));
      EXPECT_EQ(rows, nlohmann::json::parse(metadata->content).value("num_samples", -1)) << commit.oid;
    }
  }
};

TEST_P(PrepareHubRefused, LeavesNoMetadataWithoutItsDataSaysWhereAndTheNextPassPublishesOnce) {
  const auto& [step, status] = GetParam();
  // The repository exists, and says to send the splits through LFS, so that the batch and the
  // storage origin take part in every publication.
  hub_.repos().CreateRepo("dataset", kRepo, /*is_private=*/true);
  hub_.repos().CommitFiles("dataset", kRepo, "main",
                           {{".gitattributes", "*.jsonl filter=lfs diff=lfs merge=lfs -text\n"}}, "Splits in LFS");
  RefuseStep(hub_, step, status);
  const ProcessResult refused = Prepare({"--hub", kHubUrl, "--label", "department"});
  if (step.required) {
    EXPECT_EQ(refused.exit_code, 1) << refused.err;
  }
  if (refused.exit_code != 0) {
    EXPECT_EQ(refused.exit_code, 1) << refused.err;
    EXPECT_TRUE(Contains(refused.err, "hf://datasets/acme/grievances-department: cannot ")) << refused.err;
  }
  EXPECT_FALSE(Contains(refused.err, "hf_test_token"));
  ExpectNoMetadataWithoutItsData();

  hub_.ClearFaults();
  hub_.repos().ClearStorageFaults();
  const ProcessResult next = Prepare({"--hub", kHubUrl, "--label", "department"});
  ASSERT_EQ(next.exit_code, 0) << next.err;
  ExpectNoMetadataWithoutItsData();
  const std::vector<std::string> versions = MetadataVersionsOfMain();
  ASSERT_FALSE(versions.empty());
  const std::map<std::string, std::string> tags = hub_.repos().Tags("dataset", kRepo);
  for (const std::string& version : versions) {
    EXPECT_EQ(std::count(versions.begin(), versions.end(), version), 1) << version << " published twice";
    EXPECT_TRUE(tags.contains(version)) << version << " on main has no tag";
  }
  EXPECT_EQ(tags.size(), versions.size());
  ExpectEveryTagIsAWholeVersion();
  int uploads = 0;
  for (const FakeHubRepos::StorageCall& call : hub_.repos().StorageCalls()) uploads += call.method == "PUT";
  EXPECT_GT(uploads, 0) << "the splits went through LFS";
}

INSTANTIATE_TEST_SUITE_P(EveryStep, PrepareHubRefused,
                         ::testing::Combine(::testing::ValuesIn(kSteps), ::testing::ValuesIn(kStatuses)), RefusalName);

}  // namespace
}  // namespace orch
