// The Hub's repository API (create, commit, LFS upload, tags, branches, tree, resolve) over real HTTP,
// for FakeHub: repositories held in memory, so that tests publish through a client and then assert
// on exactly what was published.
//
// FakeHub owns one and hands it the requests its auth and fault injection let through; LFS objects
// go to and come from a second origin, the "storage" (the Hub's presigned S3 and CDN URLs), served
// here on another loopback address (127.0.0.2 beside a Hub on 127.0.0.1; elsewhere another port).
//
// What the fake holds, per repository (type + "namespace/name"):
//  - commits as a chain, each with a 40-hex OID and the full set of files it has; a new repository
//    starts with the Hub's "initial commit" holding the Hub's default .gitattributes;
//  - branches (main) and tags, each naming a commit;
//  - regular files, identified by their git blob sha1; LFS files, identified by the sha256 of their
//    bytes (their git blob is the LFS pointer text), whose bytes live in the repository's LFS store.
//
// Rules chosen where the Hub's behaviour is not visible from its clients (each is explained where
// fake_hub_repos.cc applies it):
//  - preupload answers "lfs" when the file is larger than kLfsThreshold, when its 512-byte sample
//    holds a NUL byte (git's test for binary content), or when a `filter=lfs` pattern of the
//    .gitattributes (the request's gitAttributes, else the revision's file) matches its path;
//  - an LFS batch offers the basic transfer (single PUT) and, for objects larger than the multipart
//    threshold when the client offers "multipart", parts of a chunk size; never Xet, so clients that
//    prefer Xet fall back to LFS;
//  - storage refuses any request that carries an Authorization header (as S3 refuses a presigned
//    URL that also carries one) and records the header of every request, so tests prove that no
//    token reached it; it checks each upload's size and sha256;
//  - LFS objects belong to one repository; a commit whose lfsFile names an object not uploaded to
//    it is refused with 400 and changes nothing; a commit to anything but a branch is
//    RevisionNotFound;
//  - the multipart completion URL is a signed URL on the storage origin (the Hub's is a signed Hub
//    URL: either way the clients send it no token);
//  - the tree listing returns kDefaultTreePageSize entries per page (SetTreePageSize), sorted by
//    path, directories included when recursive, with a `Link: <...>; rel="next"` header while more
//    remain; `expand` is ignored. The commit listing (/commits/{rev}, newest first) pages the same way;
//  - pull requests (create_pr=1) are not supported: 501. Endpoints not listed here (paths-info,
//    xet-write-token, ...) fall through to FakeHub, which answers 404.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "support/test_tls.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace orch::testing {

class FakeHubRepos {
 public:
  static constexpr size_t kLfsThreshold = 10 * 1024 * 1024;
  static constexpr size_t kDefaultTreePageSize = 3;
  // Objects above this size are uploaded in parts of kDefaultChunkSize (SetMultipartUpload).
  static constexpr size_t kDefaultMultipartThreshold = 64 * 1024 * 1024;
  static constexpr size_t kDefaultChunkSize = 16 * 1024 * 1024;

  struct File {
    std::string path;
    std::string content;  // the file's bytes (for an LFS file, the object's bytes)
    bool lfs = false;
    std::string oid;     // git blob sha1 of the content, or of the LFS pointer for an LFS file
    std::string sha256;  // LFS files only
  };
  struct Commit {
    std::string oid, parent;  // parent "" for a first commit
    std::string title, description;
    std::vector<std::string> paths;  // every file the commit holds, sorted
  };
  // A request that reached the storage origin.
  struct StorageCall {
    std::string method, path, query, authorization;
    size_t bytes = 0;  // body size
    int status = 0;    // as the handler answered (a ranged 200 goes out as 206)
  };

  // `hub_host` is where FakeHub listens; with `tls` the storage speaks HTTPS with its certificate.
  explicit FakeHubRepos(std::string hub_host, std::optional<TestTls> tls = std::nullopt);
  ~FakeHubRepos();
  FakeHubRepos(const FakeHubRepos&) = delete;
  FakeHubRepos& operator=(const FakeHubRepos&) = delete;

  // Answers `request` when it is one of the repository endpoints and returns true; returns false to
  // leave it to FakeHub. `metadata_may_answer`: the path is also FakeHub's dataset_metadata.json
  // route, which answers it when no repository created here holds that dataset.
  bool Route(const httplib::Request& request, httplib::Response& response, bool metadata_may_answer);

  // Setup, as the Hub's API would do it. `type` is "model", "dataset" or "space".
  void CreateRepo(std::string_view type, const std::string& repo, bool is_private = false);
  // Commits `files` (path -> bytes) on `branch`, each regular or LFS by the preupload rule; returns
  // the commit's OID. Throws std::runtime_error for an unknown repository or branch.
  std::string CommitFiles(std::string_view type, const std::string& repo, const std::string& branch,
                          const std::map<std::string, std::string>& files, const std::string& summary);
  void SetTreePageSize(size_t entries);
  void SetMultipartUpload(size_t threshold, size_t chunk_size);

