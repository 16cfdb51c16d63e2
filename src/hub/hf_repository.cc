#include "hub/hf_repository.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>
#include <utility>

#include "config/url_policy.h"
#include "hub/content_hash.h"
#include "hub/hf_hub.h"
#include "util/base64.h"
#include "util/durable_file.h"
#include "util/redact.h"
#include "util/strings.h"

namespace orch {
namespace {

using Json = nlohmann::json;

constexpr char kLfsMediaType[] = "application/vnd.git-lfs+json";
constexpr size_t kSampleBytes = 512;               // what the Hub's preupload looks at of each file
constexpr size_t kFilesPerRequest = 100;           // files per preupload, objects per LFS batch
constexpr uint64_t kMaxRegularBytes = 1ULL << 30;  // the Hub's payload limit of one commit's regular files
constexpr size_t kMaxListingPages = 10000;
constexpr size_t kMaxCommitsScanned = 1000;  // looking for the commit made onto a parent
constexpr int kMaxSends = 3;                 // of a commit, tag or branch whose answers were lost
constexpr int kMaxCommitRounds = 3;          // of a commit without a parent, the branch moving meanwhile
constexpr size_t kMaxErrorBodyBytes = 64 << 10;
constexpr size_t kMaxRequestIdBytes = 100;

// Percent-encodes all but RFC 3986's unreserved characters, as encodeURIComponent (and Python's
// quote(safe="")) do; `keep_slashes` leaves '/' as it is, for a path.
std::string Encode(std::string_view text, bool keep_slashes = false) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~' || (keep_slashes && c == '/')) {
      out += c;
    } else {
      out += '%';
      out += kDigits[byte >> 4];
      out += kDigits[byte & 0x0f];
    }
  }
  return out;
}

Json ParseJson(std::string_view body) { return Json::parse(body, nullptr, /*allow_exceptions=*/false); }

std::string StringOf(const Json& object, const char* key) {
  if (!object.is_object()) return "";
  const auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : "";
}

bool IsSuccess(int status) { return status >= 200 && status < 300; }

// An answer lost after the request may have been carried out: the connection broke after it was
// sent, or a gateway answered for a server it lost touch with.
bool IsLost(const HttpResponse& response) {
  return (response.status == 0 && response.may_have_arrived) || response.status == 502 || response.status == 504;
}

// What a server said about its refusal, and the answer's request id, to append to a reason: the
// Hub's {"error": ...} or X-Error-Message, or the start of another body (a storage's XML error).
std::string Said(const HttpResponse& response) {
  std::string said = HubErrorOf(response.body);
  if (said.empty()) said = Excerpt(response.Header("x-error-message"), kMaxServerErrorBytes);
  if (said.empty()) said = StorageErrorOf(response.body);
  if (said.empty() && !response.body.empty() && response.body.front() == '<')
    said = Excerpt(response.body, kMaxServerErrorBytes);
  std::string out = said.empty() ? "" : ": " + said;
  const std::string id = response.Header("x-request-id");
  if (!id.empty()) out += " (request id " + Excerpt(id, kMaxRequestIdBytes) + ")";
  return out;
}

std::string Attempts(const HttpResponse& response) {
  return std::to_string(response.attempts) + (response.attempts == 1 ? " attempt" : " attempts");
}

// Why an exchange with a server that is not the Hub's API (the LFS storage) failed.
std::string StorageFailure(const HttpResponse& response) {
  if (response.status == 0) return "no answer after " + Attempts(response) + " (" + Excerpt(response.error, 400) + ")";
  return "HTTP " + std::to_string(response.status) + " after " + Attempts(response) + Said(response);
}

// The URL of a Link header's rel="next" item; "" when there is none.
std::string NextPage(std::string_view link) {
  for (size_t start = 0; start < link.size();) {
    const size_t open = link.find('<', start);
    if (open == std::string_view::npos) break;
    const size_t close = link.find('>', open);
    if (close == std::string_view::npos) break;
    size_t end = link.find('<', close);
    if (end == std::string_view::npos) end = link.size();
    const std::string_view params = link.substr(close + 1, end - close - 1);
    if (params.find("rel=\"next\"") != std::string_view::npos || params.find("rel=next") != std::string_view::npos)
      return std::string(link.substr(open + 1, close - open - 1));
    start = close + 1;
  }
  return "";
}

HttpRequest JsonPost(std::string url, const Json& body, bool repeatable) {
  HttpRequest request;
  request.method = "POST";
  request.url = std::move(url);
  request.body = body.dump();
  request.content_type = "application/json";
  request.repeatable = repeatable;
  return request;
}

HttpRequest LfsPost(std::string url, const Json& body, bool repeatable) {
  HttpRequest request = JsonPost(std::move(url), body, repeatable);
  request.content_type = kLfsMediaType;
  request.headers.push_back(std::string("Accept: ") + kLfsMediaType);
  return request;
}

}  // namespace

