#include "config/url_policy.h"

#include <gtest/gtest.h>

namespace orch {
namespace {

TEST(UrlPolicyTest, LoopbackHosts) {
  for (std::string_view host :
       {"localhost", "LocalHost", "127.0.0.1", "127.255.255.254", "127.1.2.3", "[::1]", "::1", "[::ffff:127.0.0.1]"})
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  for (std::string_view host : {"", "128.0.0.1", "10.0.0.1", "localhost.evil.com", "127.0.0.1.evil.com", "[::2]",
                                "evil-localhost", "0.0.0.0", "[::]", "huggingface.co"})
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
}

TEST(UrlPolicyTest, OriginIsLowerCaseWithoutDefaultPort) {
  EXPECT_EQ(UrlOrigin("HTTPS://HuggingFace.CO/api/spaces?x=1#f"), "https://huggingface.co");
  EXPECT_EQ(UrlOrigin("https://hub.example:443/x"), "https://hub.example");
  EXPECT_EQ(UrlOrigin("http://hub.example:80"), "http://hub.example");
  EXPECT_EQ(UrlOrigin("https://hub.example:8443/x"), "https://hub.example:8443");
  EXPECT_EQ(UrlOrigin("http://127.0.0.1:8080/a/b"), "http://127.0.0.1:8080");
  EXPECT_EQ(UrlOrigin("http://[::1]:9000/"), "http://[::1]:9000");
  EXPECT_EQ(UrlOrigin("https://user:pw@hub.example/x"), "https://hub.example");
}

TEST(UrlPolicyTest, OriginOfSomethingThatIsNotAUrlIsEmpty) {
  EXPECT_EQ(UrlOrigin(""), "");
  EXPECT_EQ(UrlOrigin("huggingface.co/api"), "");
  EXPECT_EQ(UrlOrigin("https://bad host/"), "");
  EXPECT_EQ(UrlOrigin(std::string_view("https://a\0b/", 12)), "");
}

TEST(UrlPolicyTest, HttpsAndLoopbackHttpAreAccepted) {
  for (std::string_view url : {"https://huggingface.co", "https://hub.example:8443/api/", "http://localhost:8080",
                               "http://127.0.0.1/x", "http://[::1]:80/", "http://127.0.0.5:1/dataset_metadata.json"})
    EXPECT_EQ(UrlPolicyProblem(url, false), "") << url;
}

TEST(UrlPolicyTest, PlainHttpElsewhereIsRefused) {
  for (std::string_view url :
       {"http://huggingface.co", "http://10.0.0.1/", "http://localhost.evil.com/", "http://evil.com#@localhost/"})
    EXPECT_EQ(UrlPolicyProblem(url, false), "plain http is allowed only for loopback hosts; use https://") << url;
}

TEST(UrlPolicyTest, CredentialsInsideTheUrlAreRefused) {
  std::string problem = UrlPolicyProblem("https://user:pw@hub.example/", false);
  EXPECT_NE(problem.find("user name or password"), std::string::npos) << problem;
  EXPECT_NE(UrlPolicyProblem("http://localhost@evil.com/", false), "");
  // Parsers disagree on where this host ends; refused either way.
  EXPECT_NE(UrlPolicyProblem("http://evil.com\\@localhost/", false), "");
}

TEST(UrlPolicyTest, FileUrlsOnlyWhereAllowed) {
  EXPECT_EQ(UrlPolicyProblem("file:///srv/metadata/dataset_metadata.json", true), "");
  EXPECT_EQ(UrlPolicyProblem("file:///srv/metadata/dataset_metadata.json", false),
            "the scheme file:// is not accepted here; use https://");
}

TEST(UrlPolicyTest, OtherSchemesAndNonUrlsAreRefused) {
  EXPECT_EQ(UrlPolicyProblem("ftp://hub.example/x", true), "the scheme ftp:// is not accepted here; use https://");
  for (std::string_view url : {"", "huggingface.co", "https://", "https://bad host/", "/etc/passwd"})
    EXPECT_EQ(UrlPolicyProblem(url, true), "not a valid absolute URL (expected https://host/path)") << url;
}

}  // namespace
}  // namespace orch
