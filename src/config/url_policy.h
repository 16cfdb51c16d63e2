// Which URLs the orchestrator may fetch from, and how a URL's origin is written.
//
// The Hub endpoint and the metadata URLs receive the HF token, so they must use https; plain http
// is accepted only towards this machine (loopback), where nothing travels over a network.
// URLs are parsed with libcurl's URL parser, the same one that later fetches them.
#pragma once

#include <string>
#include <string_view>

namespace orch {

// True for "localhost", any 127.0.0.0/8 address, "::1" and "[::1]" (and ::ffff:127.x.y.z), in any case.
bool IsLoopbackHost(std::string_view host);

// "scheme://host[:port]" with scheme and host in lower case and the scheme's default port left
// out, e.g. "https://huggingface.co", "http://127.0.0.1:8080". "" when `url` cannot be parsed.
std::string UrlOrigin(std::string_view url);

// Checks a URL that the token may be sent to: https, or http towards a loopback host, or
// file:// when `allow_file`; never with a user name or password in it.
// Returns "" when acceptable, otherwise the reason (without the URL).
std::string UrlPolicyProblem(std::string_view url, bool allow_file);

}  // namespace orch
