#include "support/fake_hub_repos.h"

#include <fnmatch.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>

#include "hub/content_hash.h"
#include "support/drop_connection.h"
#include "util/time.h"

namespace orch::testing {
namespace {

using nlohmann::json;

constexpr char kJson[] = "application/json";
constexpr char kLfsJson[] = "application/vnd.git-lfs+json";
// The name FakeHub's whoami-v2 answers: the namespace of a repository created without organization.
constexpr char kUserName[] = "tester";
constexpr size_t kStorageThreads = 16;
constexpr auto kStartDeadline = std::chrono::seconds(5);
constexpr size_t kMaxRepoNameLength = 96;
constexpr char kStaleParent[] = "The branch was updated since you opened this page. Please refresh and try again.";

// The .gitattributes the Hub puts in the first commit of a new repository (its template for
// datasets, as public dataset repositories show it): archives, tensors and media go to LFS.
constexpr char kDefaultGitAttributes[] =
    "*.7z filter=lfs diff=lfs merge=lfs -text\n*.arrow filter=lfs diff=lfs merge=lfs -text\n"
    "*.bin filter=lfs diff=lfs merge=lfs -text\n*.bz2 filter=lfs diff=lfs merge=lfs -text\n"
    "*.ckpt filter=lfs diff=lfs merge=lfs -text\n*.ftz filter=lfs diff=lfs merge=lfs -text\n"
    "*.gz filter=lfs diff=lfs merge=lfs -text\n*.h5 filter=lfs diff=lfs merge=lfs -text\n"
    "*.joblib filter=lfs diff=lfs merge=lfs -text\n*.lfs.* filter=lfs diff=lfs merge=lfs -text\n"
    "*.lz4 filter=lfs diff=lfs merge=lfs -text\n*.mds filter=lfs diff=lfs merge=lfs -text\n"
    "*.mlmodel filter=lfs diff=lfs merge=lfs -text\n*.model filter=lfs diff=lfs merge=lfs -text\n"
    "*.msgpack filter=lfs diff=lfs merge=lfs -text\n*.npy filter=lfs diff=lfs merge=lfs -text\n"
    "*.npz filter=lfs diff=lfs merge=lfs -text\n*.onnx filter=lfs diff=lfs merge=lfs -text\n"
    "*.ot filter=lfs diff=lfs merge=lfs -text\n*.parquet filter=lfs diff=lfs merge=lfs -text\n"
    "*.pb filter=lfs diff=lfs merge=lfs -text\n*.pickle filter=lfs diff=lfs merge=lfs -text\n"
    "*.pkl filter=lfs diff=lfs merge=lfs -text\n*.pt filter=lfs diff=lfs merge=lfs -text\n"
    "*.pth filter=lfs diff=lfs merge=lfs -text\n*.rar filter=lfs diff=lfs merge=lfs -text\n"
    "*.safetensors filter=lfs diff=lfs merge=lfs -text\nsaved_model/**/* filter=lfs diff=lfs merge=lfs -text\n"
    "*.tar.* filter=lfs diff=lfs merge=lfs -text\n*.tar filter=lfs diff=lfs merge=lfs -text\n"
    "*.tflite filter=lfs diff=lfs merge=lfs -text\n*.tgz filter=lfs diff=lfs merge=lfs -text\n"
    "*.wasm filter=lfs diff=lfs merge=lfs -text\n*.xz filter=lfs diff=lfs merge=lfs -text\n"
    "*.zip filter=lfs diff=lfs merge=lfs -text\n*.zst filter=lfs diff=lfs merge=lfs -text\n"
    "*tfevents* filter=lfs diff=lfs merge=lfs -text\n"
    "# Audio files - uncompressed\n*.pcm filter=lfs diff=lfs merge=lfs -text\n"
    "*.sam filter=lfs diff=lfs merge=lfs -text\n*.raw filter=lfs diff=lfs merge=lfs -text\n"
    "# Audio files - compressed\n*.aac filter=lfs diff=lfs merge=lfs -text\n"
    "*.flac filter=lfs diff=lfs merge=lfs -text\n*.mp3 filter=lfs diff=lfs merge=lfs -text\n"
    "*.ogg filter=lfs diff=lfs merge=lfs -text\n*.wav filter=lfs diff=lfs merge=lfs -text\n"
    "# Image files - uncompressed\n*.bmp filter=lfs diff=lfs merge=lfs -text\n"
    "*.gif filter=lfs diff=lfs merge=lfs -text\n*.png filter=lfs diff=lfs merge=lfs -text\n"
    "*.tiff filter=lfs diff=lfs merge=lfs -text\n"
    "# Image files - compressed\n*.jpg filter=lfs diff=lfs merge=lfs -text\n"
    "*.jpeg filter=lfs diff=lfs merge=lfs -text\n*.webp filter=lfs diff=lfs merge=lfs -text\n"
    "# Video files - compressed\n*.mp4 filter=lfs diff=lfs merge=lfs -text\n"
    "*.webm filter=lfs diff=lfs merge=lfs -text\n";

// The Hub's error shape: {"error": message} plus X-Error-Message and, for some, X-Error-Code.
void SetError(httplib::Response& response, int status, const std::string& message, const std::string& code = "") {
  response.status = status;
  response.set_header("X-Error-Message", message);
  if (!code.empty()) response.set_header("X-Error-Code", code);
  response.set_content(json{{"error", message}}.dump(), kJson);
}

void RevisionNotFound(httplib::Response& response, const std::string& rev) {
  SetError(response, 404, "Invalid rev id: " + rev, "RevisionNotFound");
}

// S3's error shape, for the storage origin.
// The code and message S3 sends with `status`, as an injected storage fault answers.
std::pair<std::string, std::string> S3ErrorFor(int status) {
  switch (status) {
    case 400: return {"BadRequest", "An error occurred when parsing the HTTP request."};
    case 401: return {"Unauthorized", "The request is not authorized."};
    case 403: return {"AccessDenied", "Access Denied"};
    case 404: return {"NoSuchUpload", "The specified upload does not exist."};
    case 409: return {"OperationAborted", "A conflicting conditional operation is in progress against this resource."};
    case 412: return {"PreconditionFailed", "At least one of the preconditions you specified did not hold."};
    case 429: return {"SlowDown", "Please reduce your request rate."};
    case 503: return {"SlowDown", "Please reduce your request rate."};
    default: return {"InternalError", "We encountered an internal error. Please try again."};
  }
}

void SetStorageError(httplib::Response& response, int status, const std::string& code, const std::string& message) {
  response.status = status;
  response.set_content("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + code + "</Code><Message>" +
                           message + "</Message></Error>",
                       "application/xml");
}

// httplib applies a request's Range header to whatever body it is given, errors included, whereas
// the Hub and S3 send an error whole. A chunked body is one httplib leaves alone.
void SendWhole(httplib::Response& response) {
  if (response.body.empty()) return;
  auto body = std::make_shared<const std::string>(std::move(response.body));
  response.body.clear();
  std::string type = response.get_header_value("Content-Type");
  response.headers.erase("Content-Type");
  response.set_chunked_content_provider(type, [body](size_t offset, httplib::DataSink& sink) {
    if (offset < body->size() && !sink.write(body->data() + offset, body->size() - offset)) return false;
    sink.done();
    return true;
  });
}

bool IsHex(std::string_view text, size_t min_size, size_t max_size) {
  return text.size() >= min_size && text.size() <= max_size &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = value(c);
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && IsHex(text.substr(i + 1, 2), 2, 2)) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string Join(const std::vector<std::string>& parts, size_t from, std::string_view separator = "/") {
  std::string out;
  for (size_t i = from; i < parts.size(); ++i) {
    if (i > from) out += separator;
    out += parts[i];
  }
  return out;
}

// 2 x `bytes` hex digits (at most 64) from the random device.
std::string RandomHex(size_t bytes) {
  std::random_device device;
  std::string raw;
  for (size_t i = 0; i < 32; ++i) raw += static_cast<char>(device() & 0xff);
  return Sha256Hex(raw).substr(0, 2 * bytes);
}

std::string RepoKey(std::string_view type, const std::string& repo) { return std::string(type) + ":" + repo; }

// "datasets/", "spaces/" or "" (models): how git-style URLs name a repository's type.
std::string UrlPrefix(const std::string& type) { return type == "model" ? "" : type + "s/"; }

bool IsRepoType(std::string_view type) { return type == "model" || type == "dataset" || type == "space"; }

// Repository names as huggingface_hub's validate_repo_id accepts them.
bool IsValidRepoName(const std::string& name) {
  if (name.empty() || name.size() > kMaxRepoNameLength) return false;
  if (name.find("--") != std::string::npos || name.find("..") != std::string::npos) return false;
  if (name.ends_with(".git") || name.front() == '-' || name.front() == '.' || name.back() == '-' ||
      name.back() == '.') {
    return false;
  }
  return std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_' || c == '.'; });
}

// A path in a repository: relative, no empty, "." or ".." component, nothing inside .git.
bool IsValidPath(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.back() == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string_view part(path.data() + start, end - start);
    if (part.empty() || part == "." || part == ".." || part == ".git") return false;
    start = end + 1;
  }
  return true;
}

// A git-style glob against a repository path: a pattern without a slash matches the file name, one
// with a slash the whole path ("**" spans directories).
bool GlobMatches(std::string pattern, const std::string& path) {
  if (pattern.find('/') == std::string::npos) {
    std::string name = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
    return fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
  }
  if (pattern.front() == '/') pattern.erase(0, 1);
  for (size_t at; (at = pattern.find("/**/")) != std::string::npos;) pattern.replace(at, 4, "/*");
  if (pattern.starts_with("**/")) pattern.replace(0, 3, "*");
  return fnmatch(pattern.c_str(), path.c_str(), 0) == 0;  // without FNM_PATHNAME '*' crosses '/'
}

// Whether the `filter=lfs` attribute of a .gitattributes text applies to `path` (later lines win).
bool AttributesSayLfs(const std::string& attributes, const std::string& path) {
  bool lfs = false;
  std::istringstream lines(attributes);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string pattern;
    if (!(fields >> pattern) || pattern.starts_with("#") || pattern.ends_with("/")) continue;
    if (!GlobMatches(pattern, path)) continue;
    for (std::string attribute; fields >> attribute;) {
      if (attribute == "filter=lfs") lfs = true;
      if (attribute == "-filter" || attribute == "!filter" ||
          (attribute.starts_with("filter=") && attribute != "filter=lfs")) {
        lfs = false;
      }
    }
  }
  return lfs;
}

