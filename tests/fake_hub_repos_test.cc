// The fake Hub's repository API keeps the Hub's rules: stale parents, LFS objects that must be
// uploaded first, tag conflicts, revisions, pagination, and a storage origin that never sees a token.
#include "support/fake_hub_repos.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <set>
#include <string>
#include <vector>

#include "hub/content_hash.h"
#include "support/fake_hub.h"
#include "support/temp_dir.h"
#include "support/test_tls.h"

namespace orch::testing {
namespace {

using nlohmann::json;

constexpr char kToken[] = "hf_test_token";
constexpr char kRepo[] = "owner/publish_dataset";

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i + 1 == bytes.size()) {
    uint32_t n = uint8_t(bytes[i]) << 16;
    out += std::string{kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += std::string{kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63], '='};
  }
  return out;
}

json Header(const std::string& summary, const std::string& parent = "") {
  json value = {{"summary", summary}, {"description", ""}};
  if (!parent.empty()) value["parentCommit"] = parent;
  return {{"key", "header"}, {"value", value}};
}
json FileLine(const std::string& path, const std::string& content) {
  return {{"key", "file"}, {"value", {{"path", path}, {"content", Base64(content)}, {"encoding", "base64"}}}};
}
json LfsLine(const std::string& path, const std::string& content) {
  return {{"key", "lfsFile"},
          {"value", {{"path", path}, {"algo", "sha256"}, {"oid", Sha256Hex(content)}, {"size", content.size()}}}};
}
std::string Ndjson(const std::vector<json>& lines) {
  std::string body;
  for (const json& line : lines) body += line.dump() + "\n";
  return body;
}

class FakeHubReposTest : public ::testing::Test {
 protected:
  FakeHubReposTest() : client_(hub_.endpoint()) {
    client_.set_default_headers({{"Authorization", std::string("Bearer ") + kToken}});
  }

  FakeHubRepos& repos() { return hub_.repos(); }

  httplib::Result Get(const std::string& path, httplib::Headers headers = {}) {
    return client_.Get(path.c_str(), headers);
  }
  httplib::Result Head(const std::string& path) { return client_.Head(path.c_str()); }
  httplib::Result Post(const std::string& path, const std::string& body, const char* type = "application/json") {
    return client_.Post(path.c_str(), body, type);
  }
  httplib::Result Delete(const std::string& path, const std::string& body = "") {
    return client_.Delete(path.c_str(), body, "application/json");
  }
  httplib::Result Commit(const std::vector<json>& lines, const std::string& rev = "main") {
    return Post(std::string("/api/datasets/") + kRepo + "/commit/" + rev, Ndjson(lines), "application/x-ndjson");
  }
  std::string Head_(const std::string& rev = "main") { return repos().Branches("dataset", kRepo).at(rev); }
  void CreateDataset() {
    auto created = Post("/api/repos/create",
                        json{{"name", "publish_dataset"}, {"organization", "owner"}, {"type", "dataset"}}.dump());
    ASSERT_TRUE(created);
    ASSERT_EQ(created->status, 200) << created->body;
  }
  // Asks the LFS batch API for an upload of `content`; returns the object of the answer.
  json Batch(const std::string& content, std::vector<std::string> transfers = {"basic", "multipart"}) {
    json request = {{"operation", "upload"},
                    {"transfers", transfers},
                    {"hash_algo", "sha256"},
                    {"ref", {{"name", "main"}}},
                    {"objects", {{{"oid", Sha256Hex(content)}, {"size", content.size()}}}}};
    auto answer = Post(std::string("/datasets/") + kRepo + ".git/info/lfs/objects/batch", request.dump(),
                       "application/vnd.git-lfs+json");
    EXPECT_TRUE(answer);
    if (!answer) return json();
    EXPECT_EQ(answer->status, 200) << answer->body;
    return json::parse(answer->body);
  }
  // A request to a URL of the storage origin, which the Hub's client never sends a token.
  httplib::Result Storage(const std::string& method, const std::string& url, const std::string& body,
                          httplib::Headers headers = {}) {
    size_t path_at = url.find('/', url.find("://") + 3);
    httplib::Client storage(url.substr(0, path_at));
    std::string path = url.substr(path_at);
    if (method == "PUT") return storage.Put(path.c_str(), headers, body, "application/octet-stream");
    if (method == "POST") return storage.Post(path.c_str(), headers, body, "application/vnd.git-lfs+json");
    return storage.Get(path.c_str(), headers);
  }

