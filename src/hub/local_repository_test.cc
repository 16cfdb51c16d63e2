#include "hub/local_repository.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "hub/content_hash.h"
#include "support/temp_dir.h"
#include "util/durable_file.h"

namespace orch {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

CommitRequest Adding(std::vector<FileAddition> additions, std::optional<std::string> parent = std::nullopt) {
  CommitRequest request;
  request.summary = "a commit";
  request.additions = std::move(additions);
  request.parent_commit = std::move(parent);
  return request;
}

std::set<std::string> Names(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

bool SameInode(const fs::path& a, const fs::path& b) {
  struct stat first {
  }, second{};
  return ::stat(a.c_str(), &first) == 0 && ::stat(b.c_str(), &second) == 0 && first.st_ino == second.st_ino &&
         first.st_dev == second.st_dev;
}

class LocalRepositoryTest : public ::testing::Test {
 protected:
  LocalRepositoryTest() : repository_(dir_.path() / "urgency") { repository_.CreateIfMissing(); }

  fs::path Dir() const { return dir_.path() / "urgency"; }
  std::string Read(const std::string& revision, const std::string& path) {
    return repository_.ReadFile(revision, path, 1 << 20).value_or("<missing>");
  }
  std::set<std::string> Commits() const { return Names(Dir() / ".repo" / "commits"); }

  TempDir dir_{"orch-repo"};
  LocalRepository repository_;
};

TEST_F(LocalRepositoryTest, AFirstCommitMakesMainWithItsFilesInTheDirectory) {
  EXPECT_EQ(repository_.HeadOf("main"), std::nullopt) << "an empty repository has no branch";
  WriteFile(dir_.File("train.jsonl"), "{\"grievance\": \"सडक\", \"label\": 0}\n");
  const std::string id =
      repository_.Commit(Adding({FileAddition::FromBytes("README.md", "# card\n"),
                                 FileAddition::FromFile("data/train.jsonl", dir_.File("train.jsonl"))}));
  EXPECT_TRUE(IsCommitId(id)) << id;
  EXPECT_EQ(repository_.HeadOf("main"), id);
  EXPECT_EQ(repository_.HeadOf(id), id) << "a commit id is a revision";
  EXPECT_EQ(Read("main", "README.md"), "# card\n");
  EXPECT_EQ(Read(id, "data/train.jsonl"), "{\"grievance\": \"सडक\", \"label\": 0}\n");
  EXPECT_EQ(repository_.ReadFile("main", "nothing.txt", 100), std::nullopt);

  const std::vector<RepositoryFile> files = repository_.ListFiles("main");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].path, "README.md");
  EXPECT_EQ(files[0].size, 7u);
  EXPECT_EQ(files[0].oid, GitBlobId("# card\n"));
  EXPECT_EQ(files[1].path, "data/train.jsonl");

