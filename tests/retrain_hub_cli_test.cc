// `orchestrator retrain --models hf://OWNER/NAME`, the real binary publishing to a model repository
// on the fake Hub, with each step of that publication refused: a refused token's 401, a 412, a lost
// answer's 502 (the other statuses take the same paths of hub/hf_repository, which
// prepare_hub_cli_test.cc meets at every step of a dataset's publication). Whatever the refusal,
// the pass names the repository, main never holds a decision without the model it deployed, and
// the next pass decides the version once, with one candidate and one tag: a candidate left untagged
// is tagged, not trained again.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "support/dataset_repository.h"
#include "support/fake_hub.h"
#include "support/refused_step.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using testing::FakeHub;
using testing::FakeHubRepos;
using testing::ProcessResult;
using testing::RefusalName;
using testing::RefusedStep;
using testing::RefuseStep;
using testing::Subprocess;
using testing::TempDir;
using Fault = FakeHub::Fault;

constexpr char kRepo[] = "acme/grievances-department-model";
constexpr char kToken[] = "hf_retrainHubSECRET";
constexpr char kVersion[] = "v1";

std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);)
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line, nullptr, false));
  return lines;
}

bool Contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

constexpr RefusedStep kSteps[] = {
    {"create", "/api/repos/create", "POST", 0},
    {"refs", "/refs", "GET", 0},
    {"resolve", "/resolve/", "GET", 0},
    {"preupload", "/preupload/", "POST", 0},
    {"lfs_batch", "/info/lfs/objects/batch", "POST", 0},
    {"upload", "", "PUT", 0},
    {"first_commit", "/commit/main", "POST", 0},  // the card of a repository without a model
    {"branch", "/branch/", "POST", 0},
    {"candidate_commit", "/commit/candidates", "POST", 0},
    {"tag", "/tag/", "POST", 0},
    {"decision_commit", "/commit/main", "POST", 1},
};
constexpr int kStatuses[] = {401, 412, 502};

class RetrainHubRefused : public ::testing::TestWithParam<std::tuple<RefusedStep, int>> {
 protected:
  void SetUp() override {
    hub_.SetToken(kToken);
    testing::PublishVersion(dir_.path() / "hub" / "department", kVersion,
                            {.labels_json = R"({"Infrastructure": 0, "Education": 1, "Security": 2})",
                             .train = testing::DepartmentSplitJsonl(240, 1),
                             .validation = testing::DepartmentSplitJsonl(30, 2),
                             .test = testing::DepartmentSplitJsonl(30, 3)});
    env_ = {{"PATH", "/usr/bin:/bin"},       {"HF_ENDPOINT", hub_.endpoint()}, {"HF_TOKEN", kToken},
            {"HTTP_RETRIES", "2"},           {"HTTP_RETRY_BASE", "0.01"},      {"HTTP_RETRY_MAX", "0.05"},
            {"TMPDIR", dir_.path().string()}};
  }

  ProcessResult Retrain() {
    const ProcessResult result =
        Subprocess::Run({ORCH_BINARY, "retrain", "--label", "department", "--dataset",
                         (dir_.path() / "hub" / "department").string(), "--models", std::string("hf://") + kRepo},
                        env_, dir_.path().string(), 120s);
    EXPECT_FALSE(result.timed_out);
    EXPECT_FALSE(Contains(result.out + result.err, kToken)) << "the token leaked";
    return result;
  }

  // Every commit of main whose decisions deploy a model holds that model, and each decision names
  // a candidate that is tagged.
  void ExpectNoDecisionWithoutItsModel() {
    if (!hub_.repos().HasRepo("model", kRepo)) return;
    const std::map<std::string, std::string> tags = hub_.repos().Tags("model", kRepo);
    for (const auto& commit : hub_.repos().Commits("model", kRepo, "main")) {
      const auto decisions = hub_.repos().FileAt("model", kRepo, commit.oid, "decisions.jsonl");
      if (!decisions) continue;
      bool deployed = false;
      for (const nlohmann::json& line : JsonLines(decisions->content)) {
        ASSERT_TRUE(line.is_object()) << decisions->content;
        EXPECT_TRUE(tags.contains(line.value("dataset_version", ""))) << "a decision on a candidate with no tag";
        deployed = deployed || line.value("decision", "") == "accepted";
      }
      if (deployed) {
        EXPECT_TRUE(hub_.repos().FileAt("model", kRepo, commit.oid, "model.bin")) << commit.oid;
        EXPECT_TRUE(hub_.repos().FileAt("model", kRepo, commit.oid, "model.json")) << commit.oid;
      }
    }
  }

