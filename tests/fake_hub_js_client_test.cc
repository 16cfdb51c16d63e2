// The official Hugging Face JavaScript client (@huggingface/hub, from npm) publishes to and reads
// from the fake Hub: proof that the fake speaks the Hub's protocol, not only what our code expects.
// tests/js/hub_client_proof.mjs drives the client and checks what it sees; this test checks what
// the fake holds and that the client never sent its token to the storage origin.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include "hub/content_hash.h"
#include "support/app_database.h"
#include "support/fake_hub.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"

namespace orch::testing {
namespace {

using nlohmann::json;

constexpr char kToken[] = "hf_test_token";
constexpr char kRepo[] = "tester/js_client_proof";
constexpr char kInstall[] = "scripts/install-deps.sh";

// Fails the test unless Node.js and @huggingface/hub are where the build was configured to find them.
void RequireTheOfficialClient() {
  const std::string node = ORCH_NODE, prefix = ORCH_NODE_PREFIX;
  ASSERT_TRUE(std::filesystem::exists(node))
      << "Node.js was not found when the build was configured: run " << kInstall << ", then configure again";
  ASSERT_TRUE(std::filesystem::exists(prefix + "/node_modules/@huggingface/hub/package.json"))
      << "@huggingface/hub is not installed in " << prefix << ": run " << kInstall << " " << prefix
      << " (make deps does)";
}

// The JSON after `marker` on the script's output; null when there is none.
json MarkedLine(const std::string& out, const std::string& marker) {
  const size_t line = out.find(marker + " ");
  if (line == std::string::npos) return nullptr;
  const size_t start = line + marker.size() + 1;
  return json::parse(out.substr(start, out.find('\n', start) - start), nullptr, false);
}

TEST(FakeHubJsClient, OfficialClientPublishesThroughLfsTagsAndReadsBack) {
  RequireTheOfficialClient();
  if (::testing::Test::HasFatalFailure()) return;
  const std::string node = ORCH_NODE, prefix = ORCH_NODE_PREFIX;

  FakeHub hub;
  // The 2.5 MiB shard goes up in three parts of 1 MiB; the 300 KiB weights in one PUT.
  hub.repos().SetMultipartUpload(2 * 1024 * 1024, 1024 * 1024);
  const ProcessResult result = Subprocess::Run({node, std::string(ORCH_SOURCE_DIR) + "/tests/js/hub_client_proof.mjs"},
                                               {{"PATH", "/usr/bin:/bin"},
                                                {"HF_ENDPOINT", hub.endpoint()},
                                                {"HF_TOKEN", kToken},
                                                {"ORCH_NODE_PREFIX", prefix},
                                                {"PROOF_REPO", kRepo}},
                                               "", std::chrono::seconds(120));
  ASSERT_EQ(result.exit_code, 0) << "stdout:\n" << result.out << "\nstderr:\n" << result.err;
  const json proof = MarkedLine(result.out, "PROOF");
  ASSERT_TRUE(proof.is_object()) << result.out;

  // What the fake holds is what the client published.
  FakeHubRepos& repos = hub.repos();
  EXPECT_EQ(repos.Tags("dataset", kRepo), (std::map<std::string, std::string>{{"v1", proof["first"]}}));
  std::vector<FakeHubRepos::Commit> history = repos.Commits("dataset", kRepo);
  ASSERT_EQ(history.size(), 3u) << "initial commit, version 1, version 2 (the stale one was refused)";
  EXPECT_EQ(history[0].oid, proof["second"]);
  EXPECT_EQ(history[0].parent, proof["first"]);
  EXPECT_EQ(history[0].title, "Publish version 2");
  auto weights = repos.FileAt("dataset", kRepo, "v1", "model.bin");
  auto shard = repos.FileAt("dataset", kRepo, "v1", "data/shard-00000-of-00001.parquet");
  auto train = repos.FileAt("dataset", kRepo, "v1", "data/train.jsonl");
  auto train_now = repos.FileAt("dataset", kRepo, "main", "data/train.jsonl");
  ASSERT_TRUE(weights && shard && train && train_now);
  EXPECT_TRUE(weights->lfs);
  EXPECT_EQ(weights->sha256, proof["sha256"]["weights"]);
  EXPECT_TRUE(shard->lfs);
  EXPECT_EQ(shard->sha256, proof["sha256"]["shard"]);
  EXPECT_FALSE(train->lfs);
  EXPECT_EQ(Sha256Hex(train->content), proof["sha256"]["train"]);
  EXPECT_EQ(Sha256Hex(train_now->content), proof["sha256"]["trainV2"]);

  // The client offered Xet; the fake's answer made it take the LFS upload, in one PUT and in parts.
  int batches = 0;
  for (const FakeHub::RecordedCall& call : hub.Calls()) {
    if (call.path.ends_with(".git/info/lfs/objects/batch")) {
      ++batches;
      EXPECT_NE(json::parse(call.body)["transfers"].dump().find("xet"), std::string::npos) << call.body;
    }
    EXPECT_EQ(call.path.find("xet"), std::string::npos) << call.path;
  }
  EXPECT_EQ(batches, 1) << "version 2 has no LFS file";
  EXPECT_GE(hub.Count("GET", "/tree/"), 2) << "the listing took more than one page";

  // The token went to the Hub, and never to the storage origin.
  int hub_calls_with_token = 0;
  for (const FakeHub::RecordedCall& call : hub.Calls()) hub_calls_with_token += call.authorization.empty() ? 0 : 1;
  EXPECT_EQ(hub_calls_with_token, static_cast<int>(hub.Calls().size()));
  int puts = 0, completions = 0, downloads = 0;
  for (const FakeHubRepos::StorageCall& call : repos.StorageCalls()) {
    EXPECT_EQ(call.authorization, "") << call.method << " " << call.path;
    EXPECT_EQ(call.query.find(kToken), std::string::npos);
    EXPECT_LT(call.status, 300) << call.method << " " << call.path;
    puts += call.method == "PUT" ? 1 : 0;
    completions += call.method == "POST" ? 1 : 0;
    downloads += call.method == "GET" ? 1 : 0;
  }
  EXPECT_EQ(puts, 1 + 3);
  EXPECT_EQ(completions, 1);
  EXPECT_GE(downloads, 2) << "both LFS files were read back from the storage origin";
}

// What the official client reads of `repo` ("namespace/name" of `type`) at `revision`, through
// tests/js/hub_read_back.mjs; null when the script failed (the test has then failed with its output).
json ReadBack(FakeHub& hub, const std::string& type, const std::string& repo, const std::string& revision) {
  const ProcessResult result =
      Subprocess::Run({ORCH_NODE, std::string(ORCH_SOURCE_DIR) + "/tests/js/hub_read_back.mjs"},
                      {{"PATH", "/usr/bin:/bin"},
                       {"HF_ENDPOINT", hub.endpoint()},
                       {"HF_TOKEN", kToken},
                       {"ORCH_NODE_PREFIX", ORCH_NODE_PREFIX},
                       {"READ_TYPE", type},
                       {"READ_REPO", repo},
                       {"READ_REVISION", revision}},
                      "", std::chrono::seconds(120));
  EXPECT_EQ(result.exit_code, 0) << "stdout:\n" << result.out << "\nstderr:\n" << result.err;
  const json read = MarkedLine(result.out, "READBACK");
  EXPECT_TRUE(read.is_object()) << result.out;
  return read.is_object() ? read : json(nullptr);
}

// The client listed every file the fake holds at `revision`, and no other, and downloaded each
// byte for byte.
void ExpectEveryFileReadBack(FakeHub& hub, const json& read, const std::string& type, const std::string& repo,
                             const std::string& revision) {
  std::vector<std::string> read_paths;
  for (const auto& [path, file] : read["files"].items()) read_paths.push_back(path);
  const std::vector<std::string> held_paths = hub.repos().PathsAt(type, repo, revision);
  EXPECT_EQ(read_paths, held_paths) << "every file at " << revision << ", and no other";
  for (const std::string& path : held_paths) {
    const auto held = hub.repos().FileAt(type, repo, revision, path);
    ASSERT_TRUE(held);
    EXPECT_EQ(read["files"][path]["sha256"], Sha256Hex(held->content)) << path << " at " << revision;
  }
}

bool HasLine(const json& lines, const std::string& wanted) {
  return std::find(lines.begin(), lines.end(), wanted) != lines.end();
}

// The environment of `orchestrator prepare` and `retrain` against the fake Hub.
std::map<std::string, std::string> CommandEnv(const FakeHub& hub, const TempDir& dir, const std::string& database_url) {
  return {{"PATH", "/usr/bin:/bin"},       {"DATABASE_URL", database_url},       {"THRESHOLD_DEPARTMENT", "40"},
          {"THRESHOLD_URGENCY", "30"},     {"HF_ENDPOINT", hub.endpoint()},      {"HF_TOKEN", kToken},
          {"TMPDIR", dir.path().string()}, {"XDG_CACHE_HOME", dir.File("cache")}};
}

class FakeHubJsReadBack : public ::testing::Test {
 protected:
  static constexpr const char* kDatasets = "acme/grievances-department";
  static constexpr const char* kModels = "acme/grievances-department-model";