  // The files of main are in the directory, as links to the commit's (no copy), read-only; the
  // file added from a path is that file itself.
  EXPECT_EQ(ReadFile((Dir() / "README.md").string()), "# card\n");
  EXPECT_TRUE(SameInode(Dir() / "data" / "train.jsonl", repository_.StoredFile(id, "data/train.jsonl")));
  EXPECT_TRUE(SameInode(dir_.path() / "train.jsonl", repository_.StoredFile(id, "data/train.jsonl")));
  struct stat status {};
  ASSERT_EQ(::stat((Dir() / "README.md").c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0444u);
  EXPECT_TRUE(Names(Dir() / ".repo" / "tmp").empty());
}

TEST_F(LocalRepositoryTest, ALaterCommitKeepsReplacesAndDeletesFilesAndNeverChangesTheEarlierOne) {
  const std::string first =
      repository_.Commit(Adding({FileAddition::FromBytes("a.txt", "a1"), FileAddition::FromBytes("b.txt", "b1"),
                                 FileAddition::FromBytes("c/d.txt", "d1")}));
  CommitRequest request =
      Adding({FileAddition::FromBytes("a.txt", "a2"), FileAddition::FromBytes("e.txt", "e2")}, first);
  request.deletions = {"c/d.txt"};
  const std::string second = repository_.Commit(request);
  EXPECT_NE(first, second);
  EXPECT_EQ(Read("main", "a.txt"), "a2");
  EXPECT_EQ(Read("main", "b.txt"), "b1");
  EXPECT_EQ(Read("main", "e.txt"), "e2");
  EXPECT_EQ(repository_.ReadFile("main", "c/d.txt", 100), std::nullopt);
  EXPECT_EQ(Read(first, "a.txt"), "a1");
  EXPECT_EQ(Read(first, "c/d.txt"), "d1");
  // An unchanged file is the parent's file, linked.
  EXPECT_TRUE(SameInode(repository_.StoredFile(first, "b.txt"), repository_.StoredFile(second, "b.txt")));
  // So is one added again with the same bytes.
  const std::string third = repository_.Commit(Adding({FileAddition::FromBytes("a.txt", "a2")}, second));
  EXPECT_TRUE(SameInode(repository_.StoredFile(second, "a.txt"), repository_.StoredFile(third, "a.txt")));
  // The directory follows main: the deleted file is gone, the replaced one replaced.
  EXPECT_EQ(ReadFile((Dir() / "a.txt").string()), "a2");
  EXPECT_EQ(ReadFile((Dir() / "e.txt").string()), "e2");
  EXPECT_FALSE(fs::exists(Dir() / "c" / "d.txt"));
}

TEST_F(LocalRepositoryTest, ACommitOnAStaleParentIsRefusedAndChangesNothing) {
  const std::string first = repository_.Commit(Adding({FileAddition::FromBytes("f", "1")}));
  const std::string second = repository_.Commit(Adding({FileAddition::FromBytes("f", "2")}, first));
  const std::set<std::string> commits = Commits();
  try {
    repository_.Commit(Adding({FileAddition::FromBytes("f", "3")}, first));
    FAIL() << "a commit on a stale parent landed";
  } catch (const StaleParentError& error) {
    const std::string message = error.what();
    EXPECT_TRUE(message.starts_with(Dir().string() + ": cannot commit to main: the branch's head is " +
                                    second.substr(0, 12) + ", not the expected parent " + first.substr(0, 12)))
        << message;
  }
  EXPECT_THROW(repository_.Commit(Adding({FileAddition::FromBytes("f", "3")}, std::string(40, 'a'))), StaleParentError);
  EXPECT_EQ(repository_.HeadOf("main"), second);
  EXPECT_EQ(Read("main", "f"), "2");
  EXPECT_EQ(Commits(), commits);
  // No parent expected: onto whatever the head is.
  EXPECT_NO_THROW(repository_.Commit(Adding({FileAddition::FromBytes("f", "3")})));
  EXPECT_EQ(Read("main", "f"), "3");
}

TEST_F(LocalRepositoryTest, ATagIsCreatedOnceAndReadAtAfterMainMovesOn) {
  const std::string v1 = repository_.Commit(Adding({FileAddition::FromBytes("data.txt", "one")}));
  repository_.CreateTag("v1", "main");
  repository_.Commit(Adding({FileAddition::FromBytes("data.txt", "two")}, v1));
  EXPECT_EQ(Read("v1", "data.txt"), "one") << "a tag reads its commit, not main";
  EXPECT_EQ(Read("main", "data.txt"), "two");
  EXPECT_EQ(repository_.HeadOf("v1"), v1);
  try {
    repository_.CreateTag("v1", "main");
    FAIL() << "a tag was created twice";
  } catch (const TagExistsError& error) {
    EXPECT_NE(
        std::string(error.what())
            .find("cannot create the tag v1 on main: the tag exists already (on commit " + v1.substr(0, 12) + ")"),
        std::string::npos)
        << error.what();
  }
  EXPECT_EQ(repository_.HeadOf("v1"), v1) << "tags never move";
  EXPECT_THROW(repository_.CreateTag("v2", "nowhere"), RevisionNotFoundError);
  EXPECT_THROW(repository_.CreateTag("v 2", "main"), RepositoryError);
  EXPECT_EQ(repository_.HeadOf("v2"), std::nullopt);
}

TEST_F(LocalRepositoryTest, ABranchMovesAloneAndMainsFilesStay) {
  const std::string first = repository_.Commit(Adding({FileAddition::FromBytes("model.bin", "deployed")}));
  repository_.CreateBranch("candidates", "main");
  EXPECT_EQ(repository_.HeadOf("candidates"), first);
  CommitRequest onto_branch = Adding({FileAddition::FromBytes("model.bin", "candidate")}, first);
  onto_branch.branch = "candidates";
  const std::string candidate = repository_.Commit(onto_branch);
  EXPECT_EQ(repository_.HeadOf("candidates"), candidate);
  EXPECT_EQ(repository_.HeadOf("main"), first) << "a commit onto a branch moves that branch only";
  EXPECT_EQ(Read("candidates", "model.bin"), "candidate");
  EXPECT_EQ(Read("main", "model.bin"), "deployed");
  EXPECT_EQ(ReadFile((Dir() / "model.bin").string()), "deployed") << "the directory holds main's files";
  try {
    repository_.CreateBranch("candidates", "main");
    FAIL() << "a branch was created twice";
  } catch (const BranchExistsError& error) {
    EXPECT_NE(std::string(error.what()).find("cannot create the branch candidates on main: the branch exists already"),
              std::string::npos)
        << error.what();
  }
  EXPECT_EQ(repository_.HeadOf("candidates"), candidate) << "a refused branch changes nothing";
  EXPECT_THROW(repository_.CreateBranch("other", "nowhere"), RevisionNotFoundError);
  EXPECT_THROW(repository_.CreateBranch("bad name", "main"), RepositoryError);
}

TEST_F(LocalRepositoryTest, MissingThingsAreErrorsOfTheirOwnKind) {
  LocalRepository missing(dir_.path() / "nothing");
  EXPECT_THROW(missing.HeadOf("main"), RepositoryNotFoundError);
  EXPECT_THROW(missing.Commit(Adding({FileAddition::FromBytes("f", "1")})), RepositoryNotFoundError);
  EXPECT_THROW(repository_.ReadFile("main", "f", 10), RevisionNotFoundError);
  EXPECT_THROW(repository_.ListFiles("v9"), RevisionNotFoundError);
  CommitRequest other_branch = Adding({FileAddition::FromBytes("f", "1")});
  other_branch.branch = "dev";
  EXPECT_THROW(repository_.Commit(other_branch), RevisionNotFoundError) << "only main is made by a first commit";
  repository_.Commit(Adding({FileAddition::FromBytes("f", "1")}));
  CommitRequest deleting = Adding({});
  deleting.deletions = {"g"};
  try {
    repository_.Commit(deleting);
    FAIL();
  } catch (const RepositoryError& error) {
    EXPECT_NE(std::string(error.what()).find("the path \"g\" to delete does not exist"), std::string::npos)
        << error.what();
  }
  try {
    repository_.ReadFile("main", "f", 0);
    FAIL() << "a file over its bound was read";
  } catch (const RepositoryError& error) {
    EXPECT_NE(std::string(error.what()).find("cannot read f at main: "), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("is 1 bytes, more than the 0 bytes"), std::string::npos) << error.what();
  }
}

TEST_F(LocalRepositoryTest, PathsAndNamesAreCheckedBeforeAnythingIsWritten) {
  for (const std::string path : {"", "/abs", "a//b", "../up", "a/../b", "./a", ".git/config", "x/.cache/y",
                                 ".repo/refs/heads/main", "back\\slash", "new\nline"}) {
    EXPECT_FALSE(IsValidRepositoryPath(path)) << path;
    EXPECT_THROW(repository_.Commit(Adding({FileAddition::FromBytes(path, "x")})), RepositoryError) << path;
  }
  for (const std::string path : {"README.md", "data/train.jsonl", ".gitattributes", "a b/ç.txt"})
    EXPECT_TRUE(IsValidRepositoryPath(path)) << path;
  EXPECT_THROW(repository_.Commit(Adding({FileAddition::FromBytes("f", "1"), FileAddition::FromBytes("f", "2")})),
               RepositoryError);
  EXPECT_THROW(repository_.Commit(Adding({FileAddition::FromBytes("d", "1"), FileAddition::FromBytes("d/e", "2")})),
               RepositoryError);
  CommitRequest untitled = Adding({FileAddition::FromBytes("f", "1")});
  untitled.summary = "";
  EXPECT_THROW(repository_.Commit(untitled), RepositoryError);
  for (const std::string name : {"v20261126_101502", "main", "v1.2-rc"}) EXPECT_TRUE(IsValidRefName(name)) << name;
  for (const std::string& name :
       std::vector<std::string>{"", ".hidden", "-x", "a..b", "a/b", "a b", std::string(101, 'v')})
    EXPECT_FALSE(IsValidRefName(name)) << name;
  EXPECT_EQ(repository_.HeadOf("main"), std::nullopt);
  EXPECT_TRUE(Commits().empty());
}

TEST_F(LocalRepositoryTest, AFailedCommitLeavesNoTrace) {
  const std::string first = repository_.Commit(Adding({FileAddition::FromBytes("f", "1")}));
  const std::set<std::string> commits = Commits();
  try {
    repository_.Commit(Adding(
        {FileAddition::FromBytes("g", "2"), FileAddition::FromFile("data/train.jsonl", dir_.path() / "no-such-file")},
        first));
    FAIL() << "a commit of a missing file landed";
  } catch (const RepositoryError& error) {
    EXPECT_NE(std::string(error.what()).find("no-such-file"), std::string::npos) << error.what();
  }
  EXPECT_EQ(repository_.HeadOf("main"), first);
  EXPECT_EQ(Commits(), commits);
  EXPECT_TRUE(Names(Dir() / ".repo" / "tmp").empty());
  EXPECT_FALSE(fs::exists(Dir() / "g"));
  // What a killed writer left in .repo/tmp goes with the next commit.
  fs::create_directories(Dir() / ".repo" / "tmp" / "commit-99999" / "files");
  repository_.Commit(Adding({FileAddition::FromBytes("g", "2")}, first));
  EXPECT_TRUE(Names(Dir() / ".repo" / "tmp").empty());
}

// The commit is made when main's ref moves; the files of main in the directory follow after. When
// that fails, readers of main and of the commit see it whole, and the next commit catches up.
TEST_F(LocalRepositoryTest, AFailureAfterTheBranchMovedLeavesTheCommitWholeAndTheNextCommitCatchesUp) {
  const std::string first = repository_.Commit(Adding({FileAddition::FromBytes("dataset_metadata.json", "v1")}));
  const fs::path blocker = TemporaryPathFor(Dir() / "dataset_metadata.json");
  fs::create_directory(blocker);
  WriteFile((blocker / "keep").string(), "x");
  std::string second;
  try {
    repository_.Commit(Adding({FileAddition::FromBytes("dataset_metadata.json", "v2")}, first));
    FAIL() << "the directory was updated through a blocked path";
  } catch (const RepositoryError& error) {
    EXPECT_NE(std::string(error.what()).find("the commit was made"), std::string::npos) << error.what();
  }
  EXPECT_NE(repository_.HeadOf("main"), first);
  EXPECT_EQ(Read("main", "dataset_metadata.json"), "v2");
  EXPECT_EQ(ReadFile((Dir() / "dataset_metadata.json").string()), "v1") << "the old file, whole";
  fs::remove_all(blocker);
  repository_.Commit(Adding({FileAddition::FromBytes("other", "x")}));
  EXPECT_EQ(ReadFile((Dir() / "dataset_metadata.json").string()), "v2");
}

TEST_F(LocalRepositoryTest, FilesOutsideEveryCommitAreLeftAlone) {
  fs::create_directories(Dir() / "v20250101_000000");
  WriteFile((Dir() / "v20250101_000000" / "eval.jsonl").string(), "old layout");
  WriteFile((Dir() / "notes.txt").string(), "mine");
  const std::string first = repository_.Commit(Adding({FileAddition::FromBytes("labels.json", "{}")}));
  CommitRequest deleting = Adding({FileAddition::FromBytes("x", "1")}, first);
  deleting.deletions = {"labels.json"};
  fs::remove(Dir() / "labels.json");  // a link to the commit's file: replaced, never written into
  WriteFile((Dir() / "labels.json").string(), "replaced by hand");
  repository_.Commit(deleting);
  EXPECT_EQ(ReadFile((Dir() / "v20250101_000000" / "eval.jsonl").string()), "old layout");
  EXPECT_EQ(ReadFile((Dir() / "notes.txt").string()), "mine");
  EXPECT_EQ(ReadFile((Dir() / "labels.json").string()), "replaced by hand");
}

TEST_F(LocalRepositoryTest, AFileCanBeCopiedOutOfARevision) {
  repository_.Commit(Adding({FileAddition::FromBytes("data/test.jsonl", "rows\n")}));
  repository_.CreateTag("v1", "main");
  const fs::path target = dir_.path() / "copy.jsonl";
  EXPECT_TRUE(repository_.DownloadFile("v1", "data/test.jsonl", target));
  EXPECT_EQ(ReadFile(target.string()), "rows\n");
  EXPECT_FALSE(SameInode(target, Dir() / "data" / "test.jsonl")) << "a copy: changing it changes no commit";
  EXPECT_FALSE(repository_.DownloadFile("v1", "data/none.jsonl", dir_.path() / "none"));
  EXPECT_FALSE(fs::exists(dir_.path() / "none"));
  EXPECT_THROW(repository_.DownloadFile("v2", "data/test.jsonl", target), RevisionNotFoundError);
}

TEST(ContentHash, GivesGitsIds) {
  EXPECT_EQ(Sha1Hex(""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  EXPECT_EQ(Sha1Hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
  EXPECT_EQ(GitBlobId(""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");  // git hash-object /dev/null
  EXPECT_EQ(GitBlobId("hello\n"), "ce013625030ba8dba906f756967f9e9ca394464a");
  TempDir dir;
  const std::string big(3 << 20, 'x');  // read in more than one piece
  WriteFile(dir.File("big"), big);
  const FileId file = GitBlobIdOfFile(dir.File("big"));
  EXPECT_EQ(file.oid, GitBlobId(big));
  EXPECT_EQ(file.size, big.size());
}

}  // namespace
}  // namespace orch