// A file of a commit, as the Hub's API needs to know it.
struct HfRepository::Upload {
  const FileAddition* addition = nullptr;
  uint64_t size = 0;
  std::string git_oid;
  std::string sha256;
  std::string sample;  // the first kSampleBytes
  bool lfs = false;    // as the preupload decided
};

// A file or a directory of a tree listing.
struct HfRepository::TreeEntry {
  bool file = false;
  std::string path;
  uint64_t size = 0;
  std::string oid;      // git blob id (of the pointer, for an LFS file)
  std::string lfs_oid;  // sha256 of an LFS file's content; "" for a regular file
};

struct HfRepository::Refs {
  std::map<std::string, std::string> branches, tags;  // name -> commit
};

HfRepository::HfRepository(const HttpSettings& settings, std::string endpoint, const std::string& token,
                           HfRepositoryType type, std::string repo_id, bool create_private,
                           std::function<void(const RetryNotice&)> on_retry)
    : http_(settings, token, UrlOrigin(endpoint), std::move(on_retry)),
      endpoint_(std::move(endpoint)),
      type_(type),
      repo_id_(std::move(repo_id)),
      create_private_(create_private) {}

HfRepository::~HfRepository() = default;

std::string HfRepository::Name() const {
  return type_ == HfRepositoryType::kDataset ? "hf://datasets/" + repo_id_ : "hf://" + repo_id_;
}

std::string HfRepository::Owner() const { return repo_id_.substr(0, repo_id_.find('/')); }

std::string HfRepository::ApiUrl(const std::string& rest) const {
  return endpoint_ + (type_ == HfRepositoryType::kDataset ? "/api/datasets/" : "/api/models/") + repo_id_ + rest;
}

std::string HfRepository::GitUrl(const std::string& rest) const {
  return endpoint_ + (type_ == HfRepositoryType::kDataset ? "/datasets/" : "/") + repo_id_ + rest;
}

HttpResponse HfRepository::Send(const HttpRequest& request) { return http_.Perform(request); }

void HfRepository::Fail(const HttpResponse& response, const std::string& step, Access access) const {
  const std::string said = Said(response);
  const std::string code = response.Header("x-error-code");
  const std::string right = access == Access::kCreate  ? "create repositories under " + Owner()
                            : access == Access::kWrite ? "write to " + Name()
                                                       : "read " + Name();
  const std::string grant = access == Access::kRead
                                ? "a token that may read " + Owner() + "'s repositories"
                                : "a token with write access to " + Owner() +
                                      " (a fine-grained token needs \"Write access to contents/settings of all repos "
                                      "under " +
                                      Owner() + "\" or write access to this repository)";
  switch (response.status) {
    case 0:
      throw RepositoryError(Name(), step,
                            "no answer from " + UrlOrigin(endpoint_) + " after " + Attempts(response) + " (" +
                                Excerpt(response.error, 400) + ")");
    case 401:
      if (said.find("Invalid credentials") != std::string::npos || said.find("invalid") != std::string::npos)
        throw RepositoryError(
            Name(), step,
            "the Hub refused HF_TOKEN (401)" + said + "; set HF_TOKEN to a valid, unexpired token that may " + right);
      throw RepositoryNotFoundError(
          Name(), step,
          "the repository does not exist, or it is private and HF_TOKEN may not read it (401)" + said +
              "; check the repository's name and set HF_TOKEN to " + grant);
    case 402:
      throw RepositoryError(
          Name(), step,
          "the Hub wants a paid plan or more storage for this (402)" + said + "; see the account's billing settings");
    case 403:
      throw RepositoryError(Name(), step,
                            "HF_TOKEN may not " + right + " (" + std::to_string(response.status) + ")" + said +
                                "; set HF_TOKEN to " + grant);
    case 404:
      if (code == "RepoNotFound")
        throw RepositoryNotFoundError(Name(), step, "the repository does not exist (404)" + said);
      if (code == "RevisionNotFound") throw RevisionNotFoundError(Name(), step, "no such revision (404)" + said);
      if (code == "EntryNotFound") throw RepositoryError(Name(), step, "no such file (404)" + said);
      throw RepositoryError(Name(), step, "not found (404)" + said);
    // A commit's 412 (its parent is stale) is the commit's to handle; elsewhere it is no such thing.
    case 412: throw RepositoryError(Name(), step, "the Hub refused a precondition of the request (412)" + said);
    case 429: {
      std::string reason = "the Hub's rate limit was reached (429) after " + Attempts(response) + said;
      const std::string limit = response.Header("ratelimit");
      if (!limit.empty()) reason += "; RateLimit: " + Excerpt(limit, 100);
      throw RepositoryError(Name(), step, reason + "; run again once the rate limit's window has passed");
    }
    default:
      if (response.status >= 500)
        throw RepositoryError(Name(), step,
                              "the Hub answered HTTP " + std::to_string(response.status) + " after " +
                                  Attempts(response) + said + "; run again later");
      throw RepositoryError(Name(), step, "HTTP " + std::to_string(response.status) + said);
  }
}

