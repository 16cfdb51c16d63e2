#include "hub/local_repository.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "hub/content_hash.h"
#include "util/durable_file.h"
#include "util/strings.h"
#include "util/time.h"

namespace orch {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

constexpr uint64_t kMaxRefBytes = 256;
constexpr uint64_t kMaxCommitRecordBytes = 64 << 20;
constexpr const char* kCommitRecord = "commit.json";
constexpr const char* kMain = "main";
constexpr mode_t kReadOnly = 0444;
constexpr size_t kCopyChunk = 1 << 20;
// A writer holds the lock for a few renames and links; one that holds it longer is stuck.
constexpr auto kLockWait = std::chrono::seconds(30);
constexpr auto kLockPoll = std::chrono::milliseconds(20);

struct TreeFile {
  uint64_t size = 0;
  std::string oid;
};

// Creates `dir` unless it is a directory already.
void MakeDirectory(const fs::path& dir) {
  if (::mkdir(dir.c_str(), 0755) == 0) return;
  const int error = errno;
  struct stat status {};
  if (error == EEXIST && ::stat(dir.c_str(), &status) == 0 && S_ISDIR(status.st_mode)) return;
  ThrowFileError("create the directory", dir, error);
}

// Creates the directories of `relative`'s parent under `root`; returns those it created, outermost first.
std::vector<fs::path> MakeParents(const fs::path& root, const std::string& relative) {
  std::vector<fs::path> created;
  fs::path dir = root;
  const fs::path parent = fs::path(relative).parent_path();
  for (const fs::path& part : parent) {
    dir /= part;
    struct stat status {};
    if (::lstat(dir.c_str(), &status) == 0 && S_ISDIR(status.st_mode)) continue;
    MakeDirectory(dir);
    created.push_back(dir);
  }
  return created;
}

// Copies the regular file `from` to the new file `to`, fsynced.
void CopyFile(const fs::path& from, const fs::path& to) {
  FileDescriptor in(::open(from.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!in.is_open()) ThrowFileError("open", from, errno);
  struct stat status {};
  if (::fstat(in.get(), &status) != 0) ThrowFileError("examine", from, errno);
  if (!S_ISREG(status.st_mode)) throw WorkerError(from.string() + " is not a regular file");
  FileDescriptor out = CreateNewFile(to);
  try {
    std::vector<char> buffer(kCopyChunk);
    for (;;) {
      const ssize_t got = ::read(in.get(), buffer.data(), buffer.size());
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) ThrowFileError("read", from, errno);
      if (got == 0) break;
      WriteAll(out.get(), std::string_view(buffer.data(), static_cast<size_t>(got)), to);
    }
    SyncAndClose(out, to);
  } catch (...) {
    ::unlink(to.c_str());
    throw;
  }
}

// Hard-links `from` as `to`, or copies it where the file system cannot link; `to` is then durable.
void LinkOrCopy(const fs::path& from, const fs::path& to) {
  if (::link(from.c_str(), to.c_str()) == 0) {
    SyncPath(to);
    return;
  }
  const int error = errno;
  if (error != EXDEV && error != EPERM && error != EMLINK && error != ENOTSUP && error != EOPNOTSUPP)
    ThrowFileError("link " + from.string() + " to", to, error);
  CopyFile(from, to);
}

void MakeReadOnly(const fs::path& file) {
  if (::chmod(file.c_str(), kReadOnly) != 0) ThrowFileError("make read-only", file, errno);
}

// The parent directories of every path, deepest first, so a directory is synced after its entries.
std::vector<fs::path> DirectoriesOf(const fs::path& root, const std::map<std::string, TreeFile>& files) {
  std::set<fs::path> dirs;
  for (const auto& [path, file] : files)
    for (fs::path dir = fs::path(path).parent_path(); !dir.empty(); dir = dir.parent_path()) dirs.insert(root / dir);
  std::vector<fs::path> deepest_first(dirs.rbegin(), dirs.rend());
  deepest_first.push_back(root);
  return deepest_first;
}

// Whether `a` and `b` are the same file (one is a hard link of the other).
bool SameFile(const fs::path& a, const fs::path& b) {
  struct stat first {
  }, second{};
  return ::lstat(a.c_str(), &first) == 0 && ::lstat(b.c_str(), &second) == 0 && first.st_dev == second.st_dev &&
         first.st_ino == second.st_ino;
}

std::string Short(const std::string& commit_id) { return commit_id.substr(0, 12); }

}  // namespace

