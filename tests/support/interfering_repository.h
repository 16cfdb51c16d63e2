// A repository that another writer commits to at the worst moment: every call goes to the real
// repository it wraps, but before a commit onto a chosen branch it first runs what the test gives
// (a commit of its own onto that branch, say), so the commit finds the parent it expects stale, as
// when two writers race. For tests of the code that must read a moved branch again and retry; it
// also counts the files downloaded through it, for tests of what is read once.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "hub/repository.h"

namespace orch::testing {

class InterferingRepository final : public Repository {
 public:
  explicit InterferingRepository(Repository& real) : real_(real) {}

  // Runs `interfere` before each of the next `times` commits onto `branch`.
  void InterfereWithCommits(std::string branch, int times, std::function<void()> interfere);
  // How many commits onto `branch` were asked for (refused ones included).
  int commits_to(const std::string& branch) const;

  std::string Name() const override { return real_.Name(); }
  void CreateIfMissing() override { real_.CreateIfMissing(); }
  std::optional<std::string> HeadOf(const std::string& revision) override { return real_.HeadOf(revision); }
  std::string Commit(const CommitRequest& request) override;
  void CreateTag(const std::string& tag, const std::string& revision) override { real_.CreateTag(tag, revision); }
  void CreateBranch(const std::string& branch, const std::string& revision) override {
    real_.CreateBranch(branch, revision);
  }
  std::optional<std::string> ReadFile(const std::string& revision, const std::string& path,
                                      uint64_t max_bytes) override {
    return real_.ReadFile(revision, path, max_bytes);
  }
  bool DownloadFile(const std::string& revision, const std::string& path,
                    const std::filesystem::path& target) override {
    ++downloads_;
    return real_.DownloadFile(revision, path, target);
  }
  std::vector<RepositoryFile> ListFiles(const std::string& revision) override { return real_.ListFiles(revision); }

  // How many files were downloaded through it.
  int downloads() const { return downloads_; }

 private:
  Repository& real_;
  std::string branch_;
  int times_ = 0;
  std::function<void()> interfere_;
  std::map<std::string, int> commits_;
  int downloads_ = 0;
};

}  // namespace orch::testing
