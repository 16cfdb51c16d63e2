// HfRepository against the fake Hub over real HTTP on loopback: every method of the Repository
// interface, and every way the Hub and its storage fail.
#include "hub/hf_repository.h"

#include <gtest/gtest.h>

#include <random>

#include "hub/content_hash.h"
#include "support/error_of.h"
#include "support/fake_hub.h"
#include "support/temp_dir.h"

namespace orch {
namespace {

using testing::FakeHub;
using testing::FakeHubRepos;
using testing::MessageOf;
using testing::TempDir;
using Fault = FakeHub::Fault;

constexpr char kRepo[] = "acme/data";
constexpr char kToken[] = "hf_test_token";

bool Contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

std::string RandomBytes(size_t size, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::string bytes(size, '\0');
  for (char& byte : bytes) byte = static_cast<char>(random() & 0xff);
  return bytes;
}

HttpSettings FastSettings() {
  HttpSettings settings;
  settings.connect_timeout = 2;
  settings.request_timeout = 10;
  settings.max_retries = 3;
  settings.retry_base = 0.01;
  settings.retry_max = 0.05;
  settings.max_connections = 4;
  return settings;
}

class HfRepositoryTest : public ::testing::Test {
 protected:
  HfRepositoryTest() {
    // Small pages, so that every listing is read through its Link headers.
    hub.repos().SetTreePageSize(2);
    // The 300 KiB weights go up in three parts of 128 KiB; anything under 256 KiB in one PUT.
    hub.repos().SetMultipartUpload(256 * 1024, 128 * 1024);
  }

  std::unique_ptr<HfRepository> Open(const std::string& repo = kRepo, const std::string& token = kToken,
                                     HfRepositoryType type = HfRepositoryType::kDataset,
                                     HttpSettings settings = FastSettings()) {
    return std::make_unique<HfRepository>(settings, hub.endpoint(), token, type, repo, true,
                                          [this](const RetryNotice& notice) { retries.push_back(notice); });
  }

  // main's head on the fake.
  std::string Main(const std::string& repo = kRepo) { return hub.repos().Branches("dataset", repo).at("main"); }
  size_t History(const std::string& repo = kRepo) { return hub.repos().Commits("dataset", repo).size(); }

  // A commit of a card (bytes), a regular file and two LFS files, from local files.
  CommitRequest Publication() {
    testing::WriteFile(dir.File("train.jsonl"), train);
    testing::WriteFile(dir.File("model.bin"), weights);
    testing::WriteFile(dir.File("small.bin"), small);
    CommitRequest request;
    request.summary = "Add version 1";
    request.description = "the data";
    request.additions.push_back(FileAddition::FromBytes("README.md", "# card\n"));
    request.additions.push_back(FileAddition::FromFile("data/train.jsonl", dir.File("train.jsonl")));
    request.additions.push_back(FileAddition::FromFile("model.bin", dir.File("model.bin")));
    request.additions.push_back(FileAddition::FromFile("data/small.bin", dir.File("small.bin")));
    return request;
  }

  void ExpectNoTokenReachedTheStorage() {
    for (const FakeHubRepos::StorageCall& call : hub.repos().StorageCalls())
      EXPECT_EQ(call.authorization, "") << call.method << " " << call.path;
  }

