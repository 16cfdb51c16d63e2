// Splitting a dataset into train, validation and test (80/10/10), stratified by class, reproducibly.
//
// Each class is split on its own, so every split holds the classes in about the same proportions:
// the class's rows are shuffled, validation and test each take n/10 of its n rows rounded to the nearest
// whole row (a half rounds down, towards train), and train takes the rest. So a class of 1 to 5 rows
// goes wholly to train, 6 to 15 rows give one row each to validation and test, 1600 rows give 1280/160/160.
// Each split is then shuffled as a whole, so its classes are interleaved rather than in blocks.
//
// The shuffles come from SeededShuffler, which gives the same order for the same seed with every
// compiler and standard library (std::shuffle and the std distributions do not promise that).
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

namespace orch {

// Fisher-Yates shuffles and draws driven by a 64-bit Mersenne Twister (whose output the standard
// fixes), with unbiased bounded draws of its own.
class SeededShuffler {
 public:
  explicit SeededShuffler(uint64_t seed) : engine_(seed) {}

  // A uniformly drawn integer in [0, bound). bound must be > 0.
  uint64_t Below(uint64_t bound);

  // Shuffles `items` in place.
  template <typename T>
  void Shuffle(std::vector<T>& items) {
    for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[Below(i)]);
  }

 private:
  std::mt19937_64 engine_;
};

// How many of a class's `rows` go to each split.
struct SplitSizes {
  size_t train = 0;
  size_t validation = 0;
  size_t test = 0;
};
SplitSizes ClassSplitSizes(size_t rows);

// Row indices (into the `labels` given to StratifiedSplit) of each split.
struct SplitIndices {
  std::vector<size_t> train;
  std::vector<size_t> validation;
  std::vector<size_t> test;
};

// Splits rows whose class ids are `labels` (labels[i] is row i's class). The same labels and seed
// always give the same indices in the same order.
SplitIndices StratifiedSplit(std::span<const int64_t> labels, uint64_t seed);

}  // namespace orch