// ---- Repository and refs -------------------------------------------------------------------------

void HfRepository::CreateIfMissing() {
  if (exists_) return;  // made or found by this object already: repositories are not deleted here
  const std::string step = "create the repository";
  const size_t slash = repo_id_.find('/');
  Json body = {{"name", repo_id_.substr(slash + 1)},
               {"organization", repo_id_.substr(0, slash)},
               {"type", type_ == HfRepositoryType::kDataset ? "dataset" : "model"},
               {"visibility", create_private_ ? "private" : "public"}};
  // A repeat is harmless: it meets the repository the first one made (409).
  const HttpResponse created = Send(JsonPost(endpoint_ + "/api/repos/create", body, /*repeatable=*/true));
  exists_ = IsSuccess(created.status);
  if (!exists_ && (created.status == 409 || created.status == 401 || created.status == 402 || created.status == 403)) {
    // Exists already (409), or the token may not create repositories but the repository is there:
    // as huggingface_hub's exist_ok, its information decides.
    HttpRequest info;
    info.url = ApiUrl();
    exists_ = IsSuccess(Send(info).status);
  }
  if (exists_) return;
  Fail(created, step, created.status == 409 ? Access::kWrite : Access::kCreate);
}

HfRepository::Refs HfRepository::ReadRefs(const std::string& step) {
  HttpRequest request;
  request.url = ApiUrl("/refs");
  const HttpResponse response = Send(request);
  if (response.status != 200) Fail(response, step, Access::kRead);
  const Json answer = ParseJson(response.body);
  if (!answer.is_object())
    throw RepositoryError(Name(), step, "the Hub's refs answer is not a JSON object" + Said(response));
  Refs refs;
  const auto take = [&](const char* key, std::map<std::string, std::string>& into) {
    const auto list = answer.find(key);
    if (list == answer.end() || !list->is_array()) return;
    for (const Json& ref : *list) {
      const std::string name = StringOf(ref, "name"), target = StringOf(ref, "targetCommit");
      if (!name.empty() && IsCommitId(target)) into[name] = target;
    }
  };
  take("branches", refs.branches);
  take("tags", refs.tags);
  return refs;
}

std::optional<std::string> HfRepository::HeadOf(const std::string& revision) {
  const std::string step = "read the commit " + revision + " points to";
  if (IsCommitId(revision)) {
    HttpRequest request;
    request.url = ApiUrl("/revision/" + revision);
    request.max_body_bytes = 64 << 20;  // the answer lists every file
    const HttpResponse response = Send(request);
    if (response.status == 404 && response.Header("x-error-code") == "RevisionNotFound") return std::nullopt;
    if (response.status != 200) Fail(response, step, Access::kRead);
    const std::string sha = StringOf(ParseJson(response.body), "sha");
    if (!IsCommitId(sha)) throw RepositoryError(Name(), step, "the Hub's answer names no commit" + Said(response));
    return sha;
  }
  const Refs refs = ReadRefs(step);
  if (const auto branch = refs.branches.find(revision); branch != refs.branches.end()) return branch->second;
  if (const auto tag = refs.tags.find(revision); tag != refs.tags.end()) return tag->second;
  return std::nullopt;
}

std::string HfRepository::BranchHead(const std::string& branch, const std::string& step) {
  const Refs refs = ReadRefs(step);
  const auto found = refs.branches.find(branch);
  if (found == refs.branches.end()) throw RevisionNotFoundError(Name(), step, "there is no branch " + branch);
  return found->second;
}

std::string HfRepository::Resolve(const std::string& revision, const std::string& step) {
  std::optional<std::string> commit = HeadOf(revision);
  if (!commit) throw RevisionNotFoundError(Name(), step, "there is no branch, tag or commit " + revision);
  return *commit;
}

void HfRepository::CreateTag(const std::string& tag, const std::string& revision) { CreateRef(true, tag, revision); }

void HfRepository::CreateBranch(const std::string& branch, const std::string& revision) {
  CreateRef(false, branch, revision);
}