  FakeHub hub;
  TempDir dir;
  std::vector<RetryNotice> retries;
  const std::string train = std::string("{\"grievance\": \"road\", \"label\": 0}\n") + std::string(2000, 'x') + "\n";
  const std::string weights = RandomBytes(300 * 1024, 1);
  const std::string small = RandomBytes(50 * 1024, 2);
};

TEST_F(HfRepositoryTest, CreatesAPrivateRepositoryOnceAndNamesIt) {
  auto repository = Open();
  EXPECT_EQ(repository->Name(), "hf://datasets/acme/data");
  repository->CreateIfMissing();
  ASSERT_TRUE(hub.repos().HasRepo("dataset", kRepo));
  const std::string head = Main();
  repository->CreateIfMissing();  // known to exist: nothing sent
  EXPECT_EQ(hub.Count("POST", "/api/repos/create"), 1);
  Open()->CreateIfMissing();  // 409: exists, fine
  EXPECT_EQ(Main(), head);
  EXPECT_EQ(hub.Count("POST", "/api/repos/create"), 2);
  const auto calls = hub.Calls();
  ASSERT_FALSE(calls.empty());
  const nlohmann::json body = nlohmann::json::parse(calls.front().body);
  EXPECT_EQ(body["visibility"], "private");
  EXPECT_EQ(body["type"], "dataset");
  EXPECT_EQ(body["organization"], "acme");
  EXPECT_EQ(body["name"], "data");
  EXPECT_EQ(repository->HeadOf("main"), head);
}

TEST_F(HfRepositoryTest, ATokenThatMayNotCreateIsFineWhenTheRepositoryExists) {
  hub.repos().CreateRepo("dataset", kRepo);
  hub.InjectFault("/api/repos/create", Fault::Status(403));
  auto repository = Open();
  EXPECT_NO_THROW(repository->CreateIfMissing());
  EXPECT_EQ(hub.Count("GET", "/api/datasets/acme/data"), 1) << "the repository's information decided";

  hub.InjectFault("/api/repos/create", Fault::Status(403));
  const std::string error = MessageOf<RepositoryError>([&] { Open("acme/other")->CreateIfMissing(); });
  EXPECT_TRUE(
      error.starts_with("hf://datasets/acme/other: cannot create the repository: HF_TOKEN may not create "
                        "repositories under acme (403): Forbidden (request id fake-"))
      << error;
  EXPECT_TRUE(Contains(error, "Write access to contents/settings of all repos under acme")) << error;
}

TEST_F(HfRepositoryTest, ARefusedTokenIsToldWhatToDo) {
  hub.repos().CreateRepo("dataset", kRepo);
  const std::string error = MessageOf<RepositoryError>([&] { Open(kRepo, "hf_wrong")->HeadOf("main"); });
  EXPECT_TRUE(Contains(error,
                       "hf://datasets/acme/data: cannot read the commit main points to: the Hub refused "
                       "HF_TOKEN (401): Invalid credentials in Authorization header (request id fake-"))
      << error;
  EXPECT_TRUE(Contains(error, "set HF_TOKEN to a valid, unexpired token")) << error;
  EXPECT_FALSE(Contains(error, "hf_wrong")) << "never the token itself";

  auto repository = Open();
  hub.InjectFault("/commit/main", Fault::Status(403));
  const std::string refused = MessageOf<RepositoryError>([&] { repository->Commit(Publication()); });
  EXPECT_TRUE(Contains(refused, "cannot commit onto main: HF_TOKEN may not write to hf://datasets/acme/data (403)"))
      << refused;
}

TEST_F(HfRepositoryTest, HeadOfReadsBranchesTagsAndCommits) {
  hub.repos().CreateRepo("dataset", kRepo);
  const std::string first = Main();
  const std::string second = hub.repos().CommitFiles("dataset", kRepo, "main", {{"a.txt", "a"}}, "second");
  auto repository = Open();
  repository->CreateTag("v1", first);
  EXPECT_EQ(repository->HeadOf("main"), second);
  EXPECT_EQ(repository->HeadOf("v1"), first);
  EXPECT_EQ(repository->HeadOf(first), first);
  EXPECT_EQ(repository->HeadOf("v2"), std::nullopt);
  EXPECT_EQ(repository->HeadOf(std::string(40, 'a')), std::nullopt);
  // A branch first, then a tag of the same name.
  repository->CreateTag("both", first);
  repository->CreateBranch("both", second);
  EXPECT_EQ(repository->HeadOf("both"), second);
}

TEST_F(HfRepositoryTest, CommitsRegularAndLfsFilesAndReadsThemBack) {
  auto repository = Open();
  repository->CreateIfMissing();
  const std::string parent = Main();
  CommitRequest request = Publication();
  request.parent_commit = parent;
  const std::string commit = repository->Commit(request);
  EXPECT_EQ(Main(), commit);
  const auto history = hub.repos().Commits("dataset", kRepo);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].parent, parent);
  EXPECT_EQ(history[0].title, "Add version 1");
  EXPECT_EQ(history[0].description, "the data");

