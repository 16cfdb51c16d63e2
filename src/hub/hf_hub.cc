#include "hub/hf_hub.h"

#include <nlohmann/json.hpp>
#include <optional>

#include "util/redact.h"

namespace orch {
namespace {

// The string member `key` of a JSON object `body`; nothing for anything else.
std::optional<std::string> StringMember(std::string_view body, const char* key) {
  const nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return std::nullopt;
  const auto found = doc.find(key);
  if (found == doc.end() || !found->is_string()) return std::nullopt;
  return found->get<std::string>();
}

bool IsStageName(std::string_view text) {
  if (text.empty() || text.size() > kMaxStageBytes) return false;
  for (char c : text)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

std::string Meaning(int status) {
  switch (status) {
    case 401: return "the Hub refused HF_TOKEN (401); check that the token is valid and not expired";
    case 403: return "HF_TOKEN is not allowed to do this (403); it needs write access to the repository";
    case 404: return "not found (404); check the repository id or URL";
    default: return "HTTP " + std::to_string(status);
  }
}

}  // namespace

std::string DescribeHttpFailure(const HttpResponse& response, const std::string& what) {
  if (response.status == 0) return what + ": no answer (" + Excerpt(response.error, 2 * kMaxServerErrorBytes) + ")";
  const std::string said = HubErrorOf(response.body);
  return what + ": " + Meaning(response.status) + (said.empty() ? "" : " (the server said: " + said + ")");
}

std::string SpaceStageOf(std::string_view body) {
  std::optional<std::string> stage = StringMember(body, "stage");
  return stage && IsStageName(*stage) ? *stage : "";
}

std::string AccountNameOf(std::string_view body) {
  return Excerpt(StringMember(body, "name").value_or(""), kMaxAccountNameBytes);
}

std::string HubErrorOf(std::string_view body) {
  return Excerpt(StringMember(body, "error").value_or(""), kMaxServerErrorBytes);
}

namespace {

// The text of the first <tag>...</tag> in `xml`; "" when there is none.
std::string_view XmlElementText(std::string_view xml, std::string_view tag) {
  const std::string open = "<" + std::string(tag) + ">", close = "</" + std::string(tag) + ">";
  const size_t start = xml.find(open);
  if (start == std::string_view::npos) return {};
  const size_t end = xml.find(close, start + open.size());
  if (end == std::string_view::npos) return {};
  return xml.substr(start + open.size(), end - start - open.size());
}

}  // namespace

std::string StorageErrorOf(std::string_view body) {
  const std::string_view code = XmlElementText(body, "Code"), message = XmlElementText(body, "Message");
  if (code.empty() && message.empty()) return "";
  const std::string said = code.empty()      ? std::string(message)
                           : message.empty() ? std::string(code)
                                             : std::string(code) + ": " + std::string(message);
  return Excerpt(said, kMaxServerErrorBytes);
}

HfHub::HfHub(HttpClient& http, std::string endpoint) : http_(http), endpoint_(std::move(endpoint)) {}

std::vector<MetadataRead> HfHub::ReadMetadata(std::span<const std::string> urls, TimeBudget budget) {
  std::vector<HttpRequest> requests(urls.size());
  for (size_t i = 0; i < urls.size(); ++i) {
    requests[i].url = urls[i];
    requests[i].max_body_bytes = kMaxMetadataBytes;
    if (auto cached = cache_.find(urls[i]); cached != cache_.end()) requests[i].if_none_match = cached->second.etag;
  }
  std::vector<HttpResponse> responses = http_.Perform(requests, budget);
  std::vector<MetadataRead> reads(urls.size());
  for (size_t i = 0; i < urls.size(); ++i) reads[i] = Interpret(urls[i], responses[i]);
  return reads;
}

MetadataRead HfHub::Interpret(const std::string& url, const HttpResponse& response) {
  MetadataRead read;
  std::string what = "metadata " + url;
  if (response.body_too_large) {
    read.status = MetadataRead::Status::kInvalid;
    read.detail = what + ": dataset_metadata.json is larger than 1 MiB";
    return read;
  }
  auto cached = cache_.find(url);
  if (response.status == 304 && cached != cache_.end()) {
    read.status = MetadataRead::Status::kOk;
    read.metadata = cached->second.metadata;
    read.detail = "not modified";
    return read;
  }
  if (response.status == 200) {
    read = ParseMetadata(response.body);
    if (read.status == MetadataRead::Status::kOk && !response.etag.empty())
      cache_[url] = Cached{response.etag, *read.metadata};
    if (read.status != MetadataRead::Status::kOk) read.detail = what + ": " + read.detail;
    return read;
  }
  read.detail = DescribeHttpFailure(response, what);
  if (response.status == 404) {
    read.status = MetadataRead::Status::kNotFound;
  } else if (response.status == 0 || response.status >= 500 || response.status == 429) {
    read.status = MetadataRead::Status::kUnavailable;
  } else {
    read.status = MetadataRead::Status::kRefused;
  }
  return read;
}

std::vector<SpaceAnswer> HfHub::SpaceCalls(const std::string& method, const std::string& action,
                                           std::span<const std::string> space_ids, TimeBudget budget) {
  std::vector<HttpRequest> requests(space_ids.size());
  for (size_t i = 0; i < space_ids.size(); ++i) {
    requests[i].method = method;
    requests[i].url = endpoint_ + "/api/spaces/" + space_ids[i] + "/" + action;
  }
  std::vector<HttpResponse> responses = http_.Perform(requests, budget);
  std::vector<SpaceAnswer> answers(space_ids.size());
  for (size_t i = 0; i < space_ids.size(); ++i) {
    answers[i].status = responses[i].status;
    answers[i].may_have_arrived = responses[i].may_have_arrived;
    if (responses[i].status != 200) {
      answers[i].error = DescribeHttpFailure(responses[i], "Space " + space_ids[i]);
      continue;
    }
    answers[i].stage = SpaceStageOf(responses[i].body);
  }
  return answers;
}

std::vector<SpaceAnswer> HfHub::RestartSpaces(std::span<const std::string> space_ids) {
  return SpaceCalls("POST", "restart", space_ids, std::nullopt);
}

std::vector<SpaceAnswer> HfHub::SpaceRuntimes(std::span<const std::string> space_ids, TimeBudget budget) {
  return SpaceCalls("GET", "runtime", space_ids, budget);
}

HfHub::Identity HfHub::WhoAmI(TimeBudget budget) {
  HttpRequest request;
  request.url = endpoint_ + "/api/whoami-v2";
  HttpResponse response = http_.Perform(std::span<const HttpRequest>(&request, 1), budget).front();
  Identity identity;
  if (response.status != 200) {
    identity.error = DescribeHttpFailure(response, "token check (" + endpoint_ + "/api/whoami-v2)");
    return identity;
  }
  identity.ok = true;
  identity.name = AccountNameOf(response.body);
  return identity;
}

}  // namespace orch