void HfRepository::CreateRef(bool tag, const std::string& name, const std::string& revision) {
  const std::string step = tag ? "tag " + revision + " as " + name : "create the branch " + name + " on " + revision;
  if (!IsValidRefName(name))
    throw RepositoryError(
        Name(), step,
        "\"" + Printable(name) + "\" is not a valid name: use letters, digits, '.', '_' and '-', at most 100");
  const std::string commit = Resolve(revision, step);
  const HttpRequest request =
      tag ? JsonPost(ApiUrl("/tag/" + commit), {{"tag", name}}, /*repeatable=*/false)
          : JsonPost(ApiUrl("/branch/" + Encode(name)), {{"startingPoint", commit}}, /*repeatable=*/false);
  bool lost_before = false;
  for (int sent = 1; sent <= kMaxSends; ++sent) {
    const HttpResponse response = Send(request);
    if (IsSuccess(response.status)) return;
    const bool lost = IsLost(response);
    if (!lost && response.status != 409) Fail(response, step, Access::kWrite);
    if (response.status == 409 && !lost_before) {
      if (tag) throw TagExistsError(Name(), step, "the tag " + name + " exists already" + Said(response));
      throw BranchExistsError(Name(), step, "the branch " + name + " exists already" + Said(response));
    }
    // The answer was lost, or a repeat met a ref: the refs say whether it is the one asked for.
    lost_before = true;
    const Refs refs = ReadRefs(step);
    const std::map<std::string, std::string>& named = tag ? refs.tags : refs.branches;
    if (const auto found = named.find(name); found != named.end()) {
      if (found->second == commit) return;
      if (tag) throw TagExistsError(Name(), step, "the tag " + name + " exists already, on " + found->second);
      throw BranchExistsError(Name(), step, "the branch " + name + " exists already, on " + found->second);
    }
    if (response.status == 409) {
      if (tag) throw TagExistsError(Name(), step, "the Hub says the tag exists" + Said(response));
      throw BranchExistsError(Name(), step, "the Hub says the branch exists" + Said(response));
    }
  }
  throw RepositoryError(Name(), step,
                        "the Hub's answer was lost " + std::to_string(kMaxSends) + " times and the " +
                            (tag ? "tag" : "branch") + " is not there; nothing was changed, run again");
}

// ---- Commits -------------------------------------------------------------------------------------

std::vector<HfRepository::Upload> HfRepository::Describe(const CommitRequest& request, const std::string& step) const {
  std::vector<Upload> uploads;
  for (const FileAddition& addition : request.additions) {
    Upload upload;
    upload.addition = &addition;
    if (addition.local_file.empty()) {
      upload.size = addition.content.size();
      upload.git_oid = GitBlobId(addition.content);
      upload.sha256 = Sha256Hex(addition.content);
      upload.sample = addition.content.substr(0, kSampleBytes);
    } else {
      try {
        FileDigests digests = DigestFile(addition.local_file, kSampleBytes);
        upload.size = digests.size;
        upload.git_oid = std::move(digests.git_oid);
        upload.sha256 = std::move(digests.sha256);
        upload.sample = std::move(digests.head);
      } catch (const WorkerError& error) {
        throw RepositoryError(Name(), step, error.what());
      }
    }
    uploads.push_back(std::move(upload));
  }
  return uploads;
}

std::string HfRepository::Preupload(const CommitRequest& request, std::vector<Upload>& uploads,
                                    const std::string& step) {
  std::string head;
  for (size_t start = 0; start < uploads.size(); start += kFilesPerRequest) {
    const size_t end = std::min(uploads.size(), start + kFilesPerRequest);
    Json files = Json::array();
    for (size_t i = start; i < end; ++i)
      files.push_back(
          {{"path", uploads[i].addition->path}, {"size", uploads[i].size}, {"sample", Base64(uploads[i].sample)}});
    // Asking again changes nothing.
    const HttpResponse response =
        Send(JsonPost(ApiUrl("/preupload/" + Encode(request.branch)), {{"files", files}}, /*repeatable=*/true));
    if (response.status != 200) Fail(response, step, Access::kWrite);
    const Json answer = ParseJson(response.body);
    if (!answer.is_object() || !answer.contains("files") || !answer["files"].is_array())
      throw RepositoryError(Name(), step, "the Hub's preupload answer has no \"files\"" + Said(response));
    std::map<std::string, const Json*> by_path;
    for (const Json& file : answer["files"]) by_path[StringOf(file, "path")] = &file;
    for (size_t i = start; i < end; ++i) {
      const std::string& path = uploads[i].addition->path;
      const auto found = by_path.find(path);
      if (found == by_path.end())
        throw RepositoryError(Name(), step, "the Hub's preupload answer does not name " + path + Said(response));
      const Json& file = *found->second;
      const std::string mode = StringOf(file, "uploadMode");
      if (mode != "regular" && mode != "lfs")
        throw RepositoryError(Name(), step,
                              "the Hub's preupload answer gives " + path + " the upload mode \"" + Excerpt(mode, 40) +
                                  "\", neither regular nor lfs");
      if (file.contains("shouldIgnore") && file["shouldIgnore"] == true)
        throw RepositoryError(Name(), step,
                              "the repository's .gitignore ignores " + path +
                                  ", so the commit would leave it out; remove that rule from .gitignore");
      // An empty LFS object is refused by the storage: the clients send empty files as regular ones.
      uploads[i].lfs = mode == "lfs" && uploads[i].size > 0;
    }
    head = StringOf(answer, "commitOid");
  }
  if (!IsCommitId(head)) head = BranchHead(request.branch, step);
  return head;
}