// Whether a .gitignore text ignores `path` (a directory pattern ignores everything under it).
bool IgnoreSays(const std::string& ignore, const std::string& path) {
  bool ignored = false;
  std::istringstream lines(ignore);
  for (std::string line; std::getline(lines, line);) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (line.empty() || line.starts_with("#")) continue;
    bool negate = line.front() == '!';
    if (negate) line.erase(0, 1);
    bool directory = line.ends_with("/");
    if (directory) line.pop_back();
    bool match = false;
    if (directory) {
      for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
        if (GlobMatches(line, path.substr(0, slash))) match = true;
      }
    } else {
      match = GlobMatches(line, path);
    }
    if (match) ignored = !negate;
  }
  return ignored;
}

std::string ContentTypeOf(const std::string& path) {
  if (path.ends_with(".json")) return "application/json";
  for (const char* text : {".md", ".txt", ".jsonl", ".csv", ".tsv", ".yaml", ".yml", ".gitattributes", ".gitignore"}) {
    if (path.ends_with(text)) return "text/plain; charset=utf-8";
  }
  return "application/octet-stream";
}

// If-None-Match holds `etag` (weak comparison, or "*").
bool EtagListMatches(const std::string& header, const std::string& etag) {
  std::istringstream items(header);
  for (std::string item; std::getline(items, item, ',');) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (item.starts_with("W/")) item.erase(0, 2);
    if (item == "*" || item == etag) return true;
  }
  return false;
}

std::string QueryOf(const std::string& target) {
  size_t question = target.find('?');
  return question == std::string::npos ? "" : target.substr(question + 1);
}

std::string PathOf(const std::string& target) { return target.substr(0, target.find('?')); }

// `query` without its parameter `name`.
std::string WithoutParameter(const std::string& query, const std::string& name) {
  std::string out;
  std::istringstream items(query);
  for (std::string item; std::getline(items, item, '&');) {
    if (item.empty() || item == name || item.starts_with(name + "=")) continue;
    if (!out.empty()) out += '&';
    out += item;
  }
  return out;
}

bool ParameterIsTrue(const httplib::Request& request, const std::string& name) {
  std::string value = request.get_param_value(name.c_str());
  return value == "1" || value == "true" || value == "True";
}

}  // namespace

struct FakeHubRepos::FileEntry {
  std::string content;
  bool lfs = false;
  std::string oid;
  std::string sha256;
  size_t pointer_size = 0;
};

struct FakeHubRepos::CommitEntry {
  std::string oid, parent, title, description, date;
  Files files;
};

struct FakeHubRepos::Repo {
  std::string type, id, mongo_id, created_at;
  bool is_private = false;
  std::map<std::string, CommitEntry> commits;  // by OID
  std::map<std::string, std::string> branches, tags;
  std::map<std::string, std::shared_ptr<const std::string>> lfs;  // uploaded objects, by sha256
};

struct FakeHubRepos::PendingUpload {
  std::string repo_key, sha256;
  size_t size = 0;
  size_t chunk_size = 0;  // 0: a single PUT
  size_t part_count = 0;
  std::map<size_t, std::string> parts, etags;
};

// A request target taken apart. Paths are read from the raw target, so that an encoded revision
// (refs%2Fpr%2F1) stays one segment.
struct FakeHubRepos::Parsed {
  enum class Kind {
    kNone,
    kCreate,
    kDelete,
    kInfo,
    kPreupload,
    kCommit,
    kTag,
    kBranch,
    kRefs,
    kTree,
    kCommits,
    kResolve,
    kRaw,
    kBatch
  };
  Kind kind = Kind::kNone;
  std::string type, repo, rev, path;
  bool has_rev = false;
};

namespace {

std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> segments;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    segments.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

// The revision starting at segments[at], and the index after it. A client that does not encode the
// revision (listFiles of huggingface.js) sends refs/pr/1 as three segments.
std::pair<std::string, size_t> RevisionAt(const std::vector<std::string>& segments, size_t at) {
  std::string first = PercentDecode(segments[at]);
  if (first == "refs" && at + 2 < segments.size()) {
    return {first + "/" + PercentDecode(segments[at + 1]) + "/" + PercentDecode(segments[at + 2]), at + 3};
  }
  return {first, at + 1};
}

std::string DecodedPath(const std::vector<std::string>& segments, size_t from) {
  std::vector<std::string> decoded;
  for (size_t i = from; i < segments.size(); ++i) decoded.push_back(PercentDecode(segments[i]));
  return Join(decoded, 0);
}

}  // namespace

FakeHubRepos::Parsed FakeHubRepos::ParseTarget(const std::string& target) {
  Parsed parsed;
  std::vector<std::string> s = Segments(PathOf(target));
  using Kind = Parsed::Kind;
  if (s.size() == 3 && s[0] == "api" && s[1] == "repos") {
    if (s[2] == "create") parsed.kind = Kind::kCreate;
    if (s[2] == "delete") parsed.kind = Kind::kDelete;
    return parsed;
  }
  if (s.size() >= 4 && s[0] == "api" && s[1].ends_with("s") && IsRepoType(s[1].substr(0, s[1].size() - 1))) {
    parsed.type = s[1].substr(0, s[1].size() - 1);
    parsed.repo = PercentDecode(s[2]) + "/" + PercentDecode(s[3]);
    if (s.size() == 4) {
      parsed.kind = Kind::kInfo;
      return parsed;
    }
    const std::string& action = s[4];
    if (action == "refs" && s.size() == 5) {
      parsed.kind = Kind::kRefs;
      return parsed;
    }
    if (s.size() < 6 || s[5].empty()) return parsed;
    static const std::map<std::string, Kind> kActions = {
        {"revision", Kind::kInfo}, {"preupload", Kind::kPreupload}, {"commit", Kind::kCommit},  {"tag", Kind::kTag},
        {"branch", Kind::kBranch}, {"tree", Kind::kTree},           {"commits", Kind::kCommits}};
    auto found = kActions.find(action);
    if (found == kActions.end()) return parsed;
    parsed.kind = found->second;
    parsed.has_rev = true;
    if (parsed.kind == Kind::kTree) {
      auto [rev, next] = RevisionAt(s, 5);
      parsed.rev = rev;
      parsed.path = DecodedPath(s, next);
    } else {
      parsed.rev = DecodedPath(s, 5);
    }
    return parsed;
  }
  // Git-style URLs: {prefix}{namespace}/{name}/resolve/{rev}/{path} and {prefix}{repo}.git/info/lfs/...
  size_t at = 0;
  std::string type = "model";
  if (!s.empty() && (s[0] == "datasets" || s[0] == "spaces")) {
    type = s[0].substr(0, s[0].size() - 1);
    at = 1;
  }
  if (s.size() < at + 3 || s[at] == "api") return parsed;
  parsed.type = type;
  std::string name = PercentDecode(s[at + 1]);
  if (name.ends_with(".git") && s.size() == at + 6 && Join(s, at + 2) == "info/lfs/objects/batch") {
    parsed.kind = Kind::kBatch;
    parsed.repo = PercentDecode(s[at]) + "/" + name.substr(0, name.size() - 4);
    return parsed;
  }
  if ((s[at + 2] == "resolve" || s[at + 2] == "raw") && s.size() >= at + 5) {
    parsed.kind = s[at + 2] == "resolve" ? Kind::kResolve : Kind::kRaw;
    parsed.repo = PercentDecode(s[at]) + "/" + name;
    auto [rev, next] = RevisionAt(s, at + 3);
    parsed.rev = rev;
    parsed.has_rev = true;
    parsed.path = DecodedPath(s, next);
  }
  return parsed;
}

