#include "config/url_policy.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>

#include <memory>
#include <new>
#include <optional>

#include "util/strings.h"

namespace orch {
namespace {

struct CurlUrlDeleter {
  void operator()(CURLU* handle) const { curl_url_cleanup(handle); }
};
struct CurlFreeDeleter {
  void operator()(char* text) const { curl_free(text); }
};
using CurlUrl = std::unique_ptr<CURLU, CurlUrlDeleter>;

// The parts of a URL the policy looks at.
struct UrlParts {
  std::string scheme;               // lower case
  std::string host;                 // lower case; "" for file:// URLs
  std::optional<std::string> port;  // only when given and not the scheme's default
  bool has_credentials = false;
};

std::optional<std::string> GetPart(CURLU* handle, CURLUPart part, unsigned flags = 0) {
  char* raw = nullptr;
  if (curl_url_get(handle, part, &raw, flags) != CURLUE_OK || raw == nullptr) return std::nullopt;
  std::unique_ptr<char, CurlFreeDeleter> owned(raw);
  return std::string(raw);
}

std::optional<UrlParts> ParseUrl(std::string_view url) {
  if (url.find('\0') != std::string_view::npos) return std::nullopt;
  CurlUrl handle(curl_url());
  if (!handle) throw std::bad_alloc();
  if (curl_url_set(handle.get(), CURLUPART_URL, std::string(url).c_str(), 0) != CURLUE_OK) return std::nullopt;
  UrlParts parts;
  std::optional<std::string> scheme = GetPart(handle.get(), CURLUPART_SCHEME);
  if (!scheme) return std::nullopt;
  parts.scheme = ToLower(*scheme);
  parts.host = ToLower(GetPart(handle.get(), CURLUPART_HOST).value_or(""));
  parts.port = GetPart(handle.get(), CURLUPART_PORT, CURLU_NO_DEFAULT_PORT);
  parts.has_credentials = GetPart(handle.get(), CURLUPART_USER).has_value() ||
                          GetPart(handle.get(), CURLUPART_PASSWORD).has_value() ||
                          GetPart(handle.get(), CURLUPART_OPTIONS).has_value();
  return parts;
}

bool IsLoopbackIpv6(const in6_addr& address) {
  if (IN6_IS_ADDR_LOOPBACK(&address)) return true;
  return IN6_IS_ADDR_V4MAPPED(&address) && address.s6_addr[12] == 127;
}

}  // namespace

bool IsLoopbackHost(std::string_view host) {
  std::string name = ToLower(host);
  if (name == "localhost") return true;
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') name = name.substr(1, name.size() - 2);
  if (name.find('\0') != std::string::npos) return false;
  in_addr ipv4{};
  if (inet_pton(AF_INET, name.c_str(), &ipv4) == 1) return (ntohl(ipv4.s_addr) >> 24) == 127;
  in6_addr ipv6{};
  if (inet_pton(AF_INET6, name.c_str(), &ipv6) == 1) return IsLoopbackIpv6(ipv6);
  return false;
}

std::string UrlOrigin(std::string_view url) {
  std::optional<UrlParts> parts = ParseUrl(url);
  if (!parts) return "";
  std::string origin = parts->scheme + "://" + parts->host;
  if (parts->port) origin += ":" + *parts->port;
  return origin;
}

std::string UrlPolicyProblem(std::string_view url, bool allow_file) {
  std::optional<UrlParts> parts = ParseUrl(url);
  if (!parts) return "not a valid absolute URL (expected https://host/path)";
  if (parts->has_credentials)
    return "a user name or password inside the URL is not accepted; the token comes from HF_TOKEN";
  if (parts->scheme == "https") return "";
  if (parts->scheme == "http")
    return IsLoopbackHost(parts->host) ? "" : "plain http is allowed only for loopback hosts; use https://";
  if (parts->scheme == "file" && allow_file) return "";
  return "the scheme " + parts->scheme + ":// is not accepted here; use https://";
}

}  // namespace orch