bool HfRepository::LfsObjectStored(const CommitRequest& request, const Upload& upload, const std::string& step) {
  const Json body = {{"operation", "upload"},
                     {"transfers", {"basic", "multipart"}},
                     {"objects", {{{"oid", upload.sha256}, {"size", upload.size}}}},
                     {"hash_algo", "sha256"},
                     {"ref", {{"name", request.branch}}}};
  const HttpResponse response = Send(LfsPost(GitUrl(".git/info/lfs/objects/batch"), body, /*repeatable=*/true));
  if (response.status != 200) Fail(response, step, Access::kWrite);
  const Json answer = ParseJson(response.body);
  if (!answer.is_object() || !answer.contains("objects") || !answer["objects"].is_array()) return false;
  for (const Json& object : answer["objects"])
    if (StringOf(object, "oid") == upload.sha256) return !object.contains("actions") && !object.contains("error");
  return false;
}

void HfRepository::UploadLfs(const CommitRequest& request, std::vector<Upload>& uploads, const std::string& step) {
  std::vector<Upload*> lfs;
  for (Upload& upload : uploads)
    if (upload.lfs) lfs.push_back(&upload);
  for (size_t start = 0; start < lfs.size(); start += kFilesPerRequest) {
    const size_t end = std::min(lfs.size(), start + kFilesPerRequest);
    Json objects = Json::array();
    for (size_t i = start; i < end; ++i) objects.push_back({{"oid", lfs[i]->sha256}, {"size", lfs[i]->size}});
    const Json body = {{"operation", "upload"},
                       {"transfers", {"basic", "multipart"}},
                       {"objects", objects},
                       {"hash_algo", "sha256"},
                       {"ref", {{"name", request.branch}}}};
    // The batch API only hands out upload URLs: asking again changes nothing.
    const HttpResponse response = Send(LfsPost(GitUrl(".git/info/lfs/objects/batch"), body, /*repeatable=*/true));
    if (response.status != 200) Fail(response, step, Access::kWrite);
    const Json answer = ParseJson(response.body);
    if (!answer.is_object() || !answer.contains("objects") || !answer["objects"].is_array())
      throw RepositoryError(Name(), step, "the Hub's LFS batch answer has no \"objects\"" + Said(response));
    std::map<std::string, const Json*> by_oid;
    for (const Json& object : answer["objects"]) by_oid[StringOf(object, "oid")] = &object;
    for (size_t i = start; i < end; ++i) {
      Upload& upload = *lfs[i];
      const std::string what = "upload " + upload.addition->path;
      const auto found = by_oid.find(upload.sha256);
      if (found == by_oid.end())
        throw RepositoryError(Name(), what, "the Hub's LFS batch answer does not name its object " + upload.sha256);
      const Json& object = *found->second;
      if (object.contains("error")) {
        const Json& error = object["error"];
        throw RepositoryError(
            Name(), what,
            "the Hub refused to store its LFS object: " +
                Excerpt(error.is_object() ? error.value("message", error.dump()) : error.dump(), kMaxServerErrorBytes));
      }
      if (!object.contains("actions") || !object["actions"].is_object()) continue;  // stored already
      const Json& actions = object["actions"];
      if (!actions.contains("upload") || !actions["upload"].is_object()) continue;
      UploadObject(request, upload, actions, what);
    }
  }
}