FakeHubRepos::FakeHubRepos(std::string hub_host, std::optional<TestTls> tls)
    : hub_host_(std::move(hub_host)), tls_(std::move(tls)), secret_(RandomHex(16)) {}

FakeHubRepos::~FakeHubRepos() {
  if (storage_) {
    storage_->stop();
    storage_thread_.join();
  }
}

std::string FakeHubRepos::LfsPointer(const std::string& sha256, size_t size) {
  return "version https://git-lfs.github.com/spec/v1\noid sha256:" + sha256 + "\nsize " + std::to_string(size) + "\n";
}

// ---- Setup and the C++ view ----------------------------------------------------------------------

void FakeHubRepos::CreateRepo(std::string_view type, const std::string& repo, bool is_private) {
  std::lock_guard lock(mutex_);
  if (!IsRepoType(type)) throw std::invalid_argument("unknown repository type " + std::string(type));
  if (FindRepo(type, repo)) throw std::invalid_argument("repository " + repo + " exists");
  NewRepo(type, repo, is_private, {});
}

std::string FakeHubRepos::CommitFiles(std::string_view type, const std::string& repo_id, const std::string& branch,
                                      const std::map<std::string, std::string>& files, const std::string& summary) {
  std::lock_guard lock(mutex_);
  Repo& repo = Require(type, repo_id);
  auto head = repo.branches.find(branch);
  if (head == repo.branches.end()) throw std::runtime_error("no branch " + branch + " in " + repo_id);
  Files next = repo.commits.at(head->second).files;
  for (const auto& [path, content] : files) {
    if (!IsValidPath(path)) throw std::invalid_argument("invalid path " + path);
    // Zero-byte files are always regular: the clients never send them to LFS.
    bool lfs = !content.empty() && WantsLfs(repo, head->second, path, content.size(),
                                            std::string_view(content).substr(0, 512), std::nullopt);
    if (lfs) repo.lfs[Sha256Hex(content)] = std::make_shared<const std::string>(content);
    next[path] = MakeFile(content, lfs);
  }
  std::string oid = AddCommit(repo, head->second, std::move(next), summary, "");
  repo.branches[branch] = oid;
  return oid;
}

void FakeHubRepos::SetTreePageSize(size_t entries) {
  std::lock_guard lock(mutex_);
  tree_page_size_ = std::max<size_t>(entries, 1);
}

void FakeHubRepos::SetMultipartUpload(size_t threshold, size_t chunk_size) {
  std::lock_guard lock(mutex_);
  multipart_threshold_ = threshold;
  chunk_size_ = std::max<size_t>(chunk_size, 1);
}

bool FakeHubRepos::HasRepo(std::string_view type, const std::string& repo) const {
  std::lock_guard lock(mutex_);
  return FindRepo(type, repo) != nullptr;
}

bool FakeHubRepos::IsPrivate(std::string_view type, const std::string& repo_id) const {
  std::lock_guard lock(mutex_);
  const Repo* repo = FindRepo(type, repo_id);
  if (repo == nullptr) throw std::runtime_error("no " + std::string(type) + " repository " + repo_id);
  return repo->is_private;
}

std::optional<FakeHubRepos::File> FakeHubRepos::FileAt(std::string_view type, const std::string& repo_id,
                                                       const std::string& rev, const std::string& path) const {
  std::lock_guard lock(mutex_);
  const Repo* repo = FindRepo(type, repo_id);
  if (!repo) return std::nullopt;
  auto oid = ResolveRev(*repo, rev);
  if (!oid) return std::nullopt;
  const Files& files = repo->commits.at(*oid).files;
  auto found = files.find(path);
  if (found == files.end()) return std::nullopt;
  const FileEntry& entry = *found->second;
  return File{path, entry.content, entry.lfs, entry.oid, entry.sha256};
}

std::vector<std::string> FakeHubRepos::PathsAt(std::string_view type, const std::string& repo_id,
                                               const std::string& rev) const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> paths;
  const Repo* repo = FindRepo(type, repo_id);
  if (!repo) return paths;
  auto oid = ResolveRev(*repo, rev);
  if (!oid) return paths;
  for (const auto& [path, entry] : repo->commits.at(*oid).files) paths.push_back(path);
  return paths;
}

std::vector<FakeHubRepos::Commit> FakeHubRepos::Commits(std::string_view type, const std::string& repo_id,
                                                        const std::string& rev) const {
  std::lock_guard lock(mutex_);
  std::vector<Commit> history;
  const Repo* repo = FindRepo(type, repo_id);
  if (!repo) return history;
  auto oid = ResolveRev(*repo, rev);
  for (std::string at = oid.value_or(""); !at.empty();) {
    const CommitEntry& entry = repo->commits.at(at);
    Commit commit{entry.oid, entry.parent, entry.title, entry.description, {}};
    for (const auto& [path, file] : entry.files) commit.paths.push_back(path);
    history.push_back(std::move(commit));
    at = entry.parent;
  }
  return history;
}

std::map<std::string, std::string> FakeHubRepos::Tags(std::string_view type, const std::string& repo_id) const {
  std::lock_guard lock(mutex_);
  const Repo* repo = FindRepo(type, repo_id);
  return repo ? repo->tags : std::map<std::string, std::string>{};
}

std::map<std::string, std::string> FakeHubRepos::Branches(std::string_view type, const std::string& repo_id) const {
  std::lock_guard lock(mutex_);
  const Repo* repo = FindRepo(type, repo_id);
  return repo ? repo->branches : std::map<std::string, std::string>{};
}

bool FakeHubRepos::HasLfsObject(std::string_view type, const std::string& repo_id, const std::string& sha256) const {
  std::lock_guard lock(mutex_);
  const Repo* repo = FindRepo(type, repo_id);
  return repo && repo->lfs.contains(sha256);
}

void FakeHubRepos::InjectStorageFault(StorageFault fault) {
  std::lock_guard lock(mutex_);
  storage_faults_.push_back(std::move(fault));
}

void FakeHubRepos::ClearStorageFaults() {
  std::lock_guard lock(mutex_);
  storage_faults_.clear();
}

std::string FakeHubRepos::StorageOrigin() {
  std::lock_guard lock(mutex_);
  return StorageOriginLocked();
}

std::vector<FakeHubRepos::StorageCall> FakeHubRepos::StorageCalls() const {
  std::lock_guard lock(mutex_);
  return storage_calls_;
}

// ---- Repository state ----------------------------------------------------------------------------

FakeHubRepos::Repo* FakeHubRepos::FindRepo(std::string_view type, const std::string& repo) {
  auto found = repos_.find(RepoKey(type, repo));
  return found == repos_.end() ? nullptr : found->second.get();
}

const FakeHubRepos::Repo* FakeHubRepos::FindRepo(std::string_view type, const std::string& repo) const {
  auto found = repos_.find(RepoKey(type, repo));
  return found == repos_.end() ? nullptr : found->second.get();
}

FakeHubRepos::Repo& FakeHubRepos::Require(std::string_view type, const std::string& repo) {
  Repo* found = FindRepo(type, repo);
  if (!found) throw std::runtime_error("no " + std::string(type) + " repository " + repo);
  return *found;
}