  void SetUp() override {
    RequireTheOfficialClient();
    if (HasFatalFailure()) return;
    database = AppDatabase::Sqlite(dir.File("app.db"));
    database->CreateSchema();
    database->AddMisclassified(60, "department");
    database->AddCorrectComplaints(100);
    env = CommandEnv(hub, dir, database->url());
  }

  // `orchestrator args...`, which must succeed; its standard output as JSON.
  json Orchestrator(std::vector<std::string> args) {
    args.insert(args.begin(), ORCH_BINARY);
    const ProcessResult result = Subprocess::Run(args, env, dir.path().string(), std::chrono::seconds(120));
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_EQ(result.err.find(kToken), std::string::npos) << "the token leaked";
    return json::parse(result.out, nullptr, false);
  }
  // Publishes the department's dataset; returns what prepare reported of it.
  json Prepare() {
    const json out =
        Orchestrator({"prepare", "--hub", "hf://datasets/acme/grievances-{label}", "--label", "department", "--json"});
    return out.is_object() ? out["labels"][0] : json(nullptr);
  }

  FakeHub hub;
  TempDir dir;
  std::unique_ptr<AppDatabase> database;
  std::map<std::string, std::string> env;
};

// What `orchestrator prepare --hub hf://...` publishes, read back at its tag by the official client
// as any user of the Hub would: every file listed and downloaded is the one the fake holds, the
// metadata names the tag, the splits have the rows prepare reported.
TEST_F(FakeHubJsReadBack, OfficialClientReadsBackWhatPreparePublished) {
  if (HasFatalFailure()) return;
  const json label = Prepare();
  ASSERT_TRUE(label.is_object());
  const std::string tag = label["version_tag"];

  const json read = ReadBack(hub, "dataset", kDatasets, tag);
  ASSERT_TRUE(read.is_object());
  EXPECT_EQ(read["private"], true);
  EXPECT_EQ(read["version_tag"], tag);
  EXPECT_EQ(read["rows"], label["splits"]);
  EXPECT_TRUE(HasLine(read["yaml_lines"], "configs:")) << read["yaml_lines"].dump();
  ExpectEveryFileReadBack(hub, read, "dataset", kDatasets, tag);
  EXPECT_EQ(read["labels"], json::parse(hub.repos().FileAt("dataset", kDatasets, tag, "labels.json")->content));
}

// What `orchestrator retrain --dataset hf://... --models hf://...` publishes, read back by the
// official client: the candidate at its dataset version's tag, and main, the deployed model with
// its card (the YAML the Hub reads) and its decision history.
TEST_F(FakeHubJsReadBack, OfficialClientReadsBackWhatRetrainPublished) {
  if (HasFatalFailure()) return;
  const json label = Prepare();
  ASSERT_TRUE(label.is_object());
  const std::string version = label["version_tag"];
  const json decision =
      Orchestrator({"retrain", "--label", "department", "--dataset", std::string("hf://datasets/") + kDatasets,
                    "--models", std::string("hf://") + kModels, "--json"});
  ASSERT_TRUE(decision.is_object());
  EXPECT_EQ(decision["dataset_version"], version);

  const json candidate = ReadBack(hub, "model", kModels, version);
  ASSERT_TRUE(candidate.is_object());
  ExpectEveryFileReadBack(hub, candidate, "model", kModels, version);
  EXPECT_EQ(candidate["fasttext_magic"], 793712314) << "model.bin is a fastText model";
  EXPECT_EQ(candidate["model"]["dataset_version"], version);
  EXPECT_EQ(candidate["model"]["label"], "department");

  const json main = ReadBack(hub, "model", kModels, "main");
  ASSERT_TRUE(main.is_object());
  EXPECT_EQ(main["private"], true);
  ExpectEveryFileReadBack(hub, main, "model", kModels, "main");
  EXPECT_EQ(main["files"]["model.bin"], candidate["files"]["model.bin"]) << "main deploys the candidate";
  const json& yaml = main["yaml_lines"];
  EXPECT_TRUE(HasLine(yaml, "library_name: fasttext")) << yaml.dump();
  EXPECT_TRUE(HasLine(yaml, "pipeline_tag: text-classification")) << yaml.dump();
  EXPECT_TRUE(HasLine(yaml, "model-index:")) << yaml.dump();
  ASSERT_TRUE(main["decisions"].is_array());
  ASSERT_EQ(main["decisions"].size(), 1u);
  EXPECT_EQ(main["decisions"][0]["dataset_version"], version);
  EXPECT_EQ(main["decisions"][0]["decision"], decision["decision"]);
}

}  // namespace
}  // namespace orch::testing
