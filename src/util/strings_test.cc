#include "util/strings.h"

#include <gtest/gtest.h>

#include <limits>

namespace orch {
namespace {

TEST(StringsTest, NumbersAreDisplayedShortest) {
  EXPECT_EQ(FormatNumber(60), "60");
  EXPECT_EQ(FormatNumber(0.5), "0.5");
  EXPECT_EQ(FormatNumber(0.1 + 0.2), "0.30000000000000004");
}

TEST(StringsTest, FixedNumbersHaveExactlyTheDecimalsAsked) {
  EXPECT_EQ(FormatFixed(0.8125, 4), "0.8125");
  EXPECT_EQ(FormatFixed(1.5, 2), "1.50");
  EXPECT_EQ(FormatFixed(2.0 / 3.0, 4), "0.6667");
  EXPECT_EQ(FormatFixed(0, 4), "0.0000");
  EXPECT_EQ(FormatFixed(-0.25, 1), "-0.2") << "rounded to even, as printf does";
  EXPECT_EQ(FormatFixed(1e300, 2).size(), 304u) << "the largest doubles still fit";
  EXPECT_EQ(FormatFixed(std::numeric_limits<double>::quiet_NaN(), 4), "nan");
}

}  // namespace
}  // namespace orch