FakeHubRepos::Repo& FakeHubRepos::NewRepo(std::string_view type, const std::string& id, bool is_private,
                                          const Files& initial_files) {
  auto repo = std::make_unique<Repo>();
  repo->type = type;
  repo->id = id;
  repo->mongo_id = Sha256Hex(RepoKey(type, id) + std::to_string(++sequence_)).substr(0, 24);
  repo->created_at = FormatTimestamp(std::chrono::system_clock::now());
  repo->is_private = is_private;
  Files files = initial_files;
  if (!files.contains(".gitattributes")) files[".gitattributes"] = MakeFile(kDefaultGitAttributes, false);
  repo->branches["main"] = AddCommit(*repo, "", std::move(files), "initial commit", "");
  Repo& stored = *repo;
  repos_[RepoKey(type, id)] = std::move(repo);
  return stored;
}

std::optional<std::string> FakeHubRepos::ResolveRev(const Repo& repo, const std::string& rev) const {
  auto lookup = [](const std::map<std::string, std::string>& refs,
                   const std::string& name) -> std::optional<std::string> {
    auto found = refs.find(name);
    if (found == refs.end()) return std::nullopt;
    return found->second;
  };
  if (rev == "HEAD") return lookup(repo.branches, "main");  // what huggingface.js asks repo info for
  if (rev.starts_with("refs/heads/")) return lookup(repo.branches, rev.substr(11));
  if (rev.starts_with("refs/tags/")) return lookup(repo.tags, rev.substr(10));
  if (auto branch = lookup(repo.branches, rev)) return branch;
  if (auto tag = lookup(repo.tags, rev)) return tag;
  if (IsHex(rev, 40, 40) && repo.commits.contains(Lower(rev))) return Lower(rev);
  return std::nullopt;
}

std::string FakeHubRepos::AddCommit(Repo& repo, const std::string& parent, Files files, const std::string& title,
                                    const std::string& description) {
  // Not git's own commit hash, but 40 hex digits that change with anything the commit holds.
  std::string text = RepoKey(repo.type, repo.id) + "\n" + parent + "\n" + title + "\n" + std::to_string(++sequence_);
  for (const auto& [path, file] : files) text += "\n" + path + " " + file->oid;
  std::string oid = Sha1Hex(text);
  repo.commits[oid] =
      CommitEntry{oid, parent, title, description, FormatTimestamp(std::chrono::system_clock::now()), std::move(files)};
  return oid;
}

std::shared_ptr<const FakeHubRepos::FileEntry> FakeHubRepos::MakeFile(std::string content, bool lfs) {
  auto entry = std::make_shared<FileEntry>();
  entry->lfs = lfs;
  if (lfs) {
    entry->sha256 = Sha256Hex(content);
    std::string pointer = LfsPointer(entry->sha256, content.size());
    entry->pointer_size = pointer.size();
    entry->oid = GitBlobId(pointer);
  } else {
    entry->oid = GitBlobId(content);
  }
  entry->content = std::move(content);
  return entry;
}

// The upload mode the Hub gives a file. The server's rule is not visible from its clients; the fake
// takes the three reasons that public documentation gives: size (files above 10 MiB must use LFS),
// binary content (git's own test: a NUL byte, here among the 512-byte sample the clients send), and
// the `filter=lfs` patterns of .gitattributes (the request's gitAttributes when the commit changes
// the file, as huggingface.js sends it; otherwise the file at the revision).
bool FakeHubRepos::WantsLfs(const Repo& repo, const std::string& head, const std::string& path, size_t size,
                            std::string_view sample, const std::optional<std::string>& git_attributes) const {
  if (size > kLfsThreshold) return true;
  if (sample.find('\0') != std::string_view::npos) return true;
  std::string attributes;
  if (git_attributes) {
    attributes = *git_attributes;
  } else {
    const Files& files = repo.commits.at(head).files;
    auto found = files.find(".gitattributes");
    if (found != files.end() && !found->second->lfs) attributes = found->second->content;
  }
  return AttributesSayLfs(attributes, path);
}

// ---- The Hub's endpoints -------------------------------------------------------------------------

bool FakeHubRepos::Route(const httplib::Request& request, httplib::Response& response, bool metadata_may_answer) {
  Parsed target = ParseTarget(request.target);
  using Kind = Parsed::Kind;
  const std::string& method = request.method;
  bool read = method == "GET" || method == "HEAD";
  bool allowed = false;
  switch (target.kind) {
    case Kind::kNone: return false;
    case Kind::kCreate: allowed = method == "POST"; break;
    case Kind::kDelete: allowed = method == "DELETE"; break;
    case Kind::kInfo:
    case Kind::kRefs:
    case Kind::kTree:
    case Kind::kCommits:
    case Kind::kResolve:
    case Kind::kRaw: allowed = read; break;
    case Kind::kPreupload:
    case Kind::kCommit:
    case Kind::kBatch: allowed = method == "POST"; break;
    case Kind::kTag:
    case Kind::kBranch: allowed = method == "POST" || method == "DELETE"; break;
  }
  if (!allowed) return false;
  std::lock_guard lock(mutex_);
  std::string base = (tls_ ? "https://" : "http://") + request.get_header_value("Host");
  if (target.kind == Kind::kCreate) {
    CreateRepoRequest(request, response, base);
    return true;
  }
  if (target.kind == Kind::kDelete) {
    DeleteRepoRequest(request, response);
    return true;
  }
  Repo* repo = FindRepo(target.type, target.repo);
  if (!repo) {
    if ((target.kind == Kind::kResolve || target.kind == Kind::kRaw) && metadata_may_answer) return false;
    SetError(response, 404, "Repository not found", "RepoNotFound");
    if (request.has_header("Range")) SendWhole(response);
    return true;
  }
  switch (target.kind) {
    case Kind::kInfo: RepoInfo(target, *repo, request, response); break;
    case Kind::kPreupload: Preupload(target, *repo, request, response); break;
    case Kind::kCommit: CommitRequest(target, *repo, request, response, base); break;
    case Kind::kTag: TagRequest(target, *repo, request, response); break;
    case Kind::kBranch: BranchRequest(target, *repo, request, response); break;
    case Kind::kRefs: Refs(*repo, request, response); break;
    case Kind::kTree: Tree(target, *repo, request, response, base); break;
    case Kind::kCommits: CommitList(target, *repo, request, response, base); break;
    case Kind::kResolve: Resolve(target, *repo, request, response, false); break;
    case Kind::kRaw: Resolve(target, *repo, request, response, true); break;
    case Kind::kBatch: LfsBatch(*repo, request, response); break;
    default: break;
  }
  if (response.status >= 300 && request.has_header("Range")) SendWhole(response);
  return true;
}

void FakeHubRepos::CreateRepoRequest(const httplib::Request& request, httplib::Response& response,
                                     const std::string& base) {
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object()) return SetError(response, 400, "The request body must be a JSON object");
  if (!body.contains("name") || !body["name"].is_string()) return SetError(response, 400, "\"name\" is required");
  std::string name = body["name"];
  std::string organization = kUserName;
  if (body.contains("organization") && !body["organization"].is_null()) {
    if (!body["organization"].is_string()) return SetError(response, 400, "\"organization\" must be a string");
    organization = body["organization"];
  }
  if (!IsValidRepoName(name) || !IsValidRepoName(organization)) {
    return SetError(response, 400, "Invalid repo name: " + organization + "/" + name);
  }
  std::string type = "model";  // huggingface_hub omits "type" for models
  if (body.contains("type")) {
    if (!body["type"].is_string() || !IsRepoType(body["type"].get<std::string>())) {
      return SetError(response, 400, "\"type\" must be one of model, dataset, space");
    }
    type = body["type"];
  }
  if (type == "space") {
    static const std::set<std::string> kSdks = {"gradio", "streamlit", "docker", "static"};
    if (!body.contains("sdk") || !body["sdk"].is_string() || !kSdks.contains(body["sdk"].get<std::string>())) {
      return SetError(response, 400, "\"sdk\" must be one of gradio, streamlit, docker, static for a space");
    }
  }
  bool is_private = false;
  if (body.contains("visibility") && !body["visibility"].is_null()) {
    std::string visibility = body["visibility"].is_string() ? body["visibility"].get<std::string>() : "";
    if (visibility != "public" && visibility != "private" && !(visibility == "protected" && type == "space")) {
      return SetError(response, 400, "\"visibility\" must be public or private (or protected for a space)");
    }
    is_private = visibility != "public";
  } else if (body.contains("private") && body["private"].is_boolean()) {
    is_private = body["private"];  // older clients
  }
  std::string id = organization + "/" + name;
  std::string url = base + "/" + UrlPrefix(type) + id;
  if (FindRepo(type, id)) {
    std::string message = "You already created this " + type + " repo";
    SetError(response, 409, message);
    return response.set_content(json{{"error", message}, {"url", url}}.dump(), kJson);
  }
  // huggingface.js may send small files to put in the first commit.
  Files files;
  if (body.contains("files") && body["files"].is_array()) {
    for (const json& file : body["files"]) {
      if (!file.is_object() || !file.contains("path") || !file["path"].is_string() || !file.contains("content") ||
          !file["content"].is_string() || !IsValidPath(file["path"])) {
        return SetError(response, 400, "Each of \"files\" needs a valid path and a base64 content");
      }
      auto content = Base64Decode(file["content"].get<std::string>());
      if (!content)
        return SetError(response, 400, "The content of " + file["path"].get<std::string>() + " is not base64");
      files[file["path"].get<std::string>()] = MakeFile(*content, false);
    }
  }
  const Repo& repo = NewRepo(type, id, is_private, files);
  response.set_content(json{{"url", url}, {"name", id}, {"id", repo.mongo_id}}.dump(), kJson);
}