  FakeHubRepos& repos = hub.repos();
  const auto card = repos.FileAt("dataset", kRepo, commit, "README.md");
  const auto data = repos.FileAt("dataset", kRepo, commit, "data/train.jsonl");
  const auto model = repos.FileAt("dataset", kRepo, commit, "model.bin");
  const auto shard = repos.FileAt("dataset", kRepo, commit, "data/small.bin");
  ASSERT_TRUE(card && data && model && shard);
  EXPECT_EQ(card->content, "# card\n");
  EXPECT_FALSE(data->lfs);
  EXPECT_EQ(data->content, train);
  EXPECT_TRUE(model->lfs);
  EXPECT_EQ(model->sha256, Sha256Hex(weights));
  EXPECT_TRUE(shard->lfs);
  EXPECT_EQ(shard->content, small);

  // The weights in three parts and a completion, the small file in one PUT, none with the token.
  int puts = 0, completions = 0;
  for (const FakeHubRepos::StorageCall& call : repos.StorageCalls()) {
    puts += call.method == "PUT" ? 1 : 0;
    completions += call.method == "POST" ? 1 : 0;
  }
  EXPECT_EQ(puts, 3 + 1);
  EXPECT_EQ(completions, 1);

  EXPECT_EQ(repository->ReadFile(commit, "data/train.jsonl", 1 << 20), train);
  EXPECT_EQ(repository->ReadFile("main", "model.bin", 1 << 20), weights) << "through the storage's redirect";
  EXPECT_EQ(repository->ReadFile(commit, "missing.txt", 1 << 20), std::nullopt);
  const std::string target = dir.File("downloaded.bin");
  EXPECT_TRUE(repository->DownloadFile(commit, "model.bin", target));
  EXPECT_EQ(testing::ReadFile(target), weights);
  EXPECT_FALSE(repository->DownloadFile(commit, "missing.bin", dir.File("missing.bin")));
  EXPECT_FALSE(std::filesystem::exists(dir.File("missing.bin")));
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    EXPECT_FALSE(entry.path().filename().string().ends_with(".tmp")) << entry.path();

  const std::vector<RepositoryFile> files = repository->ListFiles(commit);
  std::vector<std::string> paths;
  for (const RepositoryFile& file : files) paths.push_back(file.path);
  EXPECT_EQ(paths, (std::vector<std::string>{".gitattributes", "README.md", "data/small.bin", "data/train.jsonl",
                                             "model.bin"}));
  EXPECT_EQ(files[3].size, train.size());
  EXPECT_EQ(files[3].oid, GitBlobId(train));
  EXPECT_EQ(files[4].size, weights.size());
  EXPECT_GE(hub.Count("GET", "/tree/"), 3) << "every page of the listing";

  // The Hub's calls carried the token; the storage's (uploads and the redirected reads) never.
  for (const FakeHub::RecordedCall& call : hub.Calls()) EXPECT_EQ(call.authorization, "Bearer hf_test_token");
  EXPECT_GE(repos.StorageCalls().size(), 4u + 1u + 2u);
  ExpectNoTokenReachedTheStorage();
}

TEST_F(HfRepositoryTest, AModelRepositoryHasNoPrefix) {
  auto repository = Open("acme/classifier", kToken, HfRepositoryType::kModel);
  EXPECT_EQ(repository->Name(), "hf://acme/classifier");
  repository->CreateIfMissing();
  EXPECT_TRUE(hub.repos().HasRepo("model", "acme/classifier"));
  CommitRequest request;
  request.summary = "Deploy";
  request.additions.push_back(FileAddition::FromBytes("model.bin", weights));
  const std::string commit = repository->Commit(request);
  EXPECT_EQ(repository->ReadFile(commit, "model.bin", 1 << 20), weights);
  EXPECT_EQ(hub.Count("GET", "/acme/classifier/resolve/"), 1);
}

TEST_F(HfRepositoryTest, AStaleParentChangesNothing) {
  auto repository = Open();
  repository->CreateIfMissing();
  const std::string old_head = Main();
  hub.repos().CommitFiles("dataset", kRepo, "main", {{"other.txt", "someone else"}}, "Another writer");
  CommitRequest request = Publication();
  request.parent_commit = old_head;
  const std::string error = MessageOf<StaleParentError>([&] { repository->Commit(request); });
  EXPECT_TRUE(Contains(error, "hf://datasets/acme/data: cannot commit onto main: the branch is at ")) << error;
  EXPECT_EQ(History(), 2u);
  EXPECT_EQ(hub.Count("POST", "/commit/"), 0) << "the preupload showed the head had moved";
  EXPECT_TRUE(hub.repos().StorageCalls().empty()) << "nothing uploaded for a commit that cannot land";

  // The Hub's own 412 (the branch moved between the preupload and the commit).
  request.parent_commit = Main();
  hub.InjectFault("/commit/main", Fault::Status(412));
  EXPECT_THROW(repository->Commit(request), StaleParentError);
  EXPECT_EQ(History(), 2u);
}

