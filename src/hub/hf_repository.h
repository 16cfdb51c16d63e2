// A repository on the Hugging Face Hub, through the Hub's HTTP API: the Hub transport of the
// Repository interface (hub/repository.h), as LocalRepository is its local one.
//
//   CreateIfMissing  POST /api/repos/create (private unless told otherwise); a 409, or a 401, 402
//                    or 403 after which the repository's information can be read, means it exists
//   HeadOf           GET /api/{type}s/{repo}/refs (branches first, then tags), or
//                    /revision/{sha} for a commit id
//   Commit           POST /preupload/{branch}, which says which files go through LFS; each LFS file
//                    not stored yet (POST {prefix}{repo}.git/info/lfs/objects/batch) is uploaded to
//                    the storage origin the batch names, in one PUT or in parts plus a completion,
//                    read from its file as it is sent; then POST /commit/{branch}, NDJSON, naming
//                    its parent (412: StaleParentError)
//   CreateTag        POST /tag/{commit} (409: TagExistsError)
//   CreateBranch     POST /branch/{name} (409: BranchExistsError)
//   ReadFile,        GET {prefix}{repo}/resolve/{revision}/{path}, following the Hub's redirect to
//   DownloadFile     its storage; a download is written to a file as it arrives
//   ListFiles        GET /tree/{revision}?recursive=true, every page (Link: rel="next")
//
// The token goes to the Hub's endpoint only: never to the storage origins that LFS uploads and
// downloads are sent to (HttpClient keeps it to its origin, redirects included).
//
// Requests that are safe to repeat are retried on network errors, 429 (waiting what RateLimit or
// Retry-After asks, at most HTTP_RETRY_MAX) and 5xx, HTTP_RETRIES times. A commit, tag or branch
// creation whose answer was lost (the connection dropped after it was sent, a gateway's 502 or
// 504) is never sent again blindly: the branch or refs are read back first. A commit landed when
// the commit right after its parent on the branch has its title and every file it added or
// removed; one that did not land is sent again on the same parent, so that it cannot land twice.
//
// Every error names the repository (hf://datasets/OWNER/NAME, hf://OWNER/NAME for a model) and the
// step, and quotes the Hub's message and the answer's X-Request-Id; a refused token is told what
// right it lacks. Every request is bounded by the client's timeouts (HTTP_TIMEOUT per attempt), an
// upload or download included.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "hub/http_client.h"
#include "hub/repository.h"

namespace orch {

enum class HfRepositoryType { kDataset, kModel };

class HfRepository final : public Repository {
 public:
  // `endpoint` is HF_ENDPOINT without a trailing slash; `repo_id` is "owner/name". `token` may be
  // empty (public repositories can be read without one).
  HfRepository(const HttpSettings& settings, std::string endpoint, const std::string& token, HfRepositoryType type,
               std::string repo_id, bool create_private = true, std::function<void(const RetryNotice&)> on_retry = {});
  ~HfRepository() override;

  std::string Name() const override;
  void CreateIfMissing() override;
  std::optional<std::string> HeadOf(const std::string& revision) override;
  std::string Commit(const CommitRequest& request) override;
  void CreateTag(const std::string& tag, const std::string& revision) override;
  void CreateBranch(const std::string& branch, const std::string& revision) override;
  std::optional<std::string> ReadFile(const std::string& revision, const std::string& path,
                                      uint64_t max_bytes) override;
  bool DownloadFile(const std::string& revision, const std::string& path, const std::filesystem::path& target) override;
  std::vector<RepositoryFile> ListFiles(const std::string& revision) override;

  // Makes every request give up once `cancellation` is set (see HttpClient::SetCancellation).
  void SetCancellation(const Cancellation* cancellation) { http_.SetCancellation(cancellation); }

 private:
  struct Upload;
  struct TreeEntry;
  struct Refs;
  enum class Access { kRead, kWrite, kCreate };

  std::string ApiUrl(const std::string& rest = "") const;  // {E}/api/{type}s/{repo}{rest}
  std::string GitUrl(const std::string& rest) const;       // {E}/{prefix}{repo}{rest}
  std::string Owner() const;

  // Throws the error class `response` stands for, naming `step`.
  [[noreturn]] void Fail(const HttpResponse& response, const std::string& step, Access access) const;
  HttpResponse Send(const HttpRequest& request);

  Refs ReadRefs(const std::string& step);
  // The commit `revision` names (see HeadOf); throws RevisionNotFoundError when none.
  std::string Resolve(const std::string& revision, const std::string& step);
  // The head of the branch `branch` (a tag of that name is not one); throws RevisionNotFoundError.
  std::string BranchHead(const std::string& branch, const std::string& step);
  std::vector<TreeEntry> Tree(const std::string& revision, const std::string& step);
  // Creates a tag (or a branch) on the commit `revision` resolves to; a lost answer is checked
  // against the refs before the request is sent again.
  void CreateRef(bool tag, const std::string& name, const std::string& revision);

  std::vector<Upload> Describe(const CommitRequest& request, const std::string& step) const;
  std::string Preupload(const CommitRequest& request, std::vector<Upload>& uploads, const std::string& step);
  void UploadLfs(const CommitRequest& request, std::vector<Upload>& uploads, const std::string& step);
  // Uploads one object to the storage the batch answer's `actions` name (one PUT, or parts and a
  // completion: one whose answer was lost is checked through the batch API), then asks for its
  // verification when the answer wants one.
  void UploadObject(const CommitRequest& request, Upload& upload, const nlohmann::json& actions,
                    const std::string& step);
  // Whether the batch API says `upload`'s object is stored.
  bool LfsObjectStored(const CommitRequest& request, const Upload& upload, const std::string& step);
  std::string CommitBody(const CommitRequest& request, const std::vector<Upload>& uploads,
                         const std::string& parent) const;
  // The commit made onto `parent` on `request.branch`, when it is the one `request` describes: its
  // title and the files it adds and removes.
  std::optional<std::string> FindLanded(const CommitRequest& request, const std::vector<Upload>& uploads,
                                        const std::string& parent, const std::string& step);
  // The commit right after `parent` on `branch` (from the commit listing, newest first), and its title.
  std::optional<std::string> ChildOf(const std::string& branch, const std::string& parent, const std::string& step,
                                     std::string& title);

  HttpClient http_;
  std::string endpoint_;
  HfRepositoryType type_;
  std::string repo_id_;
  bool create_private_;
  bool exists_ = false;  // CreateIfMissing made or found it
};

}  // namespace orch