  // What was published. `rev` is a branch, a tag, a commit OID or refs/heads/..., refs/tags/....
  bool HasRepo(std::string_view type, const std::string& repo) const;
  // Throws std::runtime_error for an unknown repository.
  bool IsPrivate(std::string_view type, const std::string& repo) const;
  std::optional<File> FileAt(std::string_view type, const std::string& repo, const std::string& rev,
                             const std::string& path) const;
  std::vector<std::string> PathsAt(std::string_view type, const std::string& repo, const std::string& rev) const;
  // The commit `rev` names and its ancestors, newest first; empty when `rev` names none.
  std::vector<Commit> Commits(std::string_view type, const std::string& repo, const std::string& rev = "main") const;
  std::map<std::string, std::string> Tags(std::string_view type, const std::string& repo) const;  // name -> OID
  std::map<std::string, std::string> Branches(std::string_view type, const std::string& repo) const;
  bool HasLfsObject(std::string_view type, const std::string& repo, const std::string& sha256) const;

  // A misbehaviour of the storage origin, shown to the next `times` requests whose path contains
  // `path_substring` ("/uploads/", "/parts/2"): an S3 error answer of `status`, or, with `close`,
  // the connection closed before any answer. Either way nothing is stored.
  struct StorageFault {
    std::string path_substring;
    int status = 500;
    bool close = false;
    int times = 1;
  };
  void InjectStorageFault(StorageFault fault);
  void ClearStorageFaults();

  // "http://127.0.0.2:PORT": the storage origin, started on first use.
  std::string StorageOrigin();
  std::vector<StorageCall> StorageCalls() const;

  // The Git LFS pointer text that stands for an object in git.
  static std::string LfsPointer(const std::string& sha256, size_t size);

 private:
  struct FileEntry;
  struct CommitEntry;
  struct Repo;
  struct PendingUpload;
  struct Parsed;
  using Files = std::map<std::string, std::shared_ptr<const FileEntry>>;

  // Handlers of the Hub's endpoints; `base` is "scheme://host:port" as the client reached the Hub.
  void CreateRepoRequest(const httplib::Request& request, httplib::Response& response, const std::string& base);
  void DeleteRepoRequest(const httplib::Request& request, httplib::Response& response);
  void RepoInfo(const Parsed& target, Repo& repo, const httplib::Request& request, httplib::Response& response);
  void Preupload(const Parsed& target, Repo& repo, const httplib::Request& request, httplib::Response& response);
  void CommitRequest(const Parsed& target, Repo& repo, const httplib::Request& request, httplib::Response& response,
                     const std::string& base);
  void TagRequest(const Parsed& target, Repo& repo, const httplib::Request& request, httplib::Response& response);
  void BranchRequest(const Parsed& target, Repo& repo, const httplib::Request& request, httplib::Response& response);
  void Refs(Repo& repo, const httplib::Request& request, httplib::Response& response);
  void Tree(const Parsed& target, Repo& repo, const httplib::Request& request, httplib::Response& response,
            const std::string& base);
  void CommitList(const Parsed& target, Repo& repo, const httplib::Request& request, httplib::Response& response,
                  const std::string& base);
  void SendPage(const nlohmann::json& entries, const httplib::Request& request, httplib::Response& response,
                const std::string& base) const;
  void Resolve(const Parsed& target, Repo& repo, const httplib::Request& request, httplib::Response& response,
               bool raw);
  void LfsBatch(Repo& repo, const httplib::Request& request, httplib::Response& response);

  // Storage origin.
  void HandleStorage(const httplib::Request& request, httplib::Response& response);
  void StoragePut(const std::string& key, const httplib::Request& request, httplib::Response& response);
  void StoragePart(const std::string& key, int part, const httplib::Request& request, httplib::Response& response);
  void StorageComplete(const std::string& key, const httplib::Request& request, httplib::Response& response);
  void StorageGet(const std::string& key, httplib::Response& response);
  std::string StorageOriginLocked();
  std::string Sign(const std::string& path) const;

  Repo* FindRepo(std::string_view type, const std::string& repo);
  const Repo* FindRepo(std::string_view type, const std::string& repo) const;
  Repo& Require(std::string_view type, const std::string& repo);
  Repo& NewRepo(std::string_view type, const std::string& repo, bool is_private, const Files& initial_files);
  // The commit OID that `rev` names in `repo`, if any.
  std::optional<std::string> ResolveRev(const Repo& repo, const std::string& rev) const;
  std::string AddCommit(Repo& repo, const std::string& parent, Files files, const std::string& title,
                        const std::string& description);
  bool WantsLfs(const Repo& repo, const std::string& head, const std::string& path, size_t size,
                std::string_view sample, const std::optional<std::string>& git_attributes) const;
  static std::shared_ptr<const FileEntry> MakeFile(std::string content, bool lfs);
  static Parsed ParseTarget(const std::string& target);

  const std::string hub_host_;
  const std::optional<TestTls> tls_;
  const std::string secret_;  // signs the storage URLs

  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Repo>> repos_;             // by "type:namespace/name"
  std::map<std::string, std::unique_ptr<PendingUpload>> uploads_;  // by storage key
  std::vector<StorageCall> storage_calls_;
  std::vector<StorageFault> storage_faults_;
  size_t tree_page_size_ = kDefaultTreePageSize;
  size_t multipart_threshold_ = kDefaultMultipartThreshold;
  size_t chunk_size_ = kDefaultChunkSize;
  uint64_t sequence_ = 0;

  std::string storage_origin_;
  std::unique_ptr<httplib::Server> storage_;
  std::thread storage_thread_;
};

}  // namespace orch::testing
