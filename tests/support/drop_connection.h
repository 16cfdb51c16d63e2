// Ending an HTTP exchange without any answer, for the test servers built on cpp-httplib (the fake
// Hub, the webhook receiver): what a client sees when a server, or a gateway in front of it, dies
// after reading the request.
#pragma once

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace orch::testing {

// Closes the connection `request` came on before any byte of an answer goes out. Returns false
// when no answer can be withheld, having then set `response` to promise a body that never comes
// (headers, then the connection drops).
bool DropConnection(const httplib::Request& request, httplib::Response& response);

}  // namespace orch::testing
