#include "hub/retry.h"

#include <gtest/gtest.h>

namespace orch {
namespace {

using std::chrono::milliseconds;

TEST(ParseRateLimit, WaitsForTheResetOnlyWhenNoRequestIsLeft) {
  EXPECT_EQ(ParseRateLimit("\"api\";r=0;t=42"), milliseconds(42000));
  EXPECT_EQ(ParseRateLimit("\"resolvers\"; t=7 ; r=0"), milliseconds(7000));
  EXPECT_EQ(ParseRateLimit("\"api\";r=12;t=42"), std::nullopt) << "requests remain: not the cause of a 429";
  EXPECT_EQ(ParseRateLimit("\"api\";r=0;t=999999999999"), milliseconds(kLongestRetryAfterSeconds * 1000));
}

TEST(ParseRateLimit, AnythingUnreadableIsNothing) {
  for (const char* value :
       {"", "\"api\"", "\"api\";r=0", "\"api\";t=5", "\"api\";r=0;t=-1", "\"api\";r=0;t=1.5", "\"api\";r=x;t=1"})
    EXPECT_EQ(ParseRateLimit(value), std::nullopt) << value;
  EXPECT_EQ(ParseRateLimit(std::string(1000, 'r')), std::nullopt);
}

}  // namespace
}  // namespace orch