void HfRepository::UploadObject(const CommitRequest& request, Upload& upload, const nlohmann::json& actions,
                                const std::string& step) {
  const Json& action = actions["upload"];
  const std::string href = StringOf(action, "href");
  if (href.empty()) throw RepositoryError(Name(), step, "the Hub's LFS batch answer gives no upload URL");
  const FileAddition& addition = *upload.addition;
  // The bytes [offset, offset + length) of the file as one request's body, read from its file.
  const auto put = [&](const std::string& url, uint64_t offset, uint64_t length) {
    HttpRequest request;
    request.method = "PUT";
    request.url = url;
    request.repeatable = true;
    if (addition.local_file.empty()) {
      request.body = addition.content.substr(offset, length);
    } else {
      request.body_file = addition.local_file;
      request.body_file_offset = offset;
      request.body_file_length = length;
    }
    return request;
  };
  const Json header = action.contains("header") && action["header"].is_object() ? action["header"] : Json::object();
  const std::string chunk_text = StringOf(header, "chunk_size");
  if (chunk_text.empty()) {
    const HttpResponse response = Send(put(href, 0, upload.size));
    if (!IsSuccess(response.status))
      throw RepositoryError(Name(), step, "the storage refused the upload: " + StorageFailure(response));
  } else {
    uint64_t chunk = 0;
    const auto [end, error] = std::from_chars(chunk_text.data(), chunk_text.data() + chunk_text.size(), chunk);
    if (error != std::errc() || end != chunk_text.data() + chunk_text.size() || chunk == 0)
      throw RepositoryError(Name(), step,
                            "the Hub's LFS batch answer has the chunk size \"" + Excerpt(chunk_text, 40) + "\"");
    std::map<uint64_t, std::string> part_urls;  // by part number
    for (const auto& [key, value] : header.items()) {
      if (key == "chunk_size") continue;
      const std::optional<int64_t> number = ParseInteger(key);
      if (!number || *number < 1 || !value.is_string()) continue;
      part_urls[static_cast<uint64_t>(*number)] = value.get<std::string>();
    }
    const uint64_t parts = (upload.size + chunk - 1) / chunk;
    if (part_urls.size() != parts || part_urls.rbegin()->first != parts)
      throw RepositoryError(Name(), step,
                            "the Hub's LFS batch answer gives " + std::to_string(part_urls.size()) + " part URLs for " +
                                std::to_string(parts) + " parts of " + std::to_string(chunk) + " bytes");
    std::vector<HttpRequest> requests;
    for (const auto& [number, url] : part_urls) {
      const uint64_t offset = (number - 1) * chunk;
      requests.push_back(put(url, offset, std::min(chunk, upload.size - offset)));
    }
    const std::vector<HttpResponse> responses = http_.Perform(requests);
    Json completion = {{"oid", upload.sha256}, {"parts", Json::array()}};
    for (size_t i = 0; i < responses.size(); ++i) {
      if (!IsSuccess(responses[i].status) || responses[i].etag.empty())
        throw RepositoryError(Name(), step,
                              "the storage refused part " + std::to_string(i + 1) + " of " + std::to_string(parts) +
                                  ": " +
                                  (IsSuccess(responses[i].status) ? std::string("its answer has no ETag")
                                                                  : StorageFailure(responses[i])));
      completion["parts"].push_back({{"partNumber", i + 1}, {"etag", responses[i].etag}});
    }
    // Not sent twice: a completion whose answer was lost is checked through the batch API.
    const HttpResponse completed = Send(LfsPost(href, completion, /*repeatable=*/false));
    if (!IsSuccess(completed.status) && !(IsLost(completed) && LfsObjectStored(request, upload, step)))
      throw RepositoryError(Name(), step,
                            "the storage refused to complete the upload of its " + std::to_string(parts) +
                                " parts: " + StorageFailure(completed));
  }
  if (actions.contains("verify") && actions["verify"].is_object()) {
    const std::string verify = StringOf(actions["verify"], "href");
    if (!verify.empty()) {
      const HttpResponse verified =
          Send(LfsPost(verify, {{"oid", upload.sha256}, {"size", upload.size}}, /*repeatable=*/true));
      if (!IsSuccess(verified.status))
        throw RepositoryError(Name(), step, "the Hub did not verify the upload: " + StorageFailure(verified));
    }
  }
}

std::string HfRepository::CommitBody(const CommitRequest& request, const std::vector<Upload>& uploads,
                                     const std::string& parent) const {
  std::string body =
      Json{{"key", "header"},
           {"value", {{"summary", request.summary}, {"description", request.description}, {"parentCommit", parent}}}}
          .dump() +
      "\n";
  uint64_t regular_bytes = 0;
  for (const Upload& upload : uploads) {
    const FileAddition& addition = *upload.addition;
    Json line;
    if (upload.lfs) {
      line = {{"key", "lfsFile"},
              {"value", {{"path", addition.path}, {"algo", "sha256"}, {"oid", upload.sha256}, {"size", upload.size}}}};
    } else {
      regular_bytes += upload.size;
      if (regular_bytes > kMaxRegularBytes)
        throw RepositoryError(Name(), "commit onto " + request.branch,
                              "its regular (not LFS) files pass the Hub's limit of 1 GiB per commit");
      std::string content;
      if (addition.local_file.empty()) {
        content = Base64(addition.content);
      } else {
        try {
          std::optional<std::string> bytes =
              ReadRegularFile(addition.local_file, kMaxRegularBytes, "the file to commit as " + addition.path);
          if (!bytes || bytes->size() != upload.size)
            throw WorkerError(addition.local_file.string() + " changed while it was committed");
          content = Base64(*bytes);
        } catch (const WorkerError& error) {
          throw RepositoryError(Name(), "commit onto " + request.branch, error.what());
        }
      }
      line = {{"key", "file"},
              {"value", {{"path", addition.path}, {"content", std::move(content)}, {"encoding", "base64"}}}};
    }
    body += line.dump() + "\n";
  }
  for (const std::string& path : request.deletions)
    body += Json{{"key", "deletedFile"}, {"value", {{"path", path}}}}.dump() + "\n";
  return body;
}