void FakeHubRepos::DeleteRepoRequest(const httplib::Request& request, httplib::Response& response) {
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body.contains("name") || !body["name"].is_string()) {
    return SetError(response, 400, "\"name\" is required");
  }
  std::string organization = body.contains("organization") && body["organization"].is_string()
                                 ? body["organization"].get<std::string>()
                                 : kUserName;
  std::string type = body.contains("type") && body["type"].is_string() ? body["type"].get<std::string>() : "model";
  auto found = repos_.find(RepoKey(type, organization + "/" + body["name"].get<std::string>()));
  if (found == repos_.end()) return SetError(response, 404, "Repository not found", "RepoNotFound");
  repos_.erase(found);
}

void FakeHubRepos::RepoInfo(const Parsed& target, Repo& repo, const httplib::Request& request,
                            httplib::Response& response) {
  std::string rev = target.has_rev ? target.rev : "main";
  auto oid = ResolveRev(repo, rev);
  if (!oid) return RevisionNotFound(response, rev);
  const CommitEntry& commit = repo.commits.at(*oid);
  bool blobs = ParameterIsTrue(request, "blobs");
  json siblings = json::array();
  for (const auto& [path, file] : commit.files) {
    json sibling = {{"rfilename", path}};
    if (blobs) {
      sibling["blobId"] = file->oid;
      sibling["size"] = file->content.size();
      // Here the LFS key is "sha256"; the tree listing calls it "oid".
      if (file->lfs) {
        sibling["lfs"] = {
            {"size", file->content.size()}, {"sha256", file->sha256}, {"pointerSize", file->pointer_size}};
      }
    }
    siblings.push_back(std::move(sibling));
  }
  json info = {{"_id", repo.mongo_id},
               {"id", repo.id},
               {"author", repo.id.substr(0, repo.id.find('/'))},
               {"sha", *oid},
               {"private", repo.is_private},
               {"gated", false},
               {"disabled", false},
               {"lastModified", commit.date},
               {"createdAt", repo.created_at},
               {"downloads", 0},
               {"likes", 0},
               {"tags", json::array()},
               {"siblings", std::move(siblings)}};
  if (repo.type == "model") info["modelId"] = repo.id;
  response.set_content(info.dump(), kJson);
}

void FakeHubRepos::Preupload(const Parsed& target, Repo& repo, const httplib::Request& request,
                             httplib::Response& response) {
  if (ParameterIsTrue(request, "create_pr")) return SetError(response, 501, "The fake Hub does not open pull requests");
  auto head = repo.branches.find(target.rev.starts_with("refs/heads/") ? target.rev.substr(11) : target.rev);
  if (head == repo.branches.end()) return RevisionNotFound(response, target.rev);
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body.contains("files") || !body["files"].is_array()) {
    return SetError(response, 400, "The request body must be {\"files\": [{path, size, sample}]}");
  }
  std::optional<std::string> attributes;
  if (body.contains("gitAttributes") && body["gitAttributes"].is_string()) attributes = body["gitAttributes"];
  const Files& files = repo.commits.at(head->second).files;
  std::string ignore;
  if (body.contains("gitIgnore") && body["gitIgnore"].is_string()) {
    ignore = body["gitIgnore"];
  } else if (auto found = files.find(".gitignore"); found != files.end()) {
    ignore = found->second->content;
  }
  json answers = json::array();
  for (const json& file : body["files"]) {
    if (!file.is_object() || !file.contains("path") || !file["path"].is_string() || !file.contains("size") ||
        !file["size"].is_number_unsigned()) {
      return SetError(response, 400, "Each file needs a \"path\" and a \"size\"");
    }
    std::string path = file["path"];
    if (!IsValidPath(path)) return SetError(response, 400, "Invalid path: " + path);
    std::string sample;
    if (file.contains("sample")) {
      auto decoded = file["sample"].is_string() ? Base64Decode(file["sample"].get<std::string>()) : std::nullopt;
      if (!decoded) return SetError(response, 400, "The sample of " + path + " is not base64");
      sample = *decoded;
    }
    bool lfs = WantsLfs(repo, head->second, path, file["size"].get<size_t>(), sample, attributes);
    json answer = {{"path", path}, {"uploadMode", lfs ? "lfs" : "regular"}, {"shouldIgnore", IgnoreSays(ignore, path)}};
    // The file's current identity, which clients compare with theirs to skip unchanged files: the
    // git blob sha1 of a regular file, the sha256 of an LFS file (what huggingface_hub compares).
    if (auto existing = files.find(path); existing != files.end()) {
      answer["oid"] = existing->second->lfs ? existing->second->sha256 : existing->second->oid;
    }
    answers.push_back(std::move(answer));
  }
  response.set_content(json{{"files", std::move(answers)}, {"commitOid", head->second}}.dump(), kJson);
}