  FakeHub hub_;
  httplib::Client client_;
};

TEST_F(FakeHubReposTest, CreateRepoAnswersItsUrlThenConflictsAndRepoInfoNamesTheHead) {
  auto created =
      Post("/api/repos/create",
           json{{"name", "publish_dataset"}, {"organization", "owner"}, {"type", "dataset"}, {"visibility", "private"}}
               .dump());
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 200) << created->body;
  json answer = json::parse(created->body);
  EXPECT_EQ(answer["url"], hub_.endpoint() + "/datasets/owner/publish_dataset");
  EXPECT_EQ(answer["name"], kRepo);
  EXPECT_EQ(answer["id"].get<std::string>().size(), 24u);

  auto again = Post("/api/repos/create",
                    json{{"name", "publish_dataset"}, {"organization", "owner"}, {"type", "dataset"}}.dump());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 409);
  EXPECT_EQ(json::parse(again->body)["url"], answer["url"]);
  EXPECT_EQ(again->get_header_value("X-Error-Message"), "You already created this dataset repo");

  auto info = Get(std::string("/api/datasets/") + kRepo);
  ASSERT_TRUE(info);
  ASSERT_EQ(info->status, 200);
  json repo = json::parse(info->body);
  EXPECT_EQ(repo["sha"], Head_());
  EXPECT_EQ(repo["private"], true);
  EXPECT_EQ(repo["siblings"], json::parse(R"([{"rfilename": ".gitattributes"}])"));
  std::vector<FakeHubRepos::Commit> history = repos().Commits("dataset", kRepo);
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].title, "initial commit");

  auto missing = Get("/api/datasets/owner/nothing_here");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->get_header_value("X-Error-Code"), "RepoNotFound");
  EXPECT_EQ(json::parse(missing->body)["error"], "Repository not found");
}

TEST_F(FakeHubReposTest, PreuploadSendsLargeBinaryAndTrackedFilesToLfsAndNamesWhatExists) {
  CreateDataset();
  ASSERT_EQ(Commit({Header("Add train"), FileLine("data/train.jsonl", "{\"text\":\"a\"}\n")})->status, 200);
  std::string binary_sample = std::string("PAR1\0\0", 6);
  json request = {{"files",
                   {{{"path", "data/train.jsonl"}, {"size", 13}, {"sample", Base64("{\"text\":\"b\"}\n")}},
                    {{"path", "small.parquet"}, {"size", 4}, {"sample", Base64("PAR1")}},
                    {{"path", "blob"}, {"size", 6}, {"sample", Base64(binary_sample)}},
                    {{"path", "big.jsonl"}, {"size", FakeHubRepos::kLfsThreshold + 1}, {"sample", Base64("{}")}},
                    {{"path", "notes/tmp.log"}, {"size", 2}, {"sample", Base64("hi")}}}},
                  {"gitIgnore", "*.log\n"}};
  auto answer = Post(std::string("/api/datasets/") + kRepo + "/preupload/main", request.dump());
  ASSERT_TRUE(answer);
  ASSERT_EQ(answer->status, 200) << answer->body;
  json files = json::parse(answer->body)["files"];
  ASSERT_EQ(files.size(), 5u);
  EXPECT_EQ(files[0]["uploadMode"], "regular");
  EXPECT_EQ(files[0]["oid"], GitBlobId("{\"text\":\"a\"}\n"));
  EXPECT_EQ(files[1]["uploadMode"], "lfs") << "*.parquet is tracked by the default .gitattributes";
  EXPECT_EQ(files[2]["uploadMode"], "lfs") << "a NUL byte in the sample makes a file binary";
  EXPECT_EQ(files[3]["uploadMode"], "lfs") << "above kLfsThreshold";
  EXPECT_FALSE(files[1].contains("oid"));
  EXPECT_EQ(files[3]["shouldIgnore"], false);
  EXPECT_EQ(files[4]["shouldIgnore"], true);
  EXPECT_EQ(json::parse(answer->body)["commitOid"], Head_());
}

