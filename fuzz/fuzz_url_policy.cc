// Fuzz target for the URL policy: UrlPolicyProblem, UrlOrigin and IsLoopbackHost decide where the
// HF token may be sent, so their answers must agree with each other for any text. None of them
// throws on bad input (they answer with a reason or ""), so any exception here is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/url_policy.h"
#include "fuzz_check.h"

namespace orch::fuzz {
namespace {

std::string ToUpper(std::string_view text) {
  std::string upper(text);
  for (char& c : upper)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return upper;
}

bool HasUpperCase(std::string_view text) {
  for (char c : text)
    if (c >= 'A' && c <= 'Z') return true;
  return false;
}

// An origin is compared with another to decide whether the token goes along, so it must be
// exactly scheme://host[:port]: lower case, nothing that could hide a path, user or query.
void CheckOrigin(std::string_view origin) {
  size_t separator = origin.find("://");
  Check(separator != std::string_view::npos && separator > 0, "an origin starts with scheme://");
  std::string_view scheme = origin.substr(0, separator);
  std::string_view authority = origin.substr(separator + 3);
  Check(!HasUpperCase(scheme) && !HasUpperCase(authority), "an origin is in lower case");
  Check(authority.find_first_of("/?#@\\ ") == std::string_view::npos, "an origin has no path, query or user");
  Check(!HasControlByte(origin), "an origin has no control byte");
}

// The host part of an origin: after scheme://, without a port.
std::string_view OriginHost(std::string_view origin) {
  std::string_view authority = origin.substr(origin.find("://") + 3);
  if (authority.starts_with('[')) return authority.substr(0, authority.find(']') + 1);
  return authority.substr(0, authority.find(':'));
}

void CheckUrl(std::string_view url) {
  std::string problem = UrlPolicyProblem(url, /*allow_file=*/false);
  std::string problem_with_file = UrlPolicyProblem(url, /*allow_file=*/true);
  std::string origin = UrlOrigin(url);
  Check(!HasControlByte(problem) && !HasControlByte(problem_with_file), "a problem has no control byte");
  // A reason may name the scheme but nothing after it; '@' would mean user info was repeated.
  Check(problem.find('@') == std::string::npos && problem_with_file.find('@') == std::string::npos,
        "a problem does not repeat the URL's user info");
  if (problem.empty()) Check(problem_with_file.empty(), "allowing file:// refuses nothing that was accepted");
  if (!problem_with_file.empty()) return;
  Check(!origin.empty(), "an accepted URL has an origin");
  CheckOrigin(origin);
  if (!problem.empty()) {
    Check(origin.starts_with("file://"), "allow_file accepts only file:// beyond the usual");
    return;
  }
  bool https = origin.starts_with("https://");
  Check(https || origin.starts_with("http://"), "an accepted URL is http(s)");
  if (!https) Check(IsLoopbackHost(OriginHost(origin)), "plain http is accepted only towards a loopback host");
}

void CheckHost(std::string_view host) {
  bool loopback = IsLoopbackHost(host);
  Check(loopback == IsLoopbackHost(ToUpper(host)), "IsLoopbackHost ignores case");
  if (loopback) Check(!host.empty(), "the empty host is not loopback");
}

}  // namespace
}  // namespace orch::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  orch::fuzz::CheckUrl(text);
  orch::fuzz::CheckHost(text);
  return 0;
}
