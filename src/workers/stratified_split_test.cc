#include "workers/stratified_split.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

namespace orch {
namespace {

std::vector<int64_t> Classes(std::initializer_list<std::pair<int64_t, size_t>> counts) {
  std::vector<int64_t> labels;
  for (const auto& [label, count] : counts) labels.insert(labels.end(), count, label);
  return labels;
}

std::map<int64_t, size_t> CountByClass(const std::vector<size_t>& rows, const std::vector<int64_t>& labels) {
  std::map<int64_t, size_t> counts;
  for (size_t row : rows) ++counts[labels[row]];
  return counts;
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

TEST(StratifiedSplit, EveryRowGoesToExactlyOneSplitStratifiedByClass) {
  const std::vector<int64_t> labels = Classes({{0, 400}, {3, 1}, {1, 57}, {2, 6}, {7, 1200}});
  const SplitIndices split = StratifiedSplit(labels, 42);
  std::vector<size_t> all;
  for (const auto* part : {&split.train, &split.validation, &split.test})
    all.insert(all.end(), part->begin(), part->end());
  std::sort(all.begin(), all.end());
  std::vector<size_t> expected(labels.size());
  std::iota(expected.begin(), expected.end(), 0);
  EXPECT_EQ(all, expected);

  const auto train = CountByClass(split.train, labels);
  const auto validation = CountByClass(split.validation, labels);
  const auto test = CountByClass(split.test, labels);
  for (const auto& [label, rows] : std::map<int64_t, size_t>{{0, 400}, {3, 1}, {1, 57}, {2, 6}, {7, 1200}}) {
    const SplitSizes sizes = ClassSplitSizes(rows);
    EXPECT_EQ(train.count(label) ? train.at(label) : 0, sizes.train) << "class " << label;
    EXPECT_EQ(validation.count(label) ? validation.at(label) : 0, sizes.validation) << "class " << label;
    EXPECT_EQ(test.count(label) ? test.at(label) : 0, sizes.test) << "class " << label;
  }
  EXPECT_EQ(train.at(3), 1u);  // the single row of class 3 is in train
}

TEST(StratifiedSplit, TheSameSeedGivesTheSameSplitAndAnotherSeedAnother) {
  const std::vector<int64_t> labels = Classes({{0, 300}, {1, 200}, {2, 100}});
  const SplitIndices first = StratifiedSplit(labels, 42);
  const SplitIndices again = StratifiedSplit(labels, 42);
  const SplitIndices other = StratifiedSplit(labels, 43);
  EXPECT_EQ(first.train, again.train);
  EXPECT_EQ(first.validation, again.validation);
  EXPECT_EQ(first.test, again.test);
  EXPECT_NE(first.test, other.test);
}

TEST(StratifiedSplit, SplitsInterleaveTheirClasses) {
  const std::vector<int64_t> labels = Classes({{0, 500}, {1, 500}});
  const SplitIndices split = StratifiedSplit(labels, 7);
  // In blocks, the first 400 train rows would all be class 0.
  const std::vector<size_t> head(split.train.begin(), split.train.begin() + 400);
  const auto counts = CountByClass(head, labels);
  EXPECT_GT(counts.at(1), 100u);
  EXPECT_GT(counts.at(0), 100u);
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