struct LocalRepository::Tree {
  std::string commit_id;
  std::map<std::string, TreeFile> files;
};

// The writers' lock, .repo/lock, waited for at most kLockWait.
class LocalRepository::WriterLock {
 public:
  WriterLock(const LocalRepository& repository, const std::string& step) {
    const fs::path path = repository.RepoPath() / "lock";
    const auto deadline = std::chrono::steady_clock::now() + kLockWait;
    for (;;) {
      try {
        lock_ = LockFile::TryAcquire(path);
      } catch (const Error& error) {
        throw RepositoryError(repository.Name(), step, error.what());
      }
      if (lock_) return;
      if (std::chrono::steady_clock::now() >= deadline)
        throw RepositoryError(repository.Name(), step,
                              "another writer has held " + path.string() + " for " +
                                  std::to_string(std::chrono::seconds(kLockWait).count()) +
                                  " s; if no process is writing to the repository, something holds the lock file "
                                  "open");
      std::this_thread::sleep_for(kLockPoll);
    }
  }

 private:
  std::optional<LockFile> lock_;
};

LocalRepository::LocalRepository(fs::path directory) : directory_(std::move(directory)) {}

fs::path LocalRepository::StoredFile(const std::string& commit_id, const std::string& path) const {
  return RepoPath() / "commits" / commit_id / "files" / path;
}

void LocalRepository::RequireRepository(const std::string& step) const {
  struct stat status {};
  if (::stat(RepoPath().c_str(), &status) == 0 && S_ISDIR(status.st_mode)) return;
  throw RepositoryNotFoundError(Name(), step, "there is no repository here (no " + RepoPath().string() + " directory)");
}

void LocalRepository::CreateIfMissing() {
  try {
    std::error_code error;
    fs::create_directories(directory_, error);  // the directory, and its parents when missing
    if (error) ThrowFileError("create the directory", directory_, error.value());
    const bool existed = fs::is_directory(RepoPath(), error);
    for (const fs::path& dir : {RepoPath(), RepoPath() / "commits", RepoPath() / "refs", RepoPath() / "refs" / "heads",
                                RepoPath() / "refs" / "tags", RepoPath() / "tmp"})
      MakeDirectory(dir);
    if (!existed) {
      SyncPath(RepoPath() / "refs");
      SyncPath(RepoPath());
      SyncPath(directory_);
    }
  } catch (const RepositoryError&) {
    throw;
  } catch (const Error& error) {
    throw RepositoryError(Name(), "create the repository", error.what());
  }
}

std::optional<std::string> LocalRepository::ReadRef(const fs::path& ref) const {
  const std::optional<std::string> text = ReadRegularFile(ref, kMaxRefBytes, "the ref");
  if (!text) return std::nullopt;
  const std::string id(Trim(*text));
  if (!IsCommitId(id)) throw WorkerError("the ref " + ref.string() + " does not hold a commit id");
  return id;
}

std::optional<std::string> LocalRepository::HeadOf(const std::string& revision) {
  const std::string step = "resolve the revision " + revision;
  RequireRepository(step);
  try {
    if (IsValidRefName(revision)) {
      if (std::optional<std::string> branch = ReadRef(RepoPath() / "refs" / "heads" / revision)) return branch;
      if (std::optional<std::string> tag = ReadRef(RepoPath() / "refs" / "tags" / revision)) return tag;
    }
    std::error_code error;
    if (IsCommitId(revision) && fs::exists(RepoPath() / "commits" / revision / kCommitRecord, error)) return revision;
  } catch (const Error& error) {
    throw RepositoryError(Name(), step, error.what());
  }
  return std::nullopt;
}

