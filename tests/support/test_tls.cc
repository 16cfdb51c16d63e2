#include "support/test_tls.h"

#include <fstream>
#include <stdexcept>
#include <vector>

#include "support/subprocess.h"

namespace orch::testing {
namespace {

void Openssl(const std::vector<std::string>& arguments, const std::string& dir) {
  std::vector<std::string> argv = {"/usr/bin/openssl"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  const ProcessResult result = Subprocess::Run(argv, {{"PATH", "/usr/bin:/bin"}}, dir, std::chrono::seconds(60));
  if (result.exit_code != 0) throw std::runtime_error("openssl " + arguments.front() + " failed: " + result.err);
}

}  // namespace

TestTls MakeTestTls(const std::string& dir) {
  const TestTls tls{dir + "/ca.pem", dir + "/server.pem", dir + "/server.key"};
  const std::vector<std::string> ec_key = {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"};
  std::vector<std::string> ca = {"req", "-x509"};
  ca.insert(ca.end(), ec_key.begin(), ec_key.end());
  ca.insert(ca.end(), {"-keyout", dir + "/ca.key", "-out", tls.ca_file, "-days", "2", "-subj",
                       "/CN=orchestrator test authority"});
  Openssl(ca, dir);
  std::vector<std::string> request = {"req"};
  request.insert(request.end(), ec_key.begin(), ec_key.end());
  request.insert(request.end(), {"-keyout", tls.key_file, "-out", dir + "/server.csr", "-subj", "/CN=127.0.0.1"});
  Openssl(request, dir);
  std::ofstream(dir + "/server.ext")
      << "subjectAltName=IP:127.0.0.1,IP:127.0.0.2,DNS:localhost\nbasicConstraints=CA:FALSE\n";
  Openssl({"x509", "-req", "-in", dir + "/server.csr", "-CA", tls.ca_file, "-CAkey", dir + "/ca.key", "-CAcreateserial",
           "-out", tls.cert_file, "-days", "2", "-extfile", dir + "/server.ext"},
          dir);
  return tls;
}

}  // namespace orch::testing
