// Where `orchestrator serve` listens: HOST:PORT from --listen or SERVE_LISTEN.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace orch {

struct ListenAddress {
  std::string host;  // an IPv4 or IPv6 address or a host name, without brackets
  int port = 0;      // 0: any free port, chosen when binding
};

// "127.0.0.1:8080", "[::1]:8080", "localhost:8080", "0.0.0.0:8080"; the port from 0 to 65535.
// Nothing for anything else (no port, an IPv6 address without brackets, a space...).
std::optional<ListenAddress> ParseListenAddress(std::string_view text);

// "127.0.0.1:8080", or "[::1]:8080" for an IPv6 address.
std::string FormatListenAddress(const std::string& host, int port);

}  // namespace orch