std::string LocalRepository::Resolve(const std::string& revision, const std::string& step) {
  std::optional<std::string> id = HeadOf(revision);
  if (!id) throw RevisionNotFoundError(Name(), step, "there is no branch, tag or commit " + revision);
  return *id;
}

LocalRepository::Tree LocalRepository::ReadTree(const std::string& commit_id, const std::string& step) const {
  const fs::path record_file = RepoPath() / "commits" / commit_id / kCommitRecord;
  Tree tree{commit_id, {}};
  try {
    const std::optional<std::string> text = ReadRegularFile(record_file, kMaxCommitRecordBytes, "the commit record");
    if (!text) throw WorkerError(record_file.string() + " is missing");
    const nlohmann::json record = nlohmann::json::parse(*text);
    for (const nlohmann::json& file : record.at("files"))
      tree.files[file.at("path").get<std::string>()] = {file.at("size").get<uint64_t>(),
                                                        file.at("oid").get<std::string>()};
  } catch (const nlohmann::json::exception& error) {
    throw RepositoryError(Name(), step, "the commit record " + record_file.string() + " is damaged: " + error.what());
  } catch (const Error& error) {
    throw RepositoryError(Name(), step, error.what());
  }
  return tree;
}

std::string LocalRepository::Commit(const CommitRequest& request) {
  const std::string step = "commit to " + request.branch;
  RequireRepository(step);
  CheckRequest(request, step);
  WriterLock lock(*this, step);
  const fs::path ref = RepoPath() / "refs" / "heads" / request.branch;
  std::optional<std::string> head;
  try {
    head = ReadRef(ref);
  } catch (const Error& error) {
    throw RepositoryError(Name(), step, error.what());
  }
  if (request.parent_commit && request.parent_commit != head)
    throw StaleParentError(Name(), step,
                           "the branch's head is " + (head ? Short(*head) : std::string("nothing (no commit yet)")) +
                               ", not the expected parent " + Short(*request.parent_commit) +
                               ": another commit landed meanwhile");
  if (!head && request.branch != kMain)
    throw RevisionNotFoundError(Name(), step, "there is no branch " + request.branch);

  // The new commit's files: the parent's, less those deleted, with those added.
  Tree tree = head ? ReadTree(*head, step) : Tree{};
  const std::map<std::string, TreeFile> parent_files = tree.files;
  for (const std::string& path : request.deletions)
    if (tree.files.erase(path) == 0)
      throw RepositoryError(Name(), step, "the path \"" + path + "\" to delete does not exist");
  std::set<std::string> carried;
  for (const auto& [path, file] : tree.files) carried.insert(path);
  for (const FileAddition& addition : request.additions) {
    carried.erase(addition.path);
    tree.files[addition.path] = {};
  }
  for (const auto& [path, file] : tree.files)
    for (fs::path dir = fs::path(path).parent_path(); !dir.empty(); dir = dir.parent_path())
      if (tree.files.contains(dir.string()))
        throw RepositoryError(Name(), step,
                              "the path \"" + path + "\" would be inside the file \"" + dir.string() + "\"");

  const fs::path commits = RepoPath() / "commits";
  const fs::path temporary = RepoPath() / "tmp";
  const fs::path stage = temporary / ("commit-" + std::to_string(::getpid()));
  std::string id;
  try {
    // What a killed writer left: no other writer runs while the lock is held.
    for (const fs::directory_entry& leftover : fs::directory_iterator(temporary)) fs::remove_all(leftover.path());
    MakeDirectory(stage);
    const fs::path files = stage / "files";
    MakeDirectory(files);
    for (const std::string& path : carried) {
      MakeParents(files, path);
      LinkOrCopy(StoredFile(*head, path), files / path);
    }
    for (const FileAddition& addition : request.additions) {
      MakeParents(files, addition.path);
      const fs::path stored = files / addition.path;
      const bool bytes = addition.local_file.empty();
      const FileId file =
          bytes ? FileId{GitBlobId(addition.content), addition.content.size()} : GitBlobIdOfFile(addition.local_file);
      tree.files[addition.path] = {file.size, file.oid};
      // A file the parent has already, byte for byte, is the parent's: no copy.
      if (auto same = parent_files.find(addition.path); same != parent_files.end() && same->second.oid == file.oid) {
        LinkOrCopy(StoredFile(*head, addition.path), stored);
        continue;
      }
      if (bytes)
        WriteNewFile(stored, addition.content);
      else
        LinkOrCopy(addition.local_file, stored);
      MakeReadOnly(stored);
    }
    Json record = {{"parent", head ? Json(*head) : Json(nullptr)},
                   {"branch", request.branch},
                   {"summary", request.summary},
                   {"description", request.description},
                   {"created_at", FormatTimestamp(std::chrono::system_clock::now())},
                   {"files", Json::array()}};
    for (const auto& [path, file] : tree.files)
      record["files"].push_back({{"path", path}, {"size", file.size}, {"oid", file.oid}});
    id = Sha1Hex(record.dump());
    Json with_id = {{"id", id}};
    with_id.update(record);
    WriteNewFile(stage / kCommitRecord, with_id.dump(2) + "\n");
    for (const fs::path& dir : DirectoriesOf(files, tree.files)) SyncPath(dir);
    SyncPath(stage);
    // The same id is the same commit: one made already stays as it is.
    if (!RenameWithoutReplacing(stage, commits / id)) fs::remove_all(stage);
    SyncPath(commits);
    // The commit is made when the branch moves to it.
    ReplaceFileAtomically(ref, id + "\n");
  } catch (const std::exception& error) {
    std::error_code ignored;  // best effort: the failure is the one to report
    fs::remove_all(stage, ignored);
    if (dynamic_cast<const RepositoryError*>(&error)) throw;
    if (!dynamic_cast<const Error*>(&error) && !dynamic_cast<const fs::filesystem_error*>(&error)) throw;
    throw RepositoryError(Name(), step, error.what());
  }
  if (request.branch == kMain) UpdateFilesOfMain(head, id);
  return id;
}

