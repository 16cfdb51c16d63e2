// The whole loop on the Hub with no Space of one's own, as the README's "On the Hugging Face Hub"
// sets it up: the database, hf-job: workers that run `orchestrator prepare` and `orchestrator
// retrain` as Hugging Face Jobs, and hf:// dataset and model repositories. The fake Hub runs each
// job here as the real binary, with the job's environment and secrets as its whole environment, so
// the pass, the Jobs, the repositories and the reference workers meet only through the Hub's API.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "db/state_store.h"
#include "support/fake_hub.h"
#include "support/pass_world.h"
#include "support/postgres_server.h"
#include "support/subprocess.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using testing::FakeHub;
using testing::FakeHubJobs;
using testing::ProcessResult;

constexpr const char* kToken = "hf_hubloopSECRET";
constexpr const char* kImage = "ghcr.io/acme/orchestrator:1";
constexpr const char* kDatasets = "tester/grievances-department";
constexpr const char* kModels = "tester/grievances-department-model";

class HubLoop : public ::testing::TestWithParam<std::string>, public testing::PassWorld {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") ORCH_REQUIRE_POSTGRES();
    Open(GetParam(), kToken);
    // Every job of the image is the real binary: `orchestrator ...` runs it.
    hub.jobs().SetBehavior(kImage, FakeHubJobs::Behavior::Execute(ORCH_BINARY));
    env["LABELS"] = "department";
    env["ORCHESTRATOR_NAME"] = "grievances";
    env["HF_HUB_METADATA_DEPT"] = hub.MetadataUrl(kDatasets);
    env["PREPARE_DATASET_REPO"] =
        std::string("hf-job:") + kImage + " orchestrator prepare --hub hf://datasets/tester/grievances-{label}";
    env["RETRAIN_DEPT_REPO"] = std::string("hf-job:") + kImage +
                               " orchestrator retrain --label department --dataset hf://datasets/" + kDatasets +
                               " --models hf://" + kModels;
    env["POLL_TIMEOUT"] = "120";
  }

  ProcessResult Run() { return RunOrchestrator({"run", "--wait", "--wait-lock", "10"}, 300s); }
};

TEST_P(HubLoop, PreparesAndRetrainsAsJobsThroughHubRepositoriesOnceEach) {
  const ProcessResult first = Run();
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  const nlohmann::json summary = nlohmann::json::parse(first.out);
  ASSERT_EQ(summary["labels"].size(), 1u) << first.out;
  EXPECT_EQ(summary["labels"][0]["outcome"], "retrain_triggered") << first.out;
  EXPECT_EQ(summary["labels"][0]["retrain"]["result"], "finished") << first.out;

  // The prepare job published a tagged version into the dataset repository on the Hub.
  const std::map<std::string, std::string> tags = hub.repos().Tags("dataset", kDatasets);
  ASSERT_EQ(tags.size(), 1u);
  const std::string version = tags.begin()->first;
  const auto metadata = hub.repos().FileAt("dataset", kDatasets, "main", "dataset_metadata.json");
  ASSERT_TRUE(metadata);
  EXPECT_EQ(nlohmann::json::parse(metadata->content)["version_tag"], version);

  // The retrain job trained on it and deployed the model in the model repository on the Hub.
  EXPECT_EQ(hub.repos().Tags("model", kModels).count(version), 1u) << "the candidate is tagged with the version";
  EXPECT_TRUE(hub.repos().FileAt("model", kModels, "main", "model.bin")) << "main is the deployed model";
  const auto card = hub.repos().FileAt("model", kModels, "main", "README.md");
  ASSERT_TRUE(card);
  EXPECT_NE(card->content.find("model-index"), std::string::npos);
  EXPECT_NE(card->content.find(kDatasets), std::string::npos) << "the card names the dataset on the Hub";
  EXPECT_EQ(StateOf("department").last_retrained_version, version);

  // Each job had the token as a secret only, and the next pass starts none.
  const std::vector<FakeHubJobs::Job> jobs = hub.jobs().Jobs();
  ASSERT_EQ(jobs.size(), 2u);
  for (const FakeHubJobs::Job& job : jobs) {
    EXPECT_EQ(job.stage, "COMPLETED") << job.message;
    for (const auto& [name, value] : job.environment) EXPECT_EQ(value.find(kToken), std::string::npos) << name;
  }
  const ProcessResult second = Run();
  EXPECT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(hub.jobs().Jobs().size(), 2u) << "nothing new: no job started";
  EXPECT_EQ(hub.repos().Tags("model", kModels).size(), 1u) << "the version was trained once";
}

INSTANTIATE_TEST_SUITE_P(Engines, HubLoop, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace orch