TEST_F(HfRepositoryTest, ACommitWithoutAParentTriesAgainWhenTheBranchMoved) {
  auto repository = Open();
  repository->CreateIfMissing();
  hub.InjectFault("/commit/main", Fault::Status(412));
  const std::string commit = repository->Commit(Publication());
  EXPECT_EQ(Main(), commit);
  EXPECT_EQ(History(), 2u);
  EXPECT_EQ(hub.Count("POST", "/commit/main"), 2);
  EXPECT_EQ(hub.Count("POST", "/preupload/main"), 2) << "the head was read again";
}

TEST_F(HfRepositoryTest, MissingRepositoriesRevisionsAndFilesAreTheirErrors) {
  auto missing = Open("acme/missing");
  const std::string error = MessageOf<RepositoryNotFoundError>([&] { missing->HeadOf("main"); });
  EXPECT_TRUE(
      error.starts_with("hf://datasets/acme/missing: cannot read the commit main points to: the repository "
                        "does not exist (404): Repository not found (request id fake-"))
      << error;
  EXPECT_THROW(missing->Commit(Publication()), RepositoryNotFoundError);
  EXPECT_THROW(missing->CreateTag("v1", "main"), RepositoryNotFoundError);
  EXPECT_THROW(missing->CreateBranch("b", "main"), RepositoryNotFoundError);
  EXPECT_THROW(missing->ReadFile("main", "README.md", 100), RepositoryNotFoundError);
  EXPECT_THROW(missing->DownloadFile("main", "README.md", dir.File("r")), RepositoryNotFoundError);
  EXPECT_THROW(missing->ListFiles("main"), RepositoryNotFoundError);

  auto repository = Open();
  repository->CreateIfMissing();
  CommitRequest onto_missing = Publication();
  onto_missing.branch = "nope";
  EXPECT_THROW(repository->Commit(onto_missing), RevisionNotFoundError);
  EXPECT_THROW(repository->ReadFile("v404", "README.md", 100), RevisionNotFoundError);
  EXPECT_THROW(repository->DownloadFile("v404", "README.md", dir.File("r")), RevisionNotFoundError);
  EXPECT_THROW(repository->ListFiles("v404"), RevisionNotFoundError);
  EXPECT_THROW(repository->CreateTag("v1", "v404"), RevisionNotFoundError);
  EXPECT_THROW(repository->CreateBranch("b", "v404"), RevisionNotFoundError);
  CommitRequest deletion;
  deletion.summary = "Remove what is not there";
  deletion.deletions.push_back("nothing.txt");
  const std::string refused = MessageOf<RepositoryError>([&] { repository->Commit(deletion); });
  EXPECT_TRUE(Contains(refused, "cannot commit onto main: no such file (404)")) << refused;
  EXPECT_EQ(History(), 1u);

  hub.repos().CommitFiles("dataset", kRepo, "main", {{"big.txt", std::string(1000, 'b')}}, "big");
  const std::string too_large = MessageOf<RepositoryError>([&] { repository->ReadFile("main", "big.txt", 999); });
  EXPECT_TRUE(Contains(too_large, "cannot read big.txt at main: the file is larger than 999 bytes")) << too_large;
  EXPECT_EQ(repository->ReadFile("main", "big.txt", 1000), std::string(1000, 'b'));
}

