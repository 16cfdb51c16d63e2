// A certificate authority of the test's own and a certificate it signed for 127.0.0.1, 127.0.0.2
// (where the fake Hub's storage listens) and localhost, made with the openssl command, so that
// servers in tests speak HTTPS the way the Hub and a webhook do, and the program verifies them
// against that authority (HTTP_CA_BUNDLE).
#pragma once

#include <string>

namespace orch::testing {

struct TestTls {
  std::string ca_file;    // the authority's certificate (PEM): what HTTP_CA_BUNDLE names
  std::string cert_file;  // the server's certificate (PEM), signed by the authority
  std::string key_file;   // the server's private key (PEM)
};

// Writes the authority and the server's certificate and key into `dir`. Throws std::runtime_error
// with openssl's output when it cannot.
TestTls MakeTestTls(const std::string& dir);

}  // namespace orch::testing
