#include "util/base64.h"

#include <gtest/gtest.h>

namespace orch {
namespace {

TEST(Base64, FollowsRfc4648InBothAlphabets) {
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_EQ(Base64("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64(std::string("\0\xfb\xff", 3)), "APv/");
  EXPECT_EQ(Base64Url("\xfb\xff"), "-_8=");  // "+/8=" in the standard alphabet
  EXPECT_EQ(Base64("\xfb\xff"), "+/8=");
}

}  // namespace
}  // namespace orch