void FakeHubRepos::CommitRequest(const Parsed& target, Repo& repo, const httplib::Request& request,
                                 httplib::Response& response, const std::string& base) {
  if (ParameterIsTrue(request, "create_pr")) return SetError(response, 501, "The fake Hub does not open pull requests");
  std::string branch = target.rev.starts_with("refs/heads/") ? target.rev.substr(11) : target.rev;
  auto head = repo.branches.find(branch);
  if (head == repo.branches.end()) return RevisionNotFound(response, target.rev);
  std::vector<json> lines;
  std::istringstream body(request.body);
  for (std::string line; std::getline(body, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    json parsed = json::parse(line, nullptr, false);
    if (!parsed.is_object() || !parsed.contains("key") || !parsed["key"].is_string() || !parsed.contains("value") ||
        !parsed["value"].is_object()) {
      return SetError(response, 400, "Line " + std::to_string(lines.size() + 1) + " is not {\"key\", \"value\"} JSON");
    }
    lines.push_back(std::move(parsed));
  }
  if (lines.empty() || lines.front()["key"] != "header") {
    return SetError(response, 400, "The first line of a commit must be its header");
  }
  const json& header = lines.front()["value"];
  if (!header.contains("summary") || !header["summary"].is_string() || header["summary"].get<std::string>().empty()) {
    return SetError(response, 400, "The commit's summary must not be empty");
  }
  if (header.contains("parentCommit") && !header["parentCommit"].is_null()) {
    std::string parent = header["parentCommit"].is_string() ? header["parentCommit"].get<std::string>() : "";
    if (!IsHex(parent, 5, 40)) return SetError(response, 400, "Invalid parentCommit: " + parent);
    if (!head->second.starts_with(Lower(parent))) return SetError(response, 412, kStaleParent);
  }
  std::string description = header.contains("description") && header["description"].is_string()
                                ? header["description"].get<std::string>()
                                : "";

  Files files = repo.commits.at(head->second).files;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string key = lines[i]["key"];
    const json& value = lines[i]["value"];
    if (!value.contains("path") || !value["path"].is_string()) {
      return SetError(response, 400, "Line " + std::to_string(i + 1) + " has no path");
    }
    std::string path = value["path"];
    if (key == "deletedFolder") {
      while (path.ends_with("/")) path.pop_back();
      std::erase_if(files, [&](const auto& entry) { return entry.first.starts_with(path + "/"); });
      continue;
    }
    if (!IsValidPath(path)) return SetError(response, 400, "Invalid path: " + path);
    if (key == "deletedFile") {
      if (files.erase(path) == 0)
        return SetError(response, 404, "A file with this name doesn't exist", "EntryNotFound");
    } else if (key == "file") {
      std::string encoding =
          value.contains("encoding") && value["encoding"].is_string() ? value["encoding"].get<std::string>() : "base64";
      if (!value.contains("content") || !value["content"].is_string()) {
        return SetError(response, 400, "The file " + path + " has no content");
      }
      std::optional<std::string> content = value["content"].get<std::string>();
      if (encoding == "base64") content = Base64Decode(*content);
      if (!content || (encoding != "base64" && encoding != "utf-8")) {
        return SetError(response, 400, "The content of " + path + " is not valid " + encoding);
      }
      files[path] = MakeFile(std::move(*content), false);
    } else if (key == "lfsFile") {
      std::string oid = value.contains("oid") && value["oid"].is_string() ? value["oid"].get<std::string>() : "";
      if (value.contains("algo") && value["algo"] != "sha256") {
        return SetError(response, 400, "The LFS file " + path + " must use algo sha256");
      }
      if (!IsHex(oid, 64, 64)) return SetError(response, 400, "The LFS file " + path + " needs a sha256 oid");
      // The chosen answer to a commit that names an object never uploaded: 400, nothing committed.
      auto object = repo.lfs.find(Lower(oid));
      if (object == repo.lfs.end()) {
        return SetError(response, 400,
                        "The LFS object " + oid + " of " + path +
                            " was never uploaded: upload it through the LFS batch API before committing");
      }
      if (value.contains("size") && (!value["size"].is_number_unsigned() || value["size"] != object->second->size())) {
        return SetError(response, 400, "The size given for " + path + " is not the size of its LFS object");
      }
      files[path] = MakeFile(*object->second, true);
    } else {
      return SetError(response, 400, "Unknown commit operation \"" + key + "\"");
    }
    if (value.contains("oldPath") && value["oldPath"].is_string() && value["oldPath"] != path) {
      if (files.erase(value["oldPath"].get<std::string>()) == 0) {
        return SetError(response, 404, "A file with this name doesn't exist", "EntryNotFound");
      }
    }
  }
  // git cannot hold a file where another file needs a directory.
  for (const auto& [path, file] : files) {
    for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
      if (files.contains(path.substr(0, slash))) {
        return SetError(response, 400, "The path " + path + " conflicts with the file " + path.substr(0, slash));
      }
    }
  }
  std::string oid = AddCommit(repo, head->second, std::move(files), header["summary"].get<std::string>(), description);
  head->second = oid;
  json answer = {{"success", true},
                 {"commitOid", oid},
                 {"commitUrl", base + "/" + UrlPrefix(repo.type) + repo.id + "/commit/" + oid},
                 {"hookOutput", ""}};
  response.set_content(answer.dump(), kJson);
}

void FakeHubRepos::TagRequest(const Parsed& target, Repo& repo, const httplib::Request& request,
                              httplib::Response& response) {
  if (request.method == "DELETE") {
    const std::string& tag = target.rev;
    if (repo.tags.erase(tag) > 0) return;
    // As the Hub answers an attempt to delete `main` as a tag.
    if (repo.branches.contains(tag)) return SetError(response, 500, "Internal Error");
    return RevisionNotFound(response, tag);
  }
  auto oid = ResolveRev(repo, target.rev);
  if (!oid) return RevisionNotFound(response, target.rev);
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body.contains("tag") || !body["tag"].is_string()) {
    return SetError(response, 400, "The request body must be {\"tag\": name}");
  }
  std::string tag = body["tag"];
  if (tag.empty() || tag.starts_with("refs/") || tag.find_first_of(" \t\n~^:?*[\\") != std::string::npos) {
    return SetError(response, 400, "Invalid tag name: " + tag);
  }
  if (repo.tags.contains(tag)) return SetError(response, 409, "Reference refs/tags/" + tag + " already exists");
  repo.tags[tag] = *oid;
  response.set_content(json{{"name", tag}, {"ref", "refs/tags/" + tag}, {"targetCommit", *oid}}.dump(), kJson);
}

void FakeHubRepos::BranchRequest(const Parsed& target, Repo& repo, const httplib::Request& request,
                                 httplib::Response& response) {
  const std::string& branch = target.rev;
  if (request.method == "DELETE") {
    if (branch == "main") return SetError(response, 403, "Cannot delete refs/heads/main");
    if (repo.branches.erase(branch) == 0) return RevisionNotFound(response, branch);
    return;
  }
  if (branch.starts_with("refs/") || branch.find_first_of(" \t\n~^:?*[\\") != std::string::npos) {
    return SetError(response, 400, "Invalid reference for a branch: " + branch);
  }
  json body = request.body.empty() ? json::object() : json::parse(request.body, nullptr, false);
  if (!body.is_object()) return SetError(response, 400, "The request body must be a JSON object");
  bool overwrite = body.contains("overwrite") && body["overwrite"] == true;
  bool empty = body.contains("emptyBranch") && body["emptyBranch"] == true;
  bool has_start = body.contains("startingPoint") && body["startingPoint"].is_string();
  if (repo.branches.contains(branch)) {
    if (!overwrite) return SetError(response, 409, "Reference refs/heads/" + branch + " already exists");
    if (!has_start && !empty) return;  // overwriting with nothing named: a no-op
  }
  std::string start = has_start ? body["startingPoint"].get<std::string>() : "main";
  if (empty) {
    repo.branches[branch] = AddCommit(repo, "", {}, "Empty branch", "");
    return;
  }
  auto oid = ResolveRev(repo, start);
  if (!oid) return RevisionNotFound(response, start);
  repo.branches[branch] = *oid;
}

void FakeHubRepos::Refs(Repo& repo, const httplib::Request& request, httplib::Response& response) {
  auto list = [](const std::map<std::string, std::string>& refs, const std::string& prefix) {
    json out = json::array();
    for (const auto& [name, oid] : refs) out.push_back({{"name", name}, {"ref", prefix + name}, {"targetCommit", oid}});
    return out;
  };
  json answer = {{"branches", list(repo.branches, "refs/heads/")},
                 {"converts", json::array()},
                 {"tags", list(repo.tags, "refs/tags/")}};
  if (ParameterIsTrue(request, "include_prs")) answer["pullRequests"] = json::array();
  response.set_content(answer.dump(), kJson);
}

void FakeHubRepos::Tree(const Parsed& target, Repo& repo, const httplib::Request& request, httplib::Response& response,
                        const std::string& base) {
  auto oid = ResolveRev(repo, target.rev);
  if (!oid) return RevisionNotFound(response, target.rev);
  const Files& files = repo.commits.at(*oid).files;
  std::string folder = target.path;
  while (folder.ends_with("/")) folder.pop_back();
  std::string prefix = folder.empty() ? "" : folder + "/";
  bool recursive = ParameterIsTrue(request, "recursive");
  // Directories are derived from the files under them; a directory's oid stands for its content.
  std::map<std::string, std::string> directories;  // path -> listing of what it holds
  std::vector<std::pair<std::string, const FileEntry*>> listed;
  for (const auto& [path, file] : files) {
    if (!path.starts_with(prefix)) continue;
    std::string rest = path.substr(prefix.size());
    for (size_t slash = rest.find('/'); slash != std::string::npos; slash = rest.find('/', slash + 1)) {
      directories[prefix + rest.substr(0, slash)] += path + " " + file->oid + "\n";
      if (!recursive) break;
    }
    if (recursive || rest.find('/') == std::string::npos) listed.emplace_back(path, file.get());
  }
  if (!folder.empty() && listed.empty() && directories.empty()) {
    return SetError(response, 404, "Entry not found: " + folder + " is not a folder at " + target.rev, "EntryNotFound");
  }
  json entries = json::array();
  for (const auto& [path, listing] : directories) {
    entries.push_back({{"type", "directory"}, {"oid", Sha1Hex("tree\n" + listing)}, {"size", 0}, {"path", path}});
  }
  for (const auto& [path, file] : listed) {
    json entry = {{"type", "file"}, {"oid", file->oid}, {"size", file->content.size()}, {"path", path}};
    if (file->lfs) {
      entry["lfs"] = {{"oid", file->sha256}, {"size", file->content.size()}, {"pointerSize", file->pointer_size}};
    }
    entries.push_back(std::move(entry));
  }
  std::sort(entries.begin(), entries.end(),
            [](const json& a, const json& b) { return a["path"].get<std::string>() < b["path"].get<std::string>(); });
  SendPage(entries, request, response, base);
}

