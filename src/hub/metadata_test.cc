#include <gtest/gtest.h>

#include "hub/hub.h"
#include "hub/retry.h"

namespace orch {
namespace {

TEST(Metadata, ReadsTheFieldsTheOriginalWorkerWrites) {
  MetadataRead read = ParseMetadata(R"({"dataset_name": "o/d", "version_tag": "v20251030_115250",
      "label_column": "urgency", "num_samples": 1600, "splits": {"train": 1280, "eval": 160, "test": 160},
      "created_at": "2025-10-30T11:53:01.110260+00:00"})");
  ASSERT_EQ(read.status, MetadataRead::Status::kOk);
  EXPECT_EQ(read.metadata->version_tag, "v20251030_115250");
  EXPECT_EQ(read.metadata->num_samples, 1600);
  EXPECT_EQ(read.metadata->rows_dropped, 0) << "the original worker does not write it";
}

TEST(Metadata, ReadsTheRowsTheWorkerDroppedWhenItSaysSo) {
  MetadataRead read = ParseMetadata(R"({"version_tag": "v2", "num_samples": 148, "rows_dropped": 2,
      "rows_left_out": {"no_text": 5, "no_label": 0, "replaced": 3}})");
  ASSERT_EQ(read.status, MetadataRead::Status::kOk) << read.detail;
  EXPECT_EQ(read.metadata->num_samples, 148);
  EXPECT_EQ(read.metadata->rows_dropped, 2);
}

TEST(Metadata, RefusesBodiesThatAreNotMetadata) {
  const char* bad[] = {"",
                       "{not json",
                       "[]",
                       R"({"num_samples": 3})",
                       R"({"version_tag": 3, "num_samples": 3})",
                       R"({"version_tag": "", "num_samples": 3})",
                       R"({"version_tag": "v", "num_samples": "3"})",
                       R"({"version_tag": "v", "num_samples": 3.5})",
                       R"({"version_tag": "v", "num_samples": -1})",
                       R"({"version_tag": "v"})",
                       R"({"version_tag": "v", "num_samples": 3, "rows_dropped": -1})",
                       R"({"version_tag": "v", "num_samples": 3, "rows_dropped": "2"})",
                       R"({"version_tag": "v", "num_samples": 3, "rows_dropped": 1.5})",
                       R"({"version_tag": "v", "num_samples": 3, "rows_dropped": null})",
                       R"({"version_tag": "v", "num_samples": 3, "rows_dropped": 18446744073709551615})",
                       R"({"version_tag": "v\n2", "num_samples": 3})",
                       R"({"version_tag": "v\u001b[31m", "num_samples": 3})"};
  for (const char* body : bad) {
    MetadataRead read = ParseMetadata(body);
    EXPECT_EQ(read.status, MetadataRead::Status::kInvalid) << body;
    EXPECT_FALSE(read.detail.empty()) << body;
  }
}

TEST(Metadata, NumbersAndTagsHaveUpperBounds) {
  const std::string long_tag(kMaxVersionTagBytes + 1, 'v');
  const std::pair<std::string, std::string> cases[] = {
      {R"({"version_tag": "v", "num_samples": 1000000000001})", "num_samples"},
      {R"({"version_tag": "v", "num_samples": 1, "rows_dropped": 1000000000001})", "rows_dropped"},
      {R"({"version_tag": ")" + long_tag + R"(", "num_samples": 1})", "at most 256"},
      {R"({"version_tag": "v1\nINFO forged log line", "num_samples": 1})", "control character"},
  };
  for (const auto& [body, named] : cases) {
    MetadataRead read = ParseMetadata(body);
    EXPECT_EQ(read.status, MetadataRead::Status::kInvalid) << body;
    EXPECT_NE(read.detail.find(named), std::string::npos) << read.detail;
  }
  MetadataRead largest = ParseMetadata(R"({"version_tag": ")" + long_tag.substr(1) +
                                       R"(", "num_samples": 1000000000000, "rows_dropped": 1000000000000})");
  ASSERT_EQ(largest.status, MetadataRead::Status::kOk) << largest.detail;
  EXPECT_EQ(largest.metadata->num_samples, kMaxDatasetRows);
}

TEST(Metadata, RefusesBodiesOverOneMebibyte) {
  std::string body = R"({"version_tag": "v", "num_samples": 1, "pad": ")" + std::string(kMaxMetadataBytes, 'x') + "\"}";
  EXPECT_EQ(ParseMetadata(body).status, MetadataRead::Status::kInvalid);
}

TEST(Retry, OnlyRateLimitsAndServerErrorsAreRetried) {
  EXPECT_TRUE(IsRetryableStatus(429));
  EXPECT_TRUE(IsRetryableStatus(500));
  EXPECT_TRUE(IsRetryableStatus(503));
  EXPECT_FALSE(IsRetryableStatus(401));
  EXPECT_FALSE(IsRetryableStatus(403));
  EXPECT_FALSE(IsRetryableStatus(404));
  EXPECT_FALSE(IsRetryableStatus(200));
}

TEST(Retry, BackoffDoublesWithJitterAndStaysUnderTheCap) {
  std::mt19937_64 random(42);
  for (int retry = 1; retry <= 10; ++retry) {
    double cap = std::min(30.0, 0.5 * (1 << (retry - 1)));
    for (int sample = 0; sample < 50; ++sample) {
      double seconds = Backoff(retry, 0.5, 30, random).count() / 1000.0;
      EXPECT_GE(seconds, cap / 2 - 0.001);
      EXPECT_LE(seconds, cap + 0.001);
    }
  }
}

TEST(Retry, RetryAfterInSecondsOrAsADate) {
  EXPECT_EQ(ParseRetryAfter("7", 0), std::chrono::milliseconds(7000));
  EXPECT_EQ(ParseRetryAfter(" 0 ", 0), std::chrono::milliseconds(0));
  // Sun, 06 Nov 1994 08:49:37 GMT is 784111777.
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 784111770), std::chrono::milliseconds(7000));
  EXPECT_EQ(ParseRetryAfter("", 0), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("soon", 0), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("-3", 0), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("7\x1b", 0), std::nullopt);
}

TEST(Retry, RetryAfterWaitsAYearAtMostWhateverItSays) {
  const std::chrono::milliseconds year(kLongestRetryAfterSeconds * 1000);
  EXPECT_EQ(ParseRetryAfter("9223372036854775807", 0), year) << "no overflow";
  EXPECT_EQ(ParseRetryAfter("99999999999999999999999", 0), year);
  EXPECT_EQ(ParseRetryAfter("-99999999999999999999999", 0), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT", 0), year);
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", 4000000000LL), std::chrono::milliseconds(0))
      << "a date past is no wait";
  EXPECT_EQ(ParseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", -9223372036854775807LL - 1), year)
      << "a clock far behind waits the longest, without overflow";
}

}  // namespace
}  // namespace orch