void LocalRepository::CheckRequest(const CommitRequest& request, const std::string& step) const {
  const auto refuse = [&](const std::string& reason) { throw RepositoryError(Name(), step, reason); };
  if (!IsValidRefName(request.branch)) refuse("\"" + request.branch + "\" cannot be a branch name");
  if (request.summary.empty()) refuse("a commit needs a summary");
  std::set<std::string> touched;
  for (const FileAddition& addition : request.additions) {
    if (!IsValidRepositoryPath(addition.path)) refuse("\"" + addition.path + "\" cannot be a path in a repository");
    if (!touched.insert(addition.path).second) refuse("the path \"" + addition.path + "\" is added twice");
  }
  for (const std::string& path : request.deletions) {
    if (!IsValidRepositoryPath(path)) refuse("\"" + path + "\" cannot be a path in a repository");
    if (!touched.insert(path).second) refuse("the path \"" + path + "\" is deleted twice, or added and deleted");
  }
}

void LocalRepository::UpdateFilesOfMain(const std::optional<std::string>& old_head, const std::string& new_head) {
  const std::string step = "bring the files of main in " + directory_.string() + " up to commit " + Short(new_head) +
                           " (the commit was made; the next commit finishes this)";
  const Tree tree = ReadTree(new_head, step);
  try {
    std::set<fs::path> changed_dirs;
    for (const auto& [path, file] : tree.files) {
      const fs::path target = directory_ / path;
      const fs::path stored = StoredFile(new_head, path);
      if (SameFile(target, stored)) continue;
      for (const fs::path& created : MakeParents(directory_, path)) changed_dirs.insert(created.parent_path());
      const fs::path replacement = TemporaryPathFor(target);
      struct stat status {};
      if (::lstat(replacement.c_str(), &status) == 0 && S_ISREG(status.st_mode)) ::unlink(replacement.c_str());
      LinkOrCopy(stored, replacement);
      if (::rename(replacement.c_str(), target.c_str()) != 0) {
        const int error = errno;
        ::unlink(replacement.c_str());
        ThrowFileError("replace", target, error);
      }
      changed_dirs.insert(target.parent_path());
    }
    if (old_head) {
      for (const auto& [path, file] : ReadTree(*old_head, step).files) {
        if (tree.files.contains(path)) continue;
        const fs::path target = directory_ / path;
        // Only main's own file goes: one put in its place by someone else is theirs.
        if (SameFile(target, StoredFile(*old_head, path)) && ::unlink(target.c_str()) == 0)
          changed_dirs.insert(target.parent_path());
      }
    }
    for (auto dir = changed_dirs.rbegin(); dir != changed_dirs.rend(); ++dir) SyncPath(*dir);
  } catch (const Error& error) {
    throw RepositoryError(Name(), step, error.what());
  }
}