  FakeHub hub_;
  TempDir dir_;
  std::map<std::string, std::string> env_;
};

TEST_P(RetrainHubRefused, SaysWhereLeavesNoDecisionWithoutItsModelAndTheNextPassDecidesOnce) {
  const auto& [step, status] = GetParam();
  RefuseStep(hub_, step, status);
  const ProcessResult refused = Retrain();
  if (refused.exit_code != 0) {
    EXPECT_EQ(refused.exit_code, 1) << refused.err;
    EXPECT_TRUE(Contains(refused.err, std::string("hf://") + kRepo)) << refused.err;
  }
  ExpectNoDecisionWithoutItsModel();

  hub_.ClearFaults();
  hub_.repos().ClearStorageFaults();
  const ProcessResult next = Retrain();
  ASSERT_EQ(next.exit_code, 0) << next.err;
  ExpectNoDecisionWithoutItsModel();
  EXPECT_EQ(hub_.repos().Tags("model", kRepo).size(), 1u);
  EXPECT_TRUE(hub_.repos().Tags("model", kRepo).contains(kVersion));
  int candidates = 0;
  for (const auto& commit : hub_.repos().Commits("model", kRepo, "candidates")) {
    const auto card = hub_.repos().FileAt("model", kRepo, commit.oid, "model.json");
    const auto parent_card =
        commit.parent.empty() ? std::nullopt : hub_.repos().FileAt("model", kRepo, commit.parent, "model.json");
    candidates += card && (!parent_card || parent_card->content != card->content);
  }
  EXPECT_EQ(candidates, 1) << "one candidate of the version";
  const auto decisions = hub_.repos().FileAt("model", kRepo, "main", "decisions.jsonl");
  ASSERT_TRUE(decisions);
  const std::vector<nlohmann::json> lines = JsonLines(decisions->content);
  ASSERT_EQ(lines.size(), 1u) << decisions->content;
  EXPECT_EQ(lines[0]["dataset_version"], kVersion);
  EXPECT_EQ(lines[0]["decision"], "accepted");
  EXPECT_TRUE(hub_.repos().FileAt("model", kRepo, "main", "model.bin"));
}

// A retrain stopped between its candidate's commit and its tag: the next one tags that candidate
// and decides it, without training or uploading a model again.
TEST_F(RetrainHubRefused, ACandidateLeftUntaggedIsTaggedByTheNextRetrainWithoutTraining) {
  hub_.InjectFault("/tag/", Fault::Status(503, 1000).Only("POST"));
  ASSERT_EQ(Retrain().exit_code, 1);
  EXPECT_TRUE(hub_.repos().Tags("model", kRepo).empty());
  const std::string untagged = hub_.repos().Branches("model", kRepo).at("candidates");
  const auto uploads = [&] {
    int puts = 0;
    for (const FakeHubRepos::StorageCall& call : hub_.repos().StorageCalls()) puts += call.method == "PUT";
    return puts;
  };
  const int uploaded = uploads();
  ASSERT_GT(uploaded, 0);

  hub_.ClearFaults();
  const ProcessResult next = Retrain();
  ASSERT_EQ(next.exit_code, 0) << next.err;
  EXPECT_TRUE(Contains(next.err, "stopped before its tag")) << next.err;
  EXPECT_FALSE(Contains(next.err, "search round")) << "trained again:\n" << next.err;
  EXPECT_EQ(hub_.repos().Tags("model", kRepo).at(kVersion), untagged);
  EXPECT_EQ(hub_.repos().Branches("model", kRepo).at("candidates"), untagged) << "no second candidate";
  EXPECT_EQ(uploads(), uploaded) << "the model was not uploaded again";
  const auto decisions = hub_.repos().FileAt("model", kRepo, "main", "decisions.jsonl");
  ASSERT_TRUE(decisions);
  EXPECT_EQ(JsonLines(decisions->content).size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(EveryStep, RetrainHubRefused,
                         ::testing::Combine(::testing::ValuesIn(kSteps), ::testing::ValuesIn(kStatuses)), RefusalName);

}  // namespace
}  // namespace orch
