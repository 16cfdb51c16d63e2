#include "util/durable_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <set>
#include <string>
#include <system_error>

#include "support/error_of.h"
#include "support/temp_dir.h"
#include "util/error.h"

namespace orch {
namespace {

using testing::WorkerErrorOf;

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

std::set<std::string> Entries(const fs::path& dir) {
  std::set<std::string> names;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

std::string Reason(int error_number) { return std::system_category().message(error_number); }

TEST(DurableFile, ANewFileHoldsItsContentAndAnExistingOneIsNotOverwritten) {
  TempDir dir;
  const fs::path path = dir.path() / "card.json";
  WriteNewFile(path, "first");
  EXPECT_EQ(ReadFile(path.string()), "first");
  EXPECT_EQ(WorkerErrorOf([&] { WriteNewFile(path, "second"); }),
            "cannot create " + path.string() + ": " + Reason(EEXIST));
  EXPECT_EQ(ReadFile(path.string()), "first");
}

TEST(DurableFile, AReplacedFileHoldsTheNewContentAndNoTemporaryIsLeft) {
  TempDir dir;
  const fs::path target = dir.path() / "dataset_metadata.json";
  WriteFile(target.string(), "old");
  int calls = 0;
  ReplaceFileAtomically(target, "new", [&] {
    ++calls;
    EXPECT_EQ(ReadFile(target.string()), "new");  // runs once the rename has put the new file in place
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(ReadFile(target.string()), "new");
  EXPECT_EQ(Entries(dir.path()), (std::set<std::string>{"dataset_metadata.json"}));

  ReplaceFileAtomically(dir.path() / "labels.json", "{}");  // a missing target is created
  EXPECT_EQ(ReadFile(dir.File("labels.json")), "{}");
  EXPECT_EQ(Entries(dir.path()), (std::set<std::string>{"dataset_metadata.json", "labels.json"}));
}

TEST(DurableFile, ATemporaryLeftByAKilledProcessIsReplacedButNothingElseAtItsName) {
  TempDir dir;
  const fs::path target = dir.path() / "dataset_metadata.json";
  const fs::path temporary = TemporaryPathFor(target);
  EXPECT_EQ(temporary, dir.path() / (".dataset_metadata.json." + std::to_string(::getpid()) + ".tmp"));

  WriteFile(temporary.string(), "half writ");
  ReplaceFileAtomically(target, "whole");
  EXPECT_EQ(ReadFile(target.string()), "whole");
  EXPECT_FALSE(fs::exists(temporary));

  // A directory at the temporary's name is not a leftover of ours: refused, and left as it is.
  fs::create_directory(temporary);
  WriteFile((temporary / "keep").string(), "x");
  EXPECT_EQ(WorkerErrorOf([&] { ReplaceFileAtomically(target, "other"); }),
            "cannot create " + temporary.string() + ": " + Reason(EEXIST));
  EXPECT_EQ(ReadFile(target.string()), "whole");
  EXPECT_EQ(ReadFile((temporary / "keep").string()), "x");
}

TEST(DurableFile, ASymlinkIsPutInPlaceOverTheOldOne) {
  TempDir dir;
  const fs::path link = dir.path() / "current";
  fs::create_directory_symlink("m1", link);
  const fs::path temporary = dir.path() / ".current.tmp";
  fs::create_directory_symlink("m2", temporary);
  RenameOver(temporary, link);
  EXPECT_EQ(fs::read_symlink(link), fs::path("m2"));
  EXPECT_EQ(Entries(dir.path()), (std::set<std::string>{"current"}));
}

TEST(DurableFile, AFailedRenameOverRemovesTheTemporaryAndNamesTheTarget) {
  TempDir dir;
  const fs::path temporary = dir.path() / ".x.tmp";
  WriteFile(temporary.string(), "x");
  const fs::path target = dir.path() / "missing" / "x";
  EXPECT_EQ(WorkerErrorOf([&] { RenameOver(temporary, target); }),
            "cannot replace " + target.string() + ": " + Reason(ENOENT));
  EXPECT_TRUE(Entries(dir.path()).empty());
}

TEST(DurableFile, RenamingWithoutReplacingRefusesAnExistingTargetAndLeavesBothUntouched) {
  TempDir dir;
  const fs::path from = dir.path() / "incomplete-v1";
  const fs::path to = dir.path() / "v1";
  fs::create_directory(from);
  WriteFile((from / "train.jsonl").string(), "new rows");
  fs::create_directory(to);
  WriteFile((to / "train.jsonl").string(), "published rows");
  EXPECT_FALSE(RenameWithoutReplacing(from, to));
  EXPECT_EQ(ReadFile((from / "train.jsonl").string()), "new rows");
  EXPECT_EQ(ReadFile((to / "train.jsonl").string()), "published rows");

  // rename(2) would replace an empty directory; this does not.
  const fs::path empty = dir.path() / "v2";
  fs::create_directory(empty);
  EXPECT_FALSE(RenameWithoutReplacing(from, empty));
  EXPECT_TRUE(fs::is_empty(empty));
  EXPECT_TRUE(fs::exists(from / "train.jsonl"));

  const fs::path free = dir.path() / "v3";
  EXPECT_TRUE(RenameWithoutReplacing(from, free));
  EXPECT_EQ(ReadFile((free / "train.jsonl").string()), "new rows");
  EXPECT_FALSE(fs::exists(from));
}

TEST(DurableFile, ASecondLockIsRefusedWhileTheFirstIsHeldAndGrantedAfter) {
  TempDir dir;
  const fs::path path = dir.path() / ".retrain.lock";
  std::optional<LockFile> first = LockFile::TryAcquire(path);
  ASSERT_TRUE(first.has_value());
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(LockFile::TryAcquire(path).has_value());
  EXPECT_TRUE(LockFile::TryAcquire(dir.path() / ".other.lock").has_value());  // another file, another lock

  LockFile moved = std::move(*first);  // a moved lock is still held...
  first.reset();
  EXPECT_FALSE(LockFile::TryAcquire(path).has_value());
  { LockFile gone = std::move(moved); }  // ...until its last holder goes
  EXPECT_TRUE(LockFile::TryAcquire(path).has_value());
}

TEST(DurableFile, ErrorsNameTheActionThePathAndTheReason) {
  TempDir dir;
  const fs::path missing = dir.path() / "missing";
  EXPECT_EQ(WorkerErrorOf([&] { WriteNewFile(missing / "f", "x"); }),
            "cannot create " + (missing / "f").string() + ": " + Reason(ENOENT));
  EXPECT_EQ(WorkerErrorOf([&] { SyncPath(missing); }), "cannot open " + missing.string() + ": " + Reason(ENOENT));
  EXPECT_EQ(WorkerErrorOf([&] { LockFile::TryAcquire(missing / ".lock"); }),
            "cannot open the lock file " + (missing / ".lock").string() + ": " + Reason(ENOENT));
  EXPECT_EQ(WorkerErrorOf([&] { RenameWithoutReplacing(missing, dir.path() / "to"); }),
            "cannot rename " + missing.string() + " to " + (dir.path() / "to").string() + ": " + Reason(ENOENT));

  // /dev/full fails every write as a full disk does.
  FileDescriptor full(::open("/dev/full", O_WRONLY | O_CLOEXEC));
  ASSERT_TRUE(full.is_open());
  EXPECT_EQ(WorkerErrorOf([&] { WriteAll(full.get(), "rows", "/dev/full"); }),
            "cannot write /dev/full: " + Reason(ENOSPC));
}

TEST(DurableFile, AFileDescriptorIsClosedOnceByItsLastOwner) {
  TempDir dir;
  FileDescriptor file = CreateNewFile(dir.path() / "f");
  FileDescriptor owner = std::move(file);
  EXPECT_FALSE(file.is_open());
  ASSERT_TRUE(owner.is_open());
  WriteAll(owner.get(), "content", dir.path() / "f");
  SyncAndClose(owner, dir.path() / "f");
  EXPECT_FALSE(owner.is_open());
  EXPECT_EQ(owner.Close(), 0);  // closing again does nothing
  EXPECT_EQ(ReadFile(dir.File("f")), "content");
}

TEST(ReadRegularFile, ReadsARegularFileWhole) {
  TempDir dir;
  const fs::path path = dir.path() / "labels.json";
  EXPECT_EQ(ReadRegularFile(path, 10, "the label map"), std::nullopt);
  fs::create_symlink("gone", path);  // dangling: missing too
  EXPECT_EQ(ReadRegularFile(path, 10, "the label map"), std::nullopt);
  fs::remove(path);
  WriteFile(path.string(), "0123456789");
  EXPECT_EQ(ReadRegularFile(path, 10, "the label map"), "0123456789");
  WriteFile(path.string(), "");
  EXPECT_EQ(ReadRegularFile(path, 0, "the label map"), "");
  WriteFile((dir.path() / "target").string(), "{}");
  fs::remove(path);
  fs::create_symlink("target", path);  // a symlink to a regular file is one
  EXPECT_EQ(ReadRegularFile(path, 10, "the label map"), "{}");
}

TEST(ReadRegularFile, RefusesWhatIsNotARegularFileOfBoundedSize) {
  TempDir dir;
  const fs::path path = dir.path() / "model.bin";
  const std::string named = "the model file " + path.string();
  WriteFile(path.string(), "01234567890");
  EXPECT_EQ(WorkerErrorOf([&] { ReadRegularFile(path, 10, "the model file", "retrain"); }),
            named + " is 11 bytes, more than the 10 bytes such a file can have; retrain");
  fs::remove(path);
  fs::create_directory(path);
  EXPECT_EQ(WorkerErrorOf([&] { ReadRegularFile(path, 10, "the model file"); }),
            named + " is a directory, not a regular file");
  fs::remove(path);
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  EXPECT_EQ(WorkerErrorOf([&] { ReadRegularFile(path, 10, "the model file", "retrain"); }),
            named + " is a FIFO (named pipe), not a regular file; retrain");
  fs::remove(path);
  fs::create_symlink("model.bin", path);
  EXPECT_EQ(WorkerErrorOf([&] { ReadRegularFile(path, 10, "the model file"); }),
            named + " is a loop of symlinks, not a regular file");
  fs::remove(path);
  EXPECT_EQ(WorkerErrorOf([&] { ReadRegularFile("/dev/null", 10, "the model file"); }),
            "the model file /dev/null is a character device, not a regular file");
  WriteFile(path.string(), "x");
  EXPECT_EQ(WorkerErrorOf([&] { ReadRegularFile(path / "inside", 10, "the model file"); }),
            "cannot open the model file " + (path / "inside").string() + ": " + Reason(ENOTDIR));
}

}  // namespace
}  // namespace orch
