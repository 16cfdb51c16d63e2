#include "workers/stratified_split.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "workers/row_keys.h"

namespace orch {
namespace {

// Adds `count` rows of class `klass` with well-spread keys; returns them as (key, position).
std::vector<std::pair<uint64_t, uint32_t>> AddRows(StratifiedSplitter& splitter, uint32_t klass, size_t count,
                                                   uint64_t salt) {
  std::vector<std::pair<uint64_t, uint32_t>> rows;
  for (size_t i = 0; i < count; ++i) {
    const uint64_t key = Mix64(salt * 1000003 + i);
    rows.push_back({key, splitter.Add(klass, key, RowSource::kMisclassified)});
  }
  return rows;
}

TEST(StratifiedSplit, ClassSizesRoundTheTenthsHalfDownTowardsTrain) {
  struct Case {
    size_t rows, train, validation, test;
  };
  for (const Case& c : std::vector<Case>{{0, 0, 0, 0},
                                         {1, 1, 0, 0},
                                         {2, 2, 0, 0},
                                         {5, 5, 0, 0},
                                         {6, 4, 1, 1},
                                         {10, 8, 1, 1},
                                         {15, 13, 1, 1},
                                         {16, 12, 2, 2},
                                         {25, 21, 2, 2},
                                         {26, 20, 3, 3},
                                         {100, 80, 10, 10},
                                         {1600, 1280, 160, 160}}) {
    const SplitSizes sizes = ClassSplitSizes(c.rows);
    EXPECT_EQ(sizes.train, c.train) << c.rows << " rows";
    EXPECT_EQ(sizes.validation, c.validation) << c.rows << " rows";
    EXPECT_EQ(sizes.test, c.test) << c.rows << " rows";
  }
  for (size_t rows = 1; rows < 1000; ++rows) {
    const SplitSizes sizes = ClassSplitSizes(rows);
    ASSERT_EQ(sizes.train + sizes.validation + sizes.test, rows);
    ASSERT_GE(sizes.train, sizes.validation + sizes.test) << rows;  // train always holds most of a class
  }
}

TEST(StratifiedSplit, EachClassIsSplitOnItsOwnInExactProportions) {
  StratifiedSplitter splitter;
  const std::map<uint32_t, size_t> sizes = {{0, 400}, {3, 1}, {1, 57}, {2, 6}, {7, 1200}};
  std::map<uint32_t, std::vector<std::pair<uint64_t, uint32_t>>> rows;
  for (const auto& [klass, count] : sizes) rows[klass] = AddRows(splitter, klass, count, klass);
  splitter.Finish();
  for (const auto& [klass, count] : sizes) {
    SplitSizes counted;
    for (const auto& [key, position] : rows[klass]) {
      const Split split = splitter.SplitOf(klass, key, RowSource::kMisclassified, position);
      ++(split == Split::kTrain ? counted.train : split == Split::kValidation ? counted.validation : counted.test);
    }
    const SplitSizes expected = ClassSplitSizes(count);
    EXPECT_EQ(counted.train, expected.train) << "class " << klass;
    EXPECT_EQ(counted.validation, expected.validation) << "class " << klass;
    EXPECT_EQ(counted.test, expected.test) << "class " << klass;
    EXPECT_EQ(splitter.SizesOf(klass).validation, expected.validation);
    EXPECT_EQ(splitter.RowsOf(klass), count);
  }
  EXPECT_EQ(splitter.RowsOf(5), 0u) << "a class never added";
  EXPECT_EQ(splitter.SizesOf(9).train, 0u);
}

TEST(StratifiedSplit, TheLowestKeysGoToValidationTheNextToTest) {
  StratifiedSplitter splitter;
  for (uint64_t key = 20; key >= 1; --key) splitter.Add(0, key * 10, RowSource::kPool);  // positions 0..19
  splitter.Finish();
  std::vector<Split> by_key;
  for (uint64_t key = 1; key <= 20; ++key)
    by_key.push_back(splitter.SplitOf(0, key * 10, RowSource::kPool, static_cast<uint32_t>(20 - key)));
  EXPECT_EQ(by_key[0], Split::kValidation);
  EXPECT_EQ(by_key[1], Split::kValidation);
  EXPECT_EQ(by_key[2], Split::kTest);
  EXPECT_EQ(by_key[3], Split::kTest);
  for (size_t i = 4; i < 20; ++i) EXPECT_EQ(by_key[i], Split::kTrain) << i;
}

TEST(StratifiedSplit, RowsWithEqualKeysAreRankedBySourceThenByTheOrderTheyWereAdded) {
  StratifiedSplitter splitter;
  // Eleven rows: the keys 5, 7, 7, 7, 9, ...; validation takes one row, test one.
  const std::pair<uint64_t, RowSource> rows[] = {
      {9, RowSource::kPool}, {7, RowSource::kPool}, {5, RowSource::kPool},          {7, RowSource::kMisclassified},
      {9, RowSource::kPool}, {7, RowSource::kPool}, {9, RowSource::kMisclassified}, {9, RowSource::kPool},
      {9, RowSource::kPool}, {9, RowSource::kPool}, {9, RowSource::kPool}};
  for (const auto& [key, source] : rows) splitter.Add(4, key, source);
  splitter.Finish();
  EXPECT_EQ(splitter.SplitOf(4, 5, RowSource::kPool, 2), Split::kValidation);
  EXPECT_EQ(splitter.SplitOf(4, 7, RowSource::kMisclassified, 3), Split::kTest) << "a misclassified row first";
  EXPECT_EQ(splitter.SplitOf(4, 7, RowSource::kPool, 1), Split::kTrain);
  EXPECT_EQ(splitter.SplitOf(4, 7, RowSource::kPool, 5), Split::kTrain);
  EXPECT_EQ(splitter.SplitOf(4, 9, RowSource::kMisclassified, 6), Split::kTrain);

  StratifiedSplitter same;  // every key and source equal: the first rows added go to validation, then test
  for (int i = 0; i < 26; ++i) same.Add(0, 42, RowSource::kPool);
  same.Finish();
  for (uint32_t position = 0; position < 26; ++position)
    EXPECT_EQ(same.SplitOf(0, 42, RowSource::kPool, position), position < 3   ? Split::kValidation
                                                               : position < 6 ? Split::kTest
                                                                              : Split::kTrain)
        << position;
}

TEST(StratifiedSplit, WhereARowGoesDoesNotDependOnTheOrderRowsComeIn) {
  std::vector<std::pair<uint64_t, RowSource>> rows;
  for (uint64_t i = 0; i < 500; ++i)
    rows.push_back({Mix64(i), i % 3 == 0 ? RowSource::kPool : RowSource::kMisclassified});
  StratifiedSplitter forwards, backwards;
  std::map<uint64_t, uint32_t> forward_position, backward_position;
  for (const auto& [key, source] : rows) forward_position[key] = forwards.Add(0, key, source);
  for (auto row = rows.rbegin(); row != rows.rend(); ++row)
    backward_position[row->first] = backwards.Add(0, row->first, row->second);
  forwards.Finish();
  backwards.Finish();
  for (const auto& [key, source] : rows)
    EXPECT_EQ(forwards.SplitOf(0, key, source, forward_position[key]),
              backwards.SplitOf(0, key, source, backward_position[key]));
}

// The shuffler's output is part of the datasets' reproducibility: pin it down, so a change to it
// (which would silently change every dataset built from the same data and seed) fails here.
TEST(StratifiedSplit, SeededShufflerIsPinnedDown) {
  SeededShuffler shuffler(42);
  std::vector<uint64_t> draws;
  for (int i = 0; i < 6; ++i) draws.push_back(shuffler.Below(1000));
  std::vector<int> items = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  shuffler.Shuffle(items);
  // The reference values, computed from std::mt19937_64's standard-fixed output.
  std::mt19937_64 engine(42);
  std::vector<uint64_t> expected_draws;
  for (int i = 0; i < 6; ++i) {
    uint64_t draw = engine();
    while (draw < (0 - uint64_t{1000}) % 1000) draw = engine();
    expected_draws.push_back(draw % 1000);
  }
  EXPECT_EQ(draws, expected_draws);
  EXPECT_EQ(items, (std::vector<int>{7, 4, 5, 0, 2, 1, 3, 8, 9, 6}));
}

TEST(StratifiedSplit, BelowCoversItsRangeUniformly) {
  SeededShuffler shuffler(1);
  std::vector<int> counts(6, 0);
  for (int i = 0; i < 60000; ++i) ++counts[shuffler.Below(6)];
  for (int count : counts) EXPECT_NEAR(count, 10000, 500);
  EXPECT_EQ(shuffler.Below(1), 0u);
}

}  // namespace
}  // namespace orch