std::optional<std::string> HfRepository::ChildOf(const std::string& branch, const std::string& parent,
                                                 const std::string& step, std::string& title) {
  std::string url = ApiUrl("/commits/" + Encode(branch));
  std::optional<std::pair<std::string, std::string>> newer;  // the commit listed before, and its title
  size_t scanned = 0;
  for (size_t page = 0; !url.empty() && page < kMaxListingPages && scanned < kMaxCommitsScanned; ++page) {
    HttpRequest request;
    request.url = url;
    const HttpResponse response = Send(request);
    if (response.status != 200) Fail(response, step, Access::kRead);
    const Json commits = ParseJson(response.body);
    if (!commits.is_array())
      throw RepositoryError(Name(), step, "the Hub's commit listing is not a JSON array" + Said(response));
    for (const Json& commit : commits) {
      const std::string id = StringOf(commit, "id");
      if (id == parent) {
        if (!newer) return std::nullopt;
        title = newer->second;
        return newer->first;
      }
      newer = std::make_pair(id, StringOf(commit, "title"));
      ++scanned;
    }
    url = NextPage(response.Header("link"));
  }
  return std::nullopt;
}

std::optional<std::string> HfRepository::FindLanded(const CommitRequest& request, const std::vector<Upload>& uploads,
                                                    const std::string& parent, const std::string& step) {
  std::string title;
  const std::optional<std::string> child = ChildOf(request.branch, parent, step, title);
  if (!child || title != request.summary) return std::nullopt;
  std::map<std::string, TreeEntry> files;
  for (TreeEntry& entry : Tree(*child, step))
    if (entry.file) files[entry.path] = std::move(entry);
  for (const Upload& upload : uploads) {
    const auto found = files.find(upload.addition->path);
    if (found == files.end()) return std::nullopt;
    if (found->second.oid != upload.git_oid && found->second.lfs_oid != upload.sha256) return std::nullopt;
  }
  for (const std::string& path : request.deletions)
    if (files.contains(path)) return std::nullopt;
  return child;
}

std::string HfRepository::Commit(const CommitRequest& request) {
  const std::string step = "commit onto " + request.branch;
  if (!IsValidRefName(request.branch))
    throw RepositoryError(Name(), step, "\"" + Printable(request.branch) + "\" is not a valid branch name");
  if (request.summary.empty()) throw RepositoryError(Name(), step, "a commit needs a summary");
  if (request.parent_commit && !IsCommitId(*request.parent_commit))
    throw RepositoryError(Name(), step, "the parent \"" + Printable(*request.parent_commit) + "\" is not a commit id");
  std::set<std::string> paths;
  for (const FileAddition& addition : request.additions)
    if (!IsValidRepositoryPath(addition.path) || !paths.insert(addition.path).second)
      throw RepositoryError(Name(), step,
                            "\"" + Printable(addition.path) + "\" is not a valid path, or is named twice");
  for (const std::string& path : request.deletions)
    if (!IsValidRepositoryPath(path) || !paths.insert(path).second)
      throw RepositoryError(Name(), step, "\"" + Printable(path) + "\" is not a valid path, or is named twice");

  std::vector<Upload> uploads = Describe(request, step);
  for (int round = 1;; ++round) {
    const std::string head = uploads.empty() ? BranchHead(request.branch, step) : Preupload(request, uploads, step);
    if (request.parent_commit && head != *request.parent_commit)
      throw StaleParentError(
          Name(), step,
          "the branch is at " + head + ", not at the parent " + *request.parent_commit + " the commit expects");
    UploadLfs(request, uploads, step);
    // Always on a parent: a commit sent again after a lost answer then cannot land twice.
    const std::string parent = request.parent_commit.value_or(head);
    HttpRequest post;
    post.method = "POST";
    post.url = ApiUrl("/commit/" + Encode(request.branch));
    post.body = CommitBody(request, uploads, parent);
    post.content_type = "application/x-ndjson";
    post.repeatable = false;
    bool lost_before = false;
    bool stale = false;
    for (int sent = 1; !stale; ++sent) {
      const HttpResponse response = Send(post);
      if (response.status == 200) {
        const std::string oid = StringOf(ParseJson(response.body), "commitOid");
        if (!IsCommitId(oid)) throw RepositoryError(Name(), step, "the Hub's answer names no commit" + Said(response));
        return oid;
      }
      const bool lost = IsLost(response);
      if (!lost && response.status != 412) Fail(response, step, Access::kWrite);
      if (response.status == 412 && !lost_before) {
        stale = true;
        break;
      }
      // The answer was lost (or a repeat found the branch moved): see whether the commit landed.
      // Once the branch has left the parent, the commit made onto it is settled: this one or another.
      lost_before = true;
      if (BranchHead(request.branch, step) != parent) {
        if (std::optional<std::string> landed = FindLanded(request, uploads, parent, step)) return *landed;
        stale = true;  // another commit landed on the parent: this one cannot any more
      } else if (sent == kMaxSends) {
        throw RepositoryError(Name(), step,
                              "the Hub's answer was lost " + std::to_string(kMaxSends) +
                                  " times and the commit is not on " + request.branch +
                                  "; nothing was committed, run again");
      }
    }
    if (request.parent_commit)
      throw StaleParentError(Name(), step, "another commit landed on the parent " + parent + " first (412)");
    if (round == kMaxCommitRounds)
      throw RepositoryError(Name(), step,
                            "other commits landed on " + request.branch + " " + std::to_string(round) +
                                " times while this one was sent; run again");
  }
}

