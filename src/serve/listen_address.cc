#include "serve/listen_address.h"

#include <algorithm>

#include "util/strings.h"

namespace orch {
namespace {

bool IsHostCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

bool IsIpv6Character(char c) {
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' || c == '.';
}

}  // namespace

std::optional<ListenAddress> ParseListenAddress(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  const std::optional<int64_t> port = ParseInteger(text.substr(colon + 1));
  if (!port || *port < 0 || *port > 65535 || text.substr(colon + 1).starts_with('-')) return std::nullopt;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (host.empty() || !std::all_of(host.begin(), host.end(), IsIpv6Character)) return std::nullopt;
  } else if (host.empty() || !std::all_of(host.begin(), host.end(), IsHostCharacter)) {
    return std::nullopt;
  }
  return ListenAddress{std::string(host), static_cast<int>(*port)};
}

std::string FormatListenAddress(const std::string& host, int port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace orch