TEST_F(FakeHubReposTest, CommitOnAStaleParentIsRefusedWith412AndLeavesTheBranch) {
  CreateDataset();
  std::string initial = Head_();
  auto first = Commit({Header("First", initial), FileLine("a.txt", "one")});
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200) << first->body;
  json reply = json::parse(first->body);
  EXPECT_EQ(reply["success"], true);
  EXPECT_EQ(reply["commitOid"], Head_());
  EXPECT_EQ(reply["commitUrl"], hub_.endpoint() + "/datasets/" + kRepo + "/commit/" + Head_());
  std::string after_first = Head_();

  auto stale = Commit({Header("Second", initial), FileLine("a.txt", "two")});
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->status, 412);
  EXPECT_EQ(json::parse(stale->body)["error"],
            "The branch was updated since you opened this page. Please refresh and try again.");
  EXPECT_EQ(Head_(), after_first);
  EXPECT_EQ(repos().FileAt("dataset", kRepo, "main", "a.txt")->content, "one");

  auto short_parent = Commit({Header("Second", after_first.substr(0, 7)), FileLine("a.txt", "two")});
  ASSERT_TRUE(short_parent);
  EXPECT_EQ(short_parent->status, 200) << "an abbreviated OID of the head is a current parent";
  EXPECT_EQ(repos().Commits("dataset", kRepo).size(), 3u);
}

TEST_F(FakeHubReposTest, LfsFileThatWasNeverUploadedIsRefusedAndNothingIsCommitted) {
  CreateDataset();
  std::string before = Head_();
  auto refused = Commit({Header("Add model"), FileLine("README.md", "# x\n"), LfsLine("model.bin", "never uploaded")});
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400);
  EXPECT_NE(refused->get_header_value("X-Error-Message").find("was never uploaded"), std::string::npos);
  EXPECT_EQ(Head_(), before);
  EXPECT_FALSE(repos().FileAt("dataset", kRepo, "main", "README.md"));

  auto no_header = Commit({FileLine("README.md", "# x\n")});
  ASSERT_TRUE(no_header);
  EXPECT_EQ(no_header->status, 400);
  auto missing_delete = Commit({Header("Remove"), json{{"key", "deletedFile"}, {"value", {{"path", "nope.txt"}}}}});
  ASSERT_TRUE(missing_delete);
  EXPECT_EQ(missing_delete->status, 404);
  EXPECT_EQ(missing_delete->get_header_value("X-Error-Code"), "EntryNotFound");
  EXPECT_EQ(Head_(), before);
}