// The Hub's commit listing, newest first: {id, title, message, date, authors}, paginated as the tree.
void FakeHubRepos::CommitList(const Parsed& target, Repo& repo, const httplib::Request& request,
                              httplib::Response& response, const std::string& base) {
  auto oid = ResolveRev(repo, target.rev);
  if (!oid) return RevisionNotFound(response, target.rev);
  json commits = json::array();
  for (std::string at = *oid; !at.empty();) {
    const CommitEntry& entry = repo.commits.at(at);
    commits.push_back({{"id", entry.oid},
                       {"title", entry.title},
                       {"message", entry.description},
                       {"date", entry.date},
                       {"authors", json::array({{{"user", kUserName}}})}});
    at = entry.parent;
  }
  SendPage(commits, request, response, base);
}

// One page of a listing (tree_page_size_ entries from the request's cursor), with a
// `Link: <...>; rel="next"` header while more remain.
void FakeHubRepos::SendPage(const json& entries, const httplib::Request& request, httplib::Response& response,
                            const std::string& base) const {
  size_t offset = 0;
  std::string cursor = request.get_param_value("cursor");
  if (!cursor.empty()) {
    if (cursor.find_first_not_of("0123456789") != std::string::npos || cursor.size() > 9) {
      return SetError(response, 400, "Invalid cursor");
    }
    offset = std::stoul(cursor);
  }
  json page = json::array();
  for (size_t i = offset; i < entries.size() && i < offset + tree_page_size_; ++i) page.push_back(entries[i]);
  if (offset + tree_page_size_ < entries.size()) {
    std::string query = WithoutParameter(QueryOf(request.target), "cursor");
    std::string next = base + PathOf(request.target) + "?" + (query.empty() ? "" : query + "&") +
                       "cursor=" + std::to_string(offset + tree_page_size_);
    response.set_header("Link", "<" + next + ">; rel=\"next\"");
  }
  response.set_content(page.dump(), kJson);
}

void FakeHubRepos::Resolve(const Parsed& target, Repo& repo, const httplib::Request& request,
                           httplib::Response& response, bool raw) {
  auto oid = ResolveRev(repo, target.rev);
  if (!oid) return RevisionNotFound(response, target.rev);
  const Files& files = repo.commits.at(*oid).files;
  auto found = files.find(target.path);
  if (found == files.end()) return SetError(response, 404, "Entry not found", "EntryNotFound");
  const FileEntry& file = *found->second;
  response.set_header("X-Repo-Commit", *oid);
  if (file.lfs && !raw) {
    // LFS content comes from the storage origin, through a signed URL that needs no token.
    std::string path = "/objects/" + repo.mongo_id + "/" + file.sha256;
    response.set_redirect(StorageOriginLocked() + path + "?X-Amz-Expires=3600&X-Amz-Signature=" + Sign(path), 302);
    response.set_header("X-Linked-Etag", "\"" + file.sha256 + "\"");
    response.set_header("X-Linked-Size", std::to_string(file.content.size()));
    return;
  }
  std::string etag = "\"" + file.oid + "\"";
  response.set_header("ETag", etag);
  response.set_header("Accept-Ranges", "bytes");
  if (request.has_header("If-None-Match") && EtagListMatches(request.get_header_value("If-None-Match"), etag)) {
    response.status = 304;
    return;
  }
  // httplib answers a Range request itself (206 with Content-Range) from the whole body.
  if (file.lfs) return response.set_content(LfsPointer(file.sha256, file.content.size()), "text/plain; charset=utf-8");
  response.set_content(file.content, ContentTypeOf(target.path));
}

// Git LFS batch API, upload only (the Hub's clients never ask it for downloads).
void FakeHubRepos::LfsBatch(Repo& repo, const httplib::Request& request, httplib::Response& response) {
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body.contains("objects") || !body["objects"].is_array()) {
    return SetError(response, 400, "The request body must be a Git LFS batch request with \"objects\"");
  }
  if (body.value("operation", "") != "upload") return SetError(response, 400, "Only the upload operation is supported");
  // huggingface_hub sends "sha256", huggingface.js "sha_256"; Git LFS answers 409 to others.
  std::string hash_algo =
      body.contains("hash_algo") && body["hash_algo"].is_string() ? body["hash_algo"].get<std::string>() : "sha256";
  if (hash_algo != "sha256" && hash_algo != "sha_256") {
    return SetError(response, 409, "Unsupported hash algorithm: " + hash_algo);
  }
  std::set<std::string> transfers;
  if (body.contains("transfers") && body["transfers"].is_array()) {
    for (const json& transfer : body["transfers"]) {
      if (transfer.is_string()) transfers.insert(transfer);
    }
  } else {
    transfers.insert("basic");  // Git LFS's default
  }
  bool multipart = transfers.contains("multipart");
  if (!transfers.contains("basic") && !multipart) {
    return SetError(response, 422, "None of the offered transfers is supported: use basic or multipart");
  }
  // Never Xet: a client that offers it is answered "basic" and falls back to the LFS upload.
  std::string chosen = "basic";
  json objects = json::array();
  for (const json& object : body["objects"]) {
    std::string oid = object.is_object() && object.contains("oid") && object["oid"].is_string()
                          ? object["oid"].get<std::string>()
                          : "";
    bool sized = object.is_object() && object.contains("size") && object["size"].is_number_unsigned();
    size_t size = sized ? object["size"].get<size_t>() : 0;
    if (!IsHex(oid, 64, 64) || oid != Lower(oid) || !sized) {
      objects.push_back({{"oid", oid}, {"size", size}, {"error", {{"code", 422}, {"message", "Invalid object"}}}});
      continue;
    }
    auto stored = repo.lfs.find(oid);
    if (stored != repo.lfs.end() && stored->second->size() == size) {
      objects.push_back({{"oid", oid}, {"size", size}});  // already stored: nothing to upload
      continue;
    }
    std::string key = repo.mongo_id + "-" + oid;
    auto pending = std::make_unique<PendingUpload>();
    pending->repo_key = RepoKey(repo.type, repo.id);
    pending->sha256 = oid;
    pending->size = size;
    std::string origin = StorageOriginLocked();
    auto signed_url = [&](const std::string& path) {
      return origin + path + "?X-Amz-Expires=86400&X-Amz-Signature=" + Sign(path);
    };
    json upload;
    if (multipart && size > multipart_threshold_) {
      chosen = "multipart";
      pending->chunk_size = chunk_size_;
      pending->part_count = (size + chunk_size_ - 1) / chunk_size_;
      json header = {{"chunk_size", std::to_string(chunk_size_)}};
      for (size_t part = 1; part <= pending->part_count; ++part) {
        char number[8];
        std::snprintf(number, sizeof number, "%05zu", part);
        header[number] = signed_url("/uploads/" + key + "/parts/" + std::to_string(part));
      }
      // The completion URL is signed too: clients send it no token.
      upload = {{"href", signed_url("/uploads/" + key + "/complete")}, {"header", std::move(header)}};
    } else {
      upload = {{"href", signed_url("/uploads/" + key)}};
    }
    upload["expires_in"] = 86400;
    uploads_[key] = std::move(pending);
    objects.push_back(
        {{"oid", oid}, {"size", size}, {"authenticated", true}, {"actions", {{"upload", std::move(upload)}}}});
  }
  response.set_content(json{{"transfer", chosen}, {"objects", std::move(objects)}, {"hash_algo", "sha256"}}.dump(),
                       kLfsJson);
}

// ---- The storage origin --------------------------------------------------------------------------

std::string FakeHubRepos::Sign(const std::string& path) const { return Sha256Hex(secret_ + path); }

