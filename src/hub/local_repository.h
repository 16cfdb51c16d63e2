// The local transport of a Hub-style repository: a directory that is the repository.
//
//   DIR/<path>                          the files of main, as plain files (hard links into main's
//                                       head commit), so DIR/dataset_metadata.json is main's
//   DIR/.repo/commits/<id>/files/<path> the files of commit <id>, never changed once written
//   DIR/.repo/commits/<id>/commit.json  {"id", "parent", "branch", "summary", "description",
//                                       "created_at", "files": [{"path", "size", "oid"}]}
//   DIR/.repo/refs/heads/<branch>       "<commit id>\n"
//   DIR/.repo/refs/tags/<tag>           "<commit id>\n", created once, never replaced
//   DIR/.repo/lock                      held (flock) by a writer while it commits or tags
//   DIR/.repo/tmp/                      commits being built; what a killed writer left there is
//                                       removed by the next writer
//
// A commit id is the sha1 of the commit's JSON record without its id: its parent, branch, time,
// title, description and every file's path, size and git blob id. A commit's files are hard links
// to its parent's unchanged files and to the files added from local paths (copies where the file
// system cannot link), made read-only, so a version costs no copy of its data.
//
// A commit is built whole under .repo/tmp, every file and directory fsynced, renamed into
// .repo/commits/<id>, and only then does the branch's ref file move to it (written to a temporary
// file, fsynced, renamed over the old one, the directory fsynced). A process killed at any point
// leaves the branch at the old commit or the new one, and a reader of a revision sees only a
// complete commit. After the ref moves, the files of main in DIR are brought up to date one by one,
// each replaced by a rename; readers of a tag or a commit read .repo/commits and never the moving
// main. Files in DIR that no commit has (the old layout's version directories, say) are left alone.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hub/repository.h"

namespace orch {

class LocalRepository final : public Repository {
 public:
  explicit LocalRepository(std::filesystem::path directory);

  // CreateIfMissing makes `directory` (its parents too) when missing, and .repo in it.
  std::string Name() const override { return directory_.string(); }
  void CreateIfMissing() override;
  std::optional<std::string> HeadOf(const std::string& revision) override;
  std::string Commit(const CommitRequest& request) override;
  void CreateTag(const std::string& tag, const std::string& revision) override;
  void CreateBranch(const std::string& branch, const std::string& revision) override;
  std::optional<std::string> ReadFile(const std::string& revision, const std::string& path,
                                      uint64_t max_bytes) override;
  bool DownloadFile(const std::string& revision, const std::string& path, const std::filesystem::path& target) override;
  std::vector<RepositoryFile> ListFiles(const std::string& revision) override;

  const std::filesystem::path& directory() const { return directory_; }
  // Where the file `path` of commit `commit_id` is kept (it may not exist).
  std::filesystem::path StoredFile(const std::string& commit_id, const std::string& path) const;

 private:
  struct Tree;
  class WriterLock;

  std::filesystem::path RepoPath() const { return directory_ / ".repo"; }
  void RequireRepository(const std::string& step) const;
  std::optional<std::string> ReadRef(const std::filesystem::path& ref) const;
  std::string Resolve(const std::string& revision, const std::string& step);
  enum class RefKind { kTag, kBranch };
  void CreateRef(RefKind kind, const std::string& name, const std::string& revision);
  Tree ReadTree(const std::string& commit_id, const std::string& step) const;
  void CheckRequest(const CommitRequest& request, const std::string& step) const;
  void UpdateFilesOfMain(const std::optional<std::string>& old_head, const std::string& new_head);

  std::filesystem::path directory_;
};

}  // namespace orch