// ---- Reading -------------------------------------------------------------------------------------

std::vector<HfRepository::TreeEntry> HfRepository::Tree(const std::string& revision, const std::string& step) {
  std::vector<TreeEntry> entries;
  std::string url = ApiUrl("/tree/" + Encode(revision) + "?recursive=true&expand=false");
  for (size_t page = 0; !url.empty(); ++page) {
    if (page == kMaxListingPages)
      throw RepositoryError(Name(), step, "the listing has more than " + std::to_string(kMaxListingPages) + " pages");
    HttpRequest request;
    request.url = url;
    const HttpResponse response = Send(request);
    if (response.status != 200) Fail(response, step, Access::kRead);
    const Json listing = ParseJson(response.body);
    if (!listing.is_array())
      throw RepositoryError(Name(), step, "the Hub's tree listing is not a JSON array" + Said(response));
    for (const Json& item : listing) {
      TreeEntry entry;
      entry.file = StringOf(item, "type") == "file";
      entry.path = StringOf(item, "path");
      entry.oid = StringOf(item, "oid");
      if (item.contains("size") && item["size"].is_number_unsigned()) entry.size = item["size"].get<uint64_t>();
      if (item.contains("lfs")) entry.lfs_oid = StringOf(item["lfs"], "oid");
      if (!entry.path.empty()) entries.push_back(std::move(entry));
    }
    url = NextPage(response.Header("link"));
  }
  return entries;
}

std::vector<RepositoryFile> HfRepository::ListFiles(const std::string& revision) {
  std::vector<RepositoryFile> files;
  for (TreeEntry& entry : Tree(revision, "list the files of " + revision))
    if (entry.file) files.push_back({std::move(entry.path), entry.size, std::move(entry.oid)});
  std::sort(files.begin(), files.end(),
            [](const RepositoryFile& a, const RepositoryFile& b) { return a.path < b.path; });
  return files;
}

std::optional<std::string> HfRepository::ReadFile(const std::string& revision, const std::string& path,
                                                  uint64_t max_bytes) {
  const std::string step = "read " + path + " at " + revision;
  if (!IsValidRepositoryPath(path)) throw RepositoryError(Name(), step, "not a valid path");
  HttpRequest request;
  request.url = GitUrl("/resolve/" + Encode(revision) + "/" + Encode(path, /*keep_slashes=*/true));
  // Room for an error's explanation however small the file's limit.
  request.max_body_bytes = static_cast<size_t>(std::max<uint64_t>(max_bytes, kMaxErrorBodyBytes));
  const HttpResponse response = Send(request);
  if (response.body_too_large || (response.status == 200 && response.body.size() > max_bytes))
    throw RepositoryError(Name(), step, "the file is larger than " + std::to_string(max_bytes) + " bytes");
  if (response.status == 200) return response.body;
  if (response.status == 404 && response.Header("x-error-code") == "EntryNotFound") return std::nullopt;
  Fail(response, step, Access::kRead);
}

bool HfRepository::DownloadFile(const std::string& revision, const std::string& path,
                                const std::filesystem::path& target) {
  const std::string step = "download " + path + " at " + revision;
  if (!IsValidRepositoryPath(path)) throw RepositoryError(Name(), step, "not a valid path");
  const std::filesystem::path temporary = TemporaryPathFor(target);
  HttpRequest request;
  request.url = GitUrl("/resolve/" + Encode(revision) + "/" + Encode(path, /*keep_slashes=*/true));
  request.max_body_bytes = std::numeric_limits<size_t>::max();  // bounded by the request's timeout
  request.response_file = temporary;
  const HttpResponse response = Send(request);
  const auto remove_temporary = [&] {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
  };
  if (response.status == 200) {
    try {
      SyncPath(temporary);
      RenameOver(temporary, target);
    } catch (const WorkerError& error) {
      remove_temporary();
      throw RepositoryError(Name(), step, error.what());
    }
    return true;
  }
  remove_temporary();
  if (response.status == 404 && response.Header("x-error-code") == "EntryNotFound") return false;
  Fail(response, step, Access::kRead);
}

}  // namespace orch
