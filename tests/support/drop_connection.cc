#include "support/drop_connection.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace orch::testing {
namespace {

bool SocketAddressIs(const sockaddr_storage& address, const std::string& ip, int port) {
  char text[INET6_ADDRSTRLEN] = {};
  int actual_port = -1;
  if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
    actual_port = ntohs(v4.sin_port);
  } else if (address.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
    actual_port = ntohs(v6.sin6_port);
  } else {
    return false;
  }
  return ip == text && port == actual_port;
}

// httplib does not hand its socket to handlers, so the connection is found among this process's
// descriptors by its two endpoints (unique while it is open) and shut down.
bool ShutdownConnection(const httplib::Request& request) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", error)) {
    int fd = -1;
    try {
      fd = std::stoi(entry.path().filename().string());
    } catch (const std::exception&) {
      continue;
    }
    sockaddr_storage local{}, peer{};
    socklen_t local_size = sizeof local, peer_size = sizeof peer;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_size) != 0) continue;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0) continue;
    if (SocketAddressIs(local, request.local_addr, request.local_port) &&
        SocketAddressIs(peer, request.remote_addr, request.remote_port)) {
      return shutdown(fd, SHUT_RDWR) == 0;
    }
  }
  return false;
}

}  // namespace

bool DropConnection(const httplib::Request& request, httplib::Response& response) {
  if (ShutdownConnection(request)) return true;
  response.set_content_provider(1, "application/json", [](size_t, size_t, httplib::DataSink&) { return false; });
  return false;
}

}  // namespace orch::testing