TEST_F(HfRepositoryTest, TagsAndBranchesAreMadeOnceAndNeverMove) {
  auto repository = Open();
  repository->CreateIfMissing();
  const std::string first = repository->Commit(Publication());
  repository->CreateTag("v1", "main");
  EXPECT_EQ(hub.repos().Tags("dataset", kRepo), (std::map<std::string, std::string>{{"v1", first}}));
  const std::string again = MessageOf<TagExistsError>([&] { repository->CreateTag("v1", first); });
  EXPECT_TRUE(Contains(again, "cannot tag " + first + " as v1: the tag v1 exists already")) << again;
  EXPECT_THROW(repository->CreateTag("bad name", "main"), RepositoryError);

  repository->CreateBranch("staging", "v1");
  EXPECT_THROW(repository->CreateBranch("staging", "main"), BranchExistsError);
  CommitRequest onto_staging;
  onto_staging.branch = "staging";
  onto_staging.summary = "Try something";
  onto_staging.additions.push_back(FileAddition::FromBytes("notes.txt", "staging only"));
  const std::string staged = repository->Commit(onto_staging);
  EXPECT_EQ(repository->HeadOf("staging"), staged);
  EXPECT_EQ(repository->HeadOf("main"), first) << "a commit onto a branch moves that branch alone";
  EXPECT_EQ(repository->HeadOf("v1"), first);
}

TEST_F(HfRepositoryTest, RateLimitsAreWaitedOutAsTheHubSays) {
  hub.repos().CreateRepo("dataset", kRepo);
  HttpSettings settings = FastSettings();
  settings.retry_max = 2;
  hub.InjectFault("/refs", Fault::RateLimited(1));
  auto repository = Open(kRepo, kToken, HfRepositoryType::kDataset, settings);
  EXPECT_EQ(repository->HeadOf("main"), Main());
  ASSERT_EQ(retries.size(), 1u);
  EXPECT_EQ(retries[0].reason, "HTTP 429");
  EXPECT_EQ(retries[0].wait, std::chrono::milliseconds(1000)) << "RateLimit: \"api\";r=0;t=1";

  // Rate-limited for good: bounded by HTTP_RETRIES, and said so.
  hub.InjectFault("/refs", Fault::RateLimited(0, 100));
  const std::string error = MessageOf<RepositoryError>([&] { Open()->HeadOf("main"); });
  EXPECT_TRUE(Contains(error, "the Hub's rate limit was reached (429) after 4 attempts")) << error;
  EXPECT_TRUE(Contains(error, "RateLimit: \"api\";r=0;t=0")) << error;
}

TEST_F(HfRepositoryTest, ServerErrorsAreRetriedThenSaid) {
  auto repository = Open();
  repository->CreateIfMissing();
  hub.InjectFault("/preupload/main", Fault::Status(503, 2));
  hub.InjectFault("/info/lfs/objects/batch", Fault::Status(500, 1));
  const std::string commit = repository->Commit(Publication());
  EXPECT_EQ(Main(), commit);
  EXPECT_EQ(hub.Count("POST", "/preupload/main"), 3);

  hub.InjectFault("/commit/main", Fault::Status(503, 100));
  const std::string error = MessageOf<RepositoryError>([&] { repository->Commit(Publication()); });
  EXPECT_TRUE(Contains(error,
                       "cannot commit onto main: the Hub answered HTTP 503 after 4 attempts: Service "
                       "Unavailable (request id fake-"))
      << error;
  EXPECT_EQ(History(), 2u) << "nothing committed";
}

TEST_F(HfRepositoryTest, AFailedUploadCommitsNothingAndACutOneIsSentAgain) {
  auto repository = Open();
  repository->CreateIfMissing();
  hub.repos().InjectStorageFault({"/uploads/", 500, false, 100});
  const std::string error = MessageOf<RepositoryError>([&] { repository->Commit(Publication()); });
  EXPECT_TRUE(Contains(error, "hf://datasets/acme/data: cannot upload ")) << error;
  EXPECT_TRUE(Contains(error, "the storage refused")) << error;
  EXPECT_TRUE(Contains(error, "HTTP 500 after 4 attempts")) << error;
  EXPECT_EQ(History(), 1u);
  EXPECT_EQ(hub.Count("POST", "/commit/"), 0);
}

TEST_F(HfRepositoryTest, ACutUploadIsSentAgain) {
  auto repository = Open();
  repository->CreateIfMissing();
  // The connection closes as part 2 of the weights goes up, and as their part 1 does.
  hub.repos().InjectStorageFault({"/parts/2", 0, true, 1});
  hub.repos().InjectStorageFault({"/uploads/", 0, true, 1});
  const std::string commit = repository->Commit(Publication());
  EXPECT_EQ(Main(), commit);
  EXPECT_EQ(hub.repos().FileAt("dataset", kRepo, commit, "model.bin")->content, weights);
  EXPECT_EQ(hub.repos().FileAt("dataset", kRepo, commit, "data/small.bin")->content, small);
  int puts = 0;
  for (const FakeHubRepos::StorageCall& call : hub.repos().StorageCalls()) puts += call.method == "PUT" ? 1 : 0;
  EXPECT_EQ(puts, 3 + 2 + 1) << "three parts, two of them twice, and the small file";
  ExpectNoTokenReachedTheStorage();
}

