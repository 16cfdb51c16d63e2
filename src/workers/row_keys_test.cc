#include "workers/row_keys.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <set>

namespace orch {
namespace {

TEST(RowKeys, UnmixUndoesMix) {
  for (uint64_t value :
       {uint64_t{0}, uint64_t{1}, uint64_t{42}, uint64_t{0x8000000000000000ULL}, std::numeric_limits<uint64_t>::max()})
    EXPECT_EQ(Unmix64(Mix64(value)), value) << value;
  for (uint64_t value = 1; value < (uint64_t{1} << 62); value = value * 3 + 7) EXPECT_EQ(Unmix64(Mix64(value)), value);
}

TEST(RowKeys, TheDrawKeyGivesTheIdBack) {
  for (int64_t seed : {int64_t{0}, int64_t{42}, int64_t{-7}}) {
    const RowKeys keys(seed);
    for (int64_t id : {int64_t{1}, int64_t{2}, int64_t{0}, int64_t{-1}, int64_t{123456789012},
                       std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()})
      EXPECT_EQ(keys.DrawnId(keys.Draw(id)), id) << "seed " << seed << ", id " << id;
  }
}

TEST(RowKeys, EachOrderAndSourceHasItsOwnKeysAndEachSeedOthers) {
  const RowKeys keys(42);
  std::set<uint64_t> seen;
  for (int64_t id = 1; id <= 1000; ++id) {
    seen.insert(keys.Draw(id));
    seen.insert(keys.Rank(RowSource::kMisclassified, id));
    seen.insert(keys.Rank(RowSource::kPool, id));
    seen.insert(keys.Order(RowSource::kMisclassified, id));
    seen.insert(keys.Order(RowSource::kPool, id));
  }
  EXPECT_EQ(seen.size(), 5000u);
  EXPECT_NE(RowKeys(43).Draw(1), keys.Draw(1));
  EXPECT_EQ(RowKeys(42).Draw(1), keys.Draw(1));
}

TEST(RowKeys, ConsecutiveIdsSpreadOverTheWholeRange) {
  const RowKeys keys(1);
  int high = 0, odd = 0;
  for (int64_t id = 1; id <= 10000; ++id) {
    high += keys.Order(RowSource::kPool, id) >> 63;
    odd += keys.Order(RowSource::kPool, id) & 1;
  }
  EXPECT_NEAR(high, 5000, 300);
  EXPECT_NEAR(odd, 5000, 300);
}

// The keys decide every dataset's sample, split and order: pin them down, so that a change (which
// would silently change every dataset built from the same data and seed) fails here.
TEST(RowKeys, KeysArePinnedDown) {
  EXPECT_EQ(Mix64(1), 0x5692161D100B05E5ULL);
  const RowKeys keys(42);
  // Reference values from an independent implementation of SplitMix64.
  EXPECT_EQ(keys.Draw(1), 0x57E1FABA65107204ULL);
  EXPECT_EQ(keys.Rank(RowSource::kMisclassified, 1), 0xFC991BCA1A1AA1AEULL);
  EXPECT_EQ(keys.Order(RowSource::kPool, 1), 0x9162AEA6BFA4C3D5ULL);
}

}  // namespace
}  // namespace orch
