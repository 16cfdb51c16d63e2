#include "hub/response_headers.h"

#include <gtest/gtest.h>

#include <string>

namespace orch {
namespace {

TEST(ResponseHeaders, KeepsWhatTheClientActsOn) {
  ResponseHeaders headers;
  for (const char* line : {"HTTP/1.1 302 Found\r\n", "ETag: \"a1b2\"\r\n", "location:  /next?x=1 \r\n",
                           "Retry-After: 120\r\n", "Content-Length: 57\r\n", "X-Other: y\r\n", "\r\n"})
    EXPECT_TRUE(headers.Take(line));
  EXPECT_EQ(headers.etag(), "\"a1b2\"");
  EXPECT_EQ(headers.location(), "/next?x=1");
  EXPECT_EQ(headers.retry_after(), "120");
  EXPECT_EQ(headers.content_length(), 57u);
}

TEST(ResponseHeaders, KeepsTheHeadersCallersReadByLowerCaseName) {
  ResponseHeaders headers;
  for (const char* line : {"HTTP/1.1 404 Not Found\r\n", "X-Request-Id: Root=1-abc\r\n",
                           "x-error-code: RepoNotFound\r\n", "Link: <https://hub/api?cursor=2>; rel=\"next\"\r\n",
                           "RateLimit: \"api\";r=0;t=12\r\n", "X-Request-Idle: no\r\n", "\r\n"})
    EXPECT_TRUE(headers.Take(line));
  EXPECT_EQ(headers.kept().at("x-request-id"), "Root=1-abc");
  EXPECT_EQ(headers.kept().at("x-error-code"), "RepoNotFound");
  EXPECT_EQ(headers.kept().at("link"), "<https://hub/api?cursor=2>; rel=\"next\"");
  EXPECT_EQ(headers.kept().at("ratelimit"), "\"api\";r=0;t=12");
  EXPECT_EQ(headers.kept().size(), 4u) << "X-Request-Idle is another header";
  headers.Take("HTTP/1.1 200 OK\r\n");
  EXPECT_TRUE(headers.kept().empty()) << "a new answer forgets the last one's";
  headers.Take(("X-Request-Id: " + std::string(ResponseHeaders::kMaxKeptBytes + 1, 'a') + "\r\n").c_str());
  headers.Take("X-Error-Code: Bad\x01Code\r\n");
  EXPECT_TRUE(headers.kept().empty()) << "an overlong value or a control byte is dropped";
}

TEST(ResponseHeaders, AStatusLineStartsANewAnswer) {
  ResponseHeaders headers;
  headers.Take("HTTP/1.1 100 Continue\r\n");
  headers.Take("ETag: \"old\"\r\n");
  headers.Take("http/2 200\r\n");
  EXPECT_EQ(headers.etag(), "");
}

TEST(ResponseHeaders, DropsValuesThatCannotBeSentBackOrShownAsTheyAre) {
  ResponseHeaders headers;
  headers.Take(std::string("ETag: \"a\rInjected: 1\"\r\n"));
  headers.Take(std::string("Location: /x\x1b[2Jy\r\n"));
  headers.Take(std::string("Retry-After: 5\x00\r\n", 17));
  headers.Take("Content-Length: 99999999999999999999999\r\n");
  EXPECT_EQ(headers.etag(), "");
  EXPECT_EQ(headers.location(), "");
  EXPECT_EQ(headers.retry_after(), "");
  EXPECT_EQ(headers.content_length(), std::nullopt);
  headers.Take("ETag: \"" + std::string(ResponseHeaders::kMaxEtagBytes, 'e') + "\"\r\n");
  EXPECT_EQ(headers.etag(), "") << "too long to send back";
  headers.Take("Location: /" + std::string(ResponseHeaders::kMaxLocationBytes, 'l') + "\r\n");
  EXPECT_EQ(headers.location(), "") << "too long to follow";
}

TEST(ResponseHeaders, RefusesAnAnswerWhoseHeadersExceedTheirBound) {
  ResponseHeaders headers;
  EXPECT_TRUE(headers.Take("HTTP/1.1 200 OK\r\n"));
  const std::string filler = "X-Filler: " + std::string(1000, 'a') + "\r\n";
  size_t taken = 0;
  while (headers.Take(filler)) ASSERT_LT(++taken, 100u);
  EXPECT_EQ(taken, (ResponseHeaders::kMaxHeaderBytes - 17) / filler.size());
  EXPECT_TRUE(headers.Take("HTTP/1.1 200 OK\r\n")) << "the next answer starts afresh";
}

}  // namespace
}  // namespace orch