TEST_F(FakeHubReposTest, LfsUploadGoesToAnotherOriginThatRefusesTokensAndChecksTheBytes) {
  CreateDataset();
  const std::string content = std::string("weights\0", 8) + std::string(4000, 'w');
  json object = Batch(content)["objects"][0];
  ASSERT_TRUE(object.contains("actions")) << object.dump();
  std::string href = object["actions"]["upload"]["href"];
  EXPECT_TRUE(href.starts_with(repos().StorageOrigin()));
  EXPECT_FALSE(href.starts_with(hub_.endpoint())) << "uploads go to another origin than the Hub";

  auto wrong = Storage("PUT", href, std::string(content.size(), 'x'));
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 400);
  EXPECT_NE(wrong->body.find("BadDigest"), std::string::npos);
  auto with_token = Storage("PUT", href, content, {{"Authorization", std::string("Bearer ") + kToken}});
  ASSERT_TRUE(with_token);
  EXPECT_EQ(with_token->status, 400) << "a presigned URL with a token is refused, as S3 does";
  auto unsigned_put = Storage("PUT", href.substr(0, href.find('?')), content);
  ASSERT_TRUE(unsigned_put);
  EXPECT_EQ(unsigned_put->status, 403);
  auto put = Storage("PUT", href, content);
  ASSERT_TRUE(put);
  ASSERT_EQ(put->status, 200) << put->body;
  EXPECT_FALSE(put->get_header_value("ETag").empty());
  EXPECT_TRUE(repos().HasLfsObject("dataset", kRepo, Sha256Hex(content)));

  json again = Batch(content)["objects"][0];
  EXPECT_FALSE(again.contains("actions")) << "an object already stored needs no upload";

  auto committed = Commit({Header("Add weights"), LfsLine("model.bin", content)});
  ASSERT_TRUE(committed);
  ASSERT_EQ(committed->status, 200) << committed->body;
  std::optional<FakeHubRepos::File> file = repos().FileAt("dataset", kRepo, "main", "model.bin");
  ASSERT_TRUE(file);
  EXPECT_TRUE(file->lfs);
  EXPECT_EQ(file->content, content);
  EXPECT_EQ(file->oid, GitBlobId(FakeHubRepos::LfsPointer(file->sha256, content.size())));

  auto resolved = Head(std::string("/datasets/") + kRepo + "/resolve/main/model.bin");
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->status, 302);
  EXPECT_EQ(resolved->get_header_value("X-Linked-Etag"), "\"" + Sha256Hex(content) + "\"");
  EXPECT_EQ(resolved->get_header_value("X-Linked-Size"), std::to_string(content.size()));
  EXPECT_EQ(resolved->get_header_value("X-Repo-Commit"), Head_());
  std::string location = resolved->get_header_value("Location");
  EXPECT_TRUE(location.starts_with(repos().StorageOrigin()));
  auto downloaded = Storage("GET", location, "");
  ASSERT_TRUE(downloaded);
  EXPECT_EQ(downloaded->status, 200);
  EXPECT_EQ(downloaded->body, content);

  std::vector<FakeHubRepos::StorageCall> calls = repos().StorageCalls();
  ASSERT_EQ(calls.size(), 5u);
  int with_authorization = 0;
  for (const auto& call : calls) with_authorization += call.authorization.empty() ? 0 : 1;
  EXPECT_EQ(with_authorization, 1) << "only the request this test sent with a token";
}

TEST_F(FakeHubReposTest, MultipartUploadNeedsEveryPartAndItsEtag) {
  CreateDataset();
  repos().SetMultipartUpload(/*threshold=*/10, /*chunk_size=*/8);
  const std::string content = "0123456789abcdefghij";  // 20 bytes: parts of 8, 8 and 4
  json answer = Batch(content);
  EXPECT_EQ(answer["transfer"], "multipart");
  json upload = answer["objects"][0]["actions"]["upload"];
  ASSERT_EQ(upload["header"]["chunk_size"], "8");
  ASSERT_TRUE(upload["header"].contains("00003"));
  ASSERT_FALSE(upload["header"].contains("00004"));
  std::vector<std::string> etags;
  for (int part = 1; part <= 3; ++part) {
    char key[8];
    std::snprintf(key, sizeof key, "%05d", part);
    auto put = Storage("PUT", upload["header"][key], content.substr((part - 1) * 8, 8));
    ASSERT_TRUE(put);
    ASSERT_EQ(put->status, 200) << put->body;
    etags.push_back(put->get_header_value("ETag"));
  }
  json completion = {{"oid", Sha256Hex(content)}, {"parts", json::array()}};
  for (int part = 1; part <= 3; ++part)
    completion["parts"].push_back({{"partNumber", part}, {"etag", etags[part - 1]}});
  json wrong = completion;
  wrong["parts"][1]["etag"] = "\"0\"";
  auto refused = Storage("POST", upload["href"], wrong.dump());
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400);
  EXPECT_FALSE(repos().HasLfsObject("dataset", kRepo, Sha256Hex(content)));
  auto completed = Storage("POST", upload["href"], completion.dump());
  ASSERT_TRUE(completed);
  EXPECT_EQ(completed->status, 200) << completed->body;
  EXPECT_TRUE(repos().HasLfsObject("dataset", kRepo, Sha256Hex(content)));

  json basic_only = Batch("another object, larger than ten bytes", {"basic"});
  EXPECT_EQ(basic_only["transfer"], "basic");
  EXPECT_FALSE(basic_only["objects"][0]["actions"]["upload"].contains("header"));
}