void LocalRepository::CreateTag(const std::string& tag, const std::string& revision) {
  CreateRef(RefKind::kTag, tag, revision);
}

void LocalRepository::CreateBranch(const std::string& branch, const std::string& revision) {
  CreateRef(RefKind::kBranch, branch, revision);
}

void LocalRepository::CreateRef(RefKind kind, const std::string& name, const std::string& revision) {
  const bool tag = kind == RefKind::kTag;
  const std::string noun = tag ? "tag" : "branch";
  const std::string step = "create the " + noun + " " + name + " on " + revision;
  RequireRepository(step);
  if (!IsValidRefName(name)) throw RepositoryError(Name(), step, "\"" + name + "\" cannot be a " + noun + " name");
  WriterLock lock(*this, step);
  const std::string id = Resolve(revision, step);
  const fs::path refs = RepoPath() / "refs" / (tag ? "tags" : "heads");
  const fs::path target = refs / name;
  try {
    const fs::path temporary = TemporaryPathFor(target);
    struct stat status {};
    if (::lstat(temporary.c_str(), &status) == 0 && S_ISREG(status.st_mode)) ::unlink(temporary.c_str());
    WriteNewFile(temporary, id + "\n");
    if (!RenameWithoutReplacing(temporary, target)) {
      ::unlink(temporary.c_str());
      std::optional<std::string> existing;
      try {
        existing = ReadRef(target);
      } catch (const Error&) {
      }
      const std::string where = existing ? " (on commit " + Short(*existing) + ")" : "";
      if (tag) throw TagExistsError(Name(), step, "the tag exists already" + where + "; tags never move");
      throw BranchExistsError(Name(), step, "the branch exists already" + where);
    }
    SyncPath(refs);
  } catch (const RepositoryError&) {
    throw;
  } catch (const Error& error) {
    throw RepositoryError(Name(), step, error.what());
  }
}

std::optional<std::string> LocalRepository::ReadFile(const std::string& revision, const std::string& path,
                                                     uint64_t max_bytes) {
  const std::string step = "read " + path + " at " + revision;
  const std::string id = Resolve(revision, step);
  if (!IsValidRepositoryPath(path)) return std::nullopt;
  try {
    return ReadRegularFile(StoredFile(id, path), max_bytes, "the file");
  } catch (const Error& error) {
    throw RepositoryError(Name(), step, error.what());
  }
}

bool LocalRepository::DownloadFile(const std::string& revision, const std::string& path, const fs::path& target) {
  const std::string step = "copy " + path + " at " + revision + " to " + target.string();
  const std::string id = Resolve(revision, step);
  if (!IsValidRepositoryPath(path)) return false;
  const fs::path stored = StoredFile(id, path);
  struct stat status {};
  if (::stat(stored.c_str(), &status) != 0 && errno == ENOENT) return false;
  try {
    const fs::path temporary = TemporaryPathFor(target);
    if (::lstat(temporary.c_str(), &status) == 0 && S_ISREG(status.st_mode)) ::unlink(temporary.c_str());
    CopyFile(stored, temporary);
    RenameOver(temporary, target);
  } catch (const Error& error) {
    throw RepositoryError(Name(), step, error.what());
  }
  return true;
}

std::vector<RepositoryFile> LocalRepository::ListFiles(const std::string& revision) {
  const std::string step = "list the files at " + revision;
  const Tree tree = ReadTree(Resolve(revision, step), step);
  std::vector<RepositoryFile> files;
  for (const auto& [path, file] : tree.files) files.push_back({path, file.size, file.oid});
  return files;
}

}  // namespace orch