std::string FakeHubRepos::StorageOriginLocked() {
  if (storage_) return storage_origin_;
  std::unique_ptr<httplib::Server> server;
  if (tls_) {
    server = std::make_unique<httplib::SSLServer>(tls_->cert_file.c_str(), tls_->key_file.c_str());
  } else {
    server = std::make_unique<httplib::Server>();
  }
  if (!server->is_valid()) throw std::runtime_error("the fake Hub's storage cannot start its server");
  server->new_task_queue = [] { return std::make_unique<httplib::ThreadPool>(kStorageThreads).release(); };
  auto handler = [this](const httplib::Request& request, httplib::Response& response) {
    HandleStorage(request, response);
  };
  server->Get(".*", handler).Post(".*", handler).Put(".*", handler).Delete(".*", handler);
  server->set_socket_options([](int sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  });
  // Another host than the Hub's where loopback has one, so that the origin differs by host too.
  std::string host = hub_host_ == "127.0.0.1" ? "127.0.0.2" : hub_host_;
  int port = server->bind_to_any_port(host);
  if (port <= 0 && host != hub_host_) {
    host = hub_host_;
    port = server->bind_to_any_port(host);
  }
  if (port <= 0) throw std::runtime_error("the fake Hub's storage cannot bind to " + host);
  httplib::Server* running = server.get();
  storage_thread_ = std::thread([running] { running->listen_after_bind(); });
  storage_ = std::move(server);
  auto deadline = std::chrono::steady_clock::now() + kStartDeadline;
  while (!storage_->is_running() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  if (!storage_->is_running()) throw std::runtime_error("the fake Hub's storage did not start on " + host);
  storage_origin_ = std::string(tls_ ? "https" : "http") + "://" + host + ":" + std::to_string(port);
  return storage_origin_;
}

void FakeHubRepos::HandleStorage(const httplib::Request& request, httplib::Response& response) {
  std::lock_guard lock(mutex_);
  std::string path = PathOf(request.target);
  storage_calls_.push_back({request.method, path, QueryOf(request.target), request.get_header_value("Authorization"),
                            request.body.size(), 0});
  for (auto fault = storage_faults_.begin(); fault != storage_faults_.end(); ++fault) {
    if (path.find(fault->path_substring) == std::string::npos) continue;
    const StorageFault taken = *fault;
    if (--fault->times <= 0) storage_faults_.erase(fault);
    if (taken.close) {
      DropConnection(request, response);  // recorded with status 0
      return;
    }
    const auto [code, message] = S3ErrorFor(taken.status);
    SetStorageError(response, taken.status, code, message);
    storage_calls_.back().status = taken.status;
    return;
  }
  [&] {
    // A presigned URL carries its own authorization: S3 refuses a request that adds a token.
    if (request.has_header("Authorization")) {
      return SetStorageError(response, 400, "InvalidArgument",
                             "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature "
                             "query string parameter or the Authorization header should be specified");
    }
    if (request.get_param_value("X-Amz-Signature") != Sign(path)) {
      return SetStorageError(response, 403, "SignatureDoesNotMatch", "The request signature does not match");
    }
    std::vector<std::string> s = Segments(path);
    if (s.size() == 2 && s[0] == "uploads" && request.method == "PUT") return StoragePut(s[1], request, response);
    if (s.size() == 4 && s[0] == "uploads" && s[2] == "parts" && request.method == "PUT") {
      return StoragePart(s[1], std::stoi(s[3]), request, response);
    }
    if (s.size() == 3 && s[0] == "uploads" && s[2] == "complete" && request.method == "POST") {
      return StorageComplete(s[1], request, response);
    }
    if (s.size() == 3 && s[0] == "objects" && (request.method == "GET" || request.method == "HEAD")) {
      return StorageGet(s[1] + "-" + s[2], response);
    }
    SetStorageError(response, 405, "MethodNotAllowed", "The specified method is not allowed against this resource");
  }();
  if (response.status >= 300 && request.has_header("Range")) SendWhole(response);
  storage_calls_.back().status = response.status == -1 ? 200 : response.status;
}

void FakeHubRepos::StoragePut(const std::string& key, const httplib::Request& request, httplib::Response& response) {
  auto found = uploads_.find(key);
  if (found == uploads_.end() || found->second->chunk_size != 0) {
    return SetStorageError(response, 404, "NoSuchUpload", "No upload was requested at this URL");
  }
  PendingUpload& upload = *found->second;
  // S3 answers 501 to an empty object (why the clients commit empty files as regular ones).
  if (request.body.empty()) return SetStorageError(response, 501, "NotImplemented", "Empty objects are not supported");
  if (request.body.size() != upload.size) {
    return SetStorageError(response, 400, "IncompleteBody", "The body is not the size the batch request announced");
  }
  if (Sha256Hex(request.body) != upload.sha256) {
    return SetStorageError(response, 400, "BadDigest", "The body's sha256 is not the object id");
  }
  Repo* repo = repos_.contains(upload.repo_key) ? repos_.at(upload.repo_key).get() : nullptr;
  if (repo) repo->lfs[upload.sha256] = std::make_shared<const std::string>(request.body);
  response.set_header("ETag", "\"" + GitBlobId(request.body).substr(0, 32) + "\"");
  uploads_.erase(found);
}

void FakeHubRepos::StoragePart(const std::string& key, int part, const httplib::Request& request,
                               httplib::Response& response) {
  auto found = uploads_.find(key);
  if (found == uploads_.end() || found->second->chunk_size == 0) {
    return SetStorageError(response, 404, "NoSuchUpload", "No multipart upload was requested at this URL");
  }
  PendingUpload& upload = *found->second;
  if (part < 1 || static_cast<size_t>(part) > upload.part_count) {
    return SetStorageError(response, 400, "InvalidPart", "No such part number");
  }
  size_t index = static_cast<size_t>(part);
  // Part i holds bytes [(i-1)*chunk_size, i*chunk_size) of the object.
  size_t expected = std::min(upload.chunk_size, upload.size - (index - 1) * upload.chunk_size);
  if (request.body.size() != expected) {
    return SetStorageError(response, 400, "InvalidPart",
                           "Part " + std::to_string(part) + " must hold " + std::to_string(expected) + " bytes");
  }
  std::string etag = "\"" + GitBlobId(request.body).substr(0, 32) + "\"";
  upload.parts[index] = request.body;
  upload.etags[index] = etag;
  response.set_header("ETag", etag);
}

void FakeHubRepos::StorageComplete(const std::string& key, const httplib::Request& request,
                                   httplib::Response& response) {
  auto found = uploads_.find(key);
  if (found == uploads_.end() || found->second->chunk_size == 0) {
    return SetStorageError(response, 404, "NoSuchUpload", "No multipart upload was requested at this URL");
  }
  PendingUpload& upload = *found->second;
  json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || body.value("oid", "") != upload.sha256 || !body.contains("parts") ||
      !body["parts"].is_array() || body["parts"].size() != upload.part_count) {
    return SetStorageError(response, 400, "MalformedXML", "The completion must name the object and every part");
  }
  std::string object;
  for (size_t index = 1; index <= upload.part_count; ++index) {
    const json& part = body["parts"][index - 1];
    if (!part.is_object() || part.value("partNumber", 0) != static_cast<int>(index) || !upload.etags.contains(index) ||
        part.value("etag", "") != upload.etags[index]) {
      return SetStorageError(response, 400, "InvalidPart",
                             "Part " + std::to_string(index) + " was not uploaded or its ETag does not match");
    }
    object += upload.parts[index];
  }
  if (object.size() != upload.size || Sha256Hex(object) != upload.sha256) {
    return SetStorageError(response, 400, "BadDigest", "The assembled object is not the one announced");
  }
  Repo* repo = repos_.contains(upload.repo_key) ? repos_.at(upload.repo_key).get() : nullptr;
  if (repo) repo->lfs[upload.sha256] = std::make_shared<const std::string>(std::move(object));
  uploads_.erase(found);
  response.set_content("{}", kJson);
}

void FakeHubRepos::StorageGet(const std::string& key, httplib::Response& response) {
  size_t dash = key.find('-');
  std::string mongo_id = key.substr(0, dash), sha256 = dash == std::string::npos ? "" : key.substr(dash + 1);
  for (const auto& [repo_key, repo] : repos_) {
    if (repo->mongo_id != mongo_id) continue;
    auto object = repo->lfs.find(sha256);
    if (object == repo->lfs.end()) break;
    response.set_header("ETag", "\"" + sha256 + "\"");
    response.set_header("Accept-Ranges", "bytes");
    return response.set_content(*object->second, "application/octet-stream");
  }
  SetStorageError(response, 404, "NoSuchKey", "The specified key does not exist.");
}

}  // namespace orch::testing