TEST_F(FakeHubReposTest, TagConflictsAndResolveAtTheTagKeepsTheTaggedContentAfterASecondCommit) {
  CreateDataset();
  ASSERT_EQ(Commit({Header("v1"), FileLine("dataset_metadata.json", "{\"version_tag\":\"v1\"}")})->status, 200);
  std::string first = Head_();
  auto tagged = Post(std::string("/api/datasets/") + kRepo + "/tag/main", R"({"tag":"v1","message":"first"})");
  ASSERT_TRUE(tagged);
  EXPECT_EQ(tagged->status, 200) << tagged->body;
  auto conflict = Post(std::string("/api/datasets/") + kRepo + "/tag/main", R"({"tag":"v1"})");
  ASSERT_TRUE(conflict);
  EXPECT_EQ(conflict->status, 409);
  auto bad_rev = Post(std::string("/api/datasets/") + kRepo + "/tag/nope", R"({"tag":"v9"})");
  ASSERT_TRUE(bad_rev);
  EXPECT_EQ(bad_rev->get_header_value("X-Error-Code"), "RevisionNotFound");
  ASSERT_EQ(Commit({Header("v2"), FileLine("dataset_metadata.json", "{\"version_tag\":\"v2\"}")})->status, 200);
  EXPECT_EQ(repos().Tags("dataset", kRepo), (std::map<std::string, std::string>{{"v1", first}}));

  std::string path = std::string("/datasets/") + kRepo + "/resolve/";
  auto at_tag = Get(path + "v1/dataset_metadata.json");
  ASSERT_TRUE(at_tag);
  ASSERT_EQ(at_tag->status, 200);
  EXPECT_EQ(at_tag->body, "{\"version_tag\":\"v1\"}");
  EXPECT_EQ(at_tag->get_header_value("X-Repo-Commit"), first);
  EXPECT_EQ(at_tag->get_header_value("ETag"), "\"" + GitBlobId(at_tag->body) + "\"");
  auto at_main = Get(path + "main/dataset_metadata.json");
  ASSERT_TRUE(at_main);
  EXPECT_EQ(at_main->body, "{\"version_tag\":\"v2\"}");
  EXPECT_EQ(at_main->get_header_value("X-Repo-Commit"), Head_());
  auto at_oid = Get(path + first + "/dataset_metadata.json");
  ASSERT_TRUE(at_oid);
  EXPECT_EQ(at_oid->body, at_tag->body);
  auto unchanged = Get(path + "main/dataset_metadata.json", {{"If-None-Match", at_main->get_header_value("ETag")}});
  ASSERT_TRUE(unchanged);
  EXPECT_EQ(unchanged->status, 304);
  auto ranged = Get(path + "main/dataset_metadata.json", {{"Range", "bytes=0-0"}});
  ASSERT_TRUE(ranged);
  EXPECT_EQ(ranged->status, 206);
  EXPECT_EQ(ranged->get_header_value("Content-Range"), "bytes 0-0/20");

  auto refs = Get(std::string("/api/datasets/") + kRepo + "/refs");
  ASSERT_TRUE(refs);
  json listed = json::parse(refs->body);
  EXPECT_EQ(listed["tags"][0]["ref"], "refs/tags/v1");
  EXPECT_EQ(listed["tags"][0]["targetCommit"], first);
  EXPECT_EQ(listed["branches"][0]["targetCommit"], Head_());

  auto deleted = Delete(std::string("/api/datasets/") + kRepo + "/tag/v1");
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 200);
  auto gone = Get(path + "v1/dataset_metadata.json");
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);
  EXPECT_EQ(gone->get_header_value("X-Error-Code"), "RevisionNotFound");
}