TEST_F(HfRepositoryTest, ACommitRefusedAfterTheUploadsLeavesThemForTheNextOne) {
  auto repository = Open();
  repository->CreateIfMissing();
  hub.InjectFault("/commit/main", Fault::Status(500, 4));
  EXPECT_THROW(repository->Commit(Publication()), RepositoryError);
  EXPECT_EQ(History(), 1u);
  EXPECT_TRUE(hub.repos().HasLfsObject("dataset", kRepo, Sha256Hex(weights)));
  const size_t storage_calls = hub.repos().StorageCalls().size();
  const std::string commit = repository->Commit(Publication());
  EXPECT_EQ(Main(), commit);
  EXPECT_EQ(hub.repos().StorageCalls().size(), storage_calls) << "the objects were stored: nothing uploaded again";
}

TEST_F(HfRepositoryTest, ACommitWhoseAnswerWasLostIsFoundNotSentAgain) {
  for (const Fault& fault :
       {Fault::CarryOutThenClose(), Fault::CarryOutThenStatus(502), Fault::CarryOutThenStatus(504)}) {
    hub.ClearCalls();
    auto repository = Open();
    repository->CreateIfMissing();
    const size_t before = History();
    CommitRequest request = Publication();
    request.summary = "Lost answer " + std::to_string(before);
    request.parent_commit = Main();
    hub.InjectFault("/commit/main", fault);
    const std::string commit = repository->Commit(request);
    EXPECT_EQ(Main(), commit);
    EXPECT_EQ(History(), before + 1) << "landed once";
    EXPECT_EQ(hub.Count("POST", "/commit/main"), 1) << "not sent again";
    EXPECT_GE(hub.Count("GET", "/commits/main"), 1) << "found in the branch's history";
  }
}

TEST_F(HfRepositoryTest, ACommitLostBeforeTheHubCarriedItOutIsSentAgainOnItsParent) {
  auto repository = Open();
  repository->CreateIfMissing();
  CommitRequest request = Publication();
  request.parent_commit = Main();
  hub.InjectFault("/commit/main", Fault::Of(Fault::Kind::kCloseConnection));
  const std::string commit = repository->Commit(request);
  EXPECT_EQ(Main(), commit);
  EXPECT_EQ(History(), 2u);
  EXPECT_EQ(hub.Count("POST", "/commit/main"), 2);
  for (const FakeHub::RecordedCall& call : hub.Calls()) {
    if (call.path.ends_with("/commit/main")) {
      EXPECT_TRUE(Contains(call.body, "\"parentCommit\":\"" + *request.parent_commit + "\"")) << call.body;
    }
  }
}

TEST_F(HfRepositoryTest, ATagOrBranchWhoseAnswerWasLostIsFoundNotSentAgain) {
  auto repository = Open();
  repository->CreateIfMissing();
  const std::string commit = repository->Commit(Publication());
  hub.InjectFault("/tag/", Fault::CarryOutThenStatus(504));
  repository->CreateTag("v1", commit);
  EXPECT_EQ(hub.repos().Tags("dataset", kRepo).at("v1"), commit);
  EXPECT_EQ(hub.Count("POST", "/tag/"), 1);

  hub.InjectFault("/branch/", Fault::CarryOutThenClose());
  repository->CreateBranch("staging", commit);
  EXPECT_EQ(hub.repos().Branches("dataset", kRepo).at("staging"), commit);
  EXPECT_EQ(hub.Count("POST", "/branch/"), 1);

  // Lost before it was carried out: sent again, once there.
  hub.InjectFault("/tag/", Fault::Of(Fault::Kind::kCloseConnection));
  repository->CreateTag("v2", commit);
  EXPECT_EQ(hub.repos().Tags("dataset", kRepo).at("v2"), commit);
  EXPECT_EQ(hub.Count("POST", "/tag/"), 3);
}

}  // namespace
}  // namespace orch
