// A Hub-style repository of files, as publishing and reading a dataset need it: commits of a set of
// files onto a branch, tags on commits, and the files of a revision (a branch, a tag or a commit id).
//
// The dataset publisher and the readers of datasets talk to this interface only, so a local
// directory (LocalRepository, hub/local_repository.h) and a repository on the Hugging Face Hub
// differ only in the transport. The rules are the Hub's (docs/architecture.md): a commit names the
// parent it expects and fails, changing nothing, when the branch has moved on (the Hub's 412); a tag
// is created once and never moves (a second one of that name is the Hub's 409); a commit's files
// never change. Every error names the repository and the step it failed at.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace orch {

// The commit, tag or branch name and the file paths a repository accepts, as the Hub does:
// - a ref name (branch or tag): letters, digits, '.', '_' and '-', not starting with '.' or '-',
//   without "..", at most 100 characters;
// - a path: '/'-separated parts, none empty, ".", ".." or one of the names the Hub keeps for itself
//   (".git", ".cache") or the local transport does (".repo"), no backslash or control character,
//   at most 1000 bytes.
bool IsValidRefName(std::string_view name);
bool IsValidRepositoryPath(std::string_view path);
// 40 lower-case hex digits.
bool IsCommitId(std::string_view text);

// A file a commit adds or replaces: its path in the repository and where its bytes come from, the
// bytes themselves or a local file. A local file is read when the commit is made (never held in
// memory whole); the local transport may hard-link it into the repository, so the caller must not
// change it afterwards (removing it is fine).
struct FileAddition {
  std::string path;
  std::string content;               // the bytes, when local_file is empty
  std::filesystem::path local_file;  // else the file to read them from
  static FileAddition FromBytes(std::string path, std::string content);
  static FileAddition FromFile(std::string path, std::filesystem::path local_file);
};

struct CommitRequest {
  std::string branch = "main";
  std::string summary;      // the commit's title; not empty
  std::string description;  // may be empty
  std::vector<FileAddition> additions;
  std::vector<std::string> deletions;  // paths that must exist at the parent
  // The head the caller expects the branch to have; when the branch has another, the commit fails
  // with StaleParentError and changes nothing. Not set: commit onto whatever the head is.
  std::optional<std::string> parent_commit;
};

// A file of a revision.
struct RepositoryFile {
  std::string path;  // "data/train.jsonl"
  uint64_t size = 0;
  std::string oid;  // its git blob id: sha1 of "blob <size>\0" and the bytes, as the Hub gives it
};

// What went wrong in a repository: "<repository>: cannot <step>: <reason>".
class RepositoryError : public HubError {
 public:
  RepositoryError(const std::string& repository, const std::string& step, const std::string& reason)
      : HubError(repository + ": cannot " + step + ": " + reason) {}
};

// The repository does not exist (the Hub's 404 RepoNotFound).
class RepositoryNotFoundError : public RepositoryError {
 public:
  using RepositoryError::RepositoryError;
};

// The branch, tag or commit named does not exist (the Hub's RevisionNotFound).
class RevisionNotFoundError : public RepositoryError {
 public:
  using RepositoryError::RepositoryError;
};

// The branch's head is not the parent the commit expected (the Hub's 412): someone else committed
// meanwhile. Nothing was changed; read the head again and decide.
class StaleParentError : public RepositoryError {
 public:
  using RepositoryError::RepositoryError;
};

// A tag of that name exists already (the Hub's 409). Tags never move; nothing was changed.
class TagExistsError : public RepositoryError {
 public:
  using RepositoryError::RepositoryError;
};

// A branch of that name exists already (the Hub's 409). Nothing was changed.
class BranchExistsError : public RepositoryError {
 public:
  using RepositoryError::RepositoryError;
};

class Repository {
 public:
  virtual ~Repository() = default;

  // How messages name the repository: a directory, or hf://datasets/OWNER/NAME.
  virtual std::string Name() const = 0;

  // Creates the repository, empty and without any branch, unless it exists.
  virtual void CreateIfMissing() = 0;

  // The commit id `revision` (a branch, a tag or a commit id; a branch first, then a tag) points to;
  // nothing when there is no such revision. Throws RepositoryNotFoundError when the repository
  // does not exist.
  virtual std::optional<std::string> HeadOf(const std::string& revision) = 0;

  // Commits `request` and returns the new commit's id. The files of the parent stay unless
  // deleted or replaced. A repository without commits takes a first commit onto "main"; any other
  // branch must exist. Throws StaleParentError (see CommitRequest::parent_commit),
  // RevisionNotFoundError for a missing branch, RepositoryError for a bad path, a deleted path that
  // does not exist, or a failure to write; a failed commit changes nothing.
  virtual std::string Commit(const CommitRequest& request) = 0;

  // Creates `tag` on the commit `revision` resolves to. Throws TagExistsError when the tag exists
  // (whatever it points to), RevisionNotFoundError when `revision` does not.
  virtual void CreateTag(const std::string& tag, const std::string& revision) = 0;

  // Creates the branch `branch` on the commit `revision` resolves to; commits onto it then move it
  // alone. Throws BranchExistsError when the branch exists, RevisionNotFoundError when `revision`
  // does not.
  virtual void CreateBranch(const std::string& branch, const std::string& revision) = 0;

  // The file `path` at `revision`; nothing when the revision has no such file. Throws
  // RevisionNotFoundError for a missing revision, RepositoryError when the file is larger than
  // `max_bytes` or cannot be read.
  virtual std::optional<std::string> ReadFile(const std::string& revision, const std::string& path,
                                              uint64_t max_bytes) = 0;

  // Copies the file `path` at `revision` to the local file `target` (written whole, then renamed
  // into place); false, writing nothing, when the revision has no such file. Throws as ReadFile.
  virtual bool DownloadFile(const std::string& revision, const std::string& path,
                            const std::filesystem::path& target) = 0;

  // Every file of `revision`, by path. Throws RevisionNotFoundError for a missing revision.
  virtual std::vector<RepositoryFile> ListFiles(const std::string& revision) = 0;
};

}  // namespace orch