TEST_F(FakeHubReposTest, TreeIsPaginatedThroughLinkHeaders) {
  CreateDataset();
  repos().SetTreePageSize(2);
  repos().CommitFiles("dataset", kRepo, "main",
                      {{"README.md", "# d\n"},
                       {"data/train.jsonl", "{}\n"},
                       {"data/eval.jsonl", "{}\n{}\n"},
                       {"data/sub/test.jsonl", "{}\n{}\n{}\n"},
                       {"data/shard.parquet", "PAR1"}},
                      "Add splits");
  std::vector<std::string> paths;
  std::string url = std::string("/api/datasets/") + kRepo + "/tree/main?recursive=true&expand=false";
  int pages = 0;
  while (!url.empty() && pages < 10) {
    auto page = Get(url);
    ASSERT_TRUE(page);
    ASSERT_EQ(page->status, 200) << page->body;
    ++pages;
    json entries = json::parse(page->body);
    EXPECT_LE(entries.size(), 2u);
    for (const json& entry : entries) {
      paths.push_back(entry["path"]);
      if (entry["path"] == "data/shard.parquet") {
        EXPECT_EQ(entry["lfs"]["oid"], Sha256Hex("PAR1"));
        EXPECT_EQ(entry["size"], 4);
      }
      if (entry["path"] == "data/sub") {
        EXPECT_EQ(entry["type"], "directory");
      }
    }
    std::string link = page->get_header_value("Link");
    url.clear();
    if (!link.empty()) {
      ASSERT_TRUE(link.starts_with("<" + hub_.endpoint())) << link;
      ASSERT_TRUE(link.ends_with(">; rel=\"next\"")) << link;
      url = link.substr(1 + hub_.endpoint().size(), link.find('>') - 1 - hub_.endpoint().size());
    }
  }
  EXPECT_EQ(pages, 4);
  EXPECT_EQ(paths,
            (std::vector<std::string>{".gitattributes", "README.md", "data", "data/eval.jsonl", "data/shard.parquet",
                                      "data/sub", "data/sub/test.jsonl", "data/train.jsonl"}));

  repos().SetTreePageSize(100);
  auto folder = Get(std::string("/api/datasets/") + kRepo + "/tree/main/data%2Fsub?recursive=false");
  ASSERT_TRUE(folder);
  ASSERT_EQ(folder->status, 200) << folder->body;
  json entries = json::parse(folder->body);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0]["path"], "data/sub/test.jsonl");
  auto top = Get(std::string("/api/datasets/") + kRepo + "/tree/main");
  ASSERT_TRUE(top);
  EXPECT_EQ(json::parse(top->body).size(), 3u) << "without recursive: .gitattributes, README.md and data";
}

TEST_F(FakeHubReposTest, UnknownRevisionsEntriesAndReposHaveTheirErrorCodes) {
  CreateDataset();
  repos().CommitFiles("dataset", kRepo, "main", {{"a.txt", "a"}}, "Add a");
  auto error_code = [&](const std::string& path) {
    auto answer = Get(path);
    return answer ? std::to_string(answer->status) + " " + answer->get_header_value("X-Error-Code") : "no answer";
  };
  std::string resolve = std::string("/datasets/") + kRepo + "/resolve/";
  EXPECT_EQ(error_code(resolve + "nope/a.txt"), "404 RevisionNotFound");
  EXPECT_EQ(error_code(resolve + "main/b.txt"), "404 EntryNotFound");
  EXPECT_EQ(error_code("/datasets/owner/unknown/resolve/main/a.txt"), "404 RepoNotFound");
  EXPECT_EQ(error_code(std::string("/api/datasets/") + kRepo + "/tree/nope"), "404 RevisionNotFound");
  EXPECT_EQ(error_code(std::string("/api/datasets/") + kRepo + "/revision/nope"), "404 RevisionNotFound");
  EXPECT_EQ(error_code(std::string("/api/datasets/") + kRepo + "/tree/main/missing"), "404 EntryNotFound");
  auto to_missing_branch = Commit({Header("x"), FileLine("b.txt", "b")}, "dev");
  ASSERT_TRUE(to_missing_branch);
  EXPECT_EQ(to_missing_branch->get_header_value("X-Error-Code"), "RevisionNotFound");

  auto branch = Post(std::string("/api/datasets/") + kRepo + "/branch/dev", "{}");
  ASSERT_TRUE(branch);
  ASSERT_EQ(branch->status, 200) << branch->body;
  auto twice = Post(std::string("/api/datasets/") + kRepo + "/branch/dev", "{}");
  ASSERT_TRUE(twice);
  EXPECT_EQ(twice->status, 409);
  ASSERT_EQ(Commit({Header("on dev"), FileLine("b.txt", "b")}, "dev")->status, 200);
  EXPECT_EQ(error_code(resolve + "refs%2Fheads%2Fdev/b.txt"), "200 ");
  EXPECT_EQ(error_code(resolve + "main/b.txt"), "404 EntryNotFound");
  auto info = Get(std::string("/api/datasets/") + kRepo + "/revision/refs%2Fheads%2Fdev");
  ASSERT_TRUE(info);
  EXPECT_EQ(json::parse(info->body)["sha"], Head_("dev"));
}

TEST_F(FakeHubReposTest, DatasetMetadataSetThroughFakeHubIsStillServedBesideCreatedRepos) {
  hub_.PublishMetadata("owner/legacy", FakeHub::Metadata("v_legacy", 10));
  CreateDataset();
  repos().CommitFiles("dataset", kRepo, "main", {{"dataset_metadata.json", "{\"version_tag\":\"v_new\"}"}}, "Publish");
  auto legacy = Get("/datasets/owner/legacy/resolve/main/dataset_metadata.json");
  ASSERT_TRUE(legacy);
  EXPECT_EQ(legacy->status, 200);
  EXPECT_EQ(json::parse(legacy->body)["version_tag"], "v_legacy");
  auto created = Get(std::string("/datasets/") + kRepo + "/resolve/main/dataset_metadata.json");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 200);
  EXPECT_EQ(json::parse(created->body)["version_tag"], "v_new");
  auto unpublished = Get("/datasets/owner/unpublished/resolve/main/dataset_metadata.json");
  ASSERT_TRUE(unpublished);
  EXPECT_EQ(unpublished->get_header_value("X-Error-Code"), "EntryNotFound") << "FakeHub's own answer, as before";
}

TEST_F(FakeHubReposTest, TheHubsAuthenticationAndInjectedFaultsApplyToRepositoryEndpoints) {
  CreateDataset();
  httplib::Client anonymous(hub_.endpoint());
  auto refused = anonymous.Get((std::string("/api/datasets/") + kRepo).c_str());
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  hub_.InjectFault("/preupload/", FakeHub::Fault::Status(503));
  std::string body = R"({"files":[{"path":"a.txt","size":1,"sample":"YQ=="}]})";
  auto failed = Post(std::string("/api/datasets/") + kRepo + "/preupload/main", body);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 503);
  auto retried = Post(std::string("/api/datasets/") + kRepo + "/preupload/main", body);
  ASSERT_TRUE(retried);
  EXPECT_EQ(retried->status, 200);
  EXPECT_EQ(hub_.Count("POST", "/preupload/"), 2);
}

TEST(FakeHubReposTls, OverHttpsTheStorageOriginSpeaksHttpsWithTheTestCertificate) {
  TempDir dir;
  TestTls tls = MakeTestTls(dir.path().string());
  FakeHub hub("127.0.0.1", tls);
  hub.repos().CreateRepo("model", "owner/weights");
  const std::string weights = std::string("\0weights", 8);
  hub.repos().CommitFiles("model", "owner/weights", "main", {{"model.bin", weights}}, "Add weights");
  httplib::Client client(hub.endpoint());
  client.set_ca_cert_path(tls.ca_file.c_str());
  client.enable_server_certificate_verification(true);
  auto resolved =
      client.Get("/owner/weights/resolve/main/model.bin", {{"Authorization", std::string("Bearer ") + kToken}});
  ASSERT_TRUE(resolved) << httplib::to_string(resolved.error());
  ASSERT_EQ(resolved->status, 302);
  std::string location = resolved->get_header_value("Location");
  ASSERT_TRUE(location.starts_with("https://127.0.0.2:")) << location;
  size_t path_at = location.find('/', 8);
  httplib::Client storage(location.substr(0, path_at));
  storage.set_ca_cert_path(tls.ca_file.c_str());
  storage.enable_server_certificate_verification(true);
  auto downloaded = storage.Get(location.substr(path_at).c_str());
  ASSERT_TRUE(downloaded) << httplib::to_string(downloaded.error());
  EXPECT_EQ(downloaded->status, 200);
  EXPECT_EQ(downloaded->body, weights);
}

}  // namespace
}  // namespace orch::testing
