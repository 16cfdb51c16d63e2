// Splitting a dataset into train, validation and test (80/10/10), stratified by class, reproducibly.
//
// Each class is split on its own, so every split holds the classes in about the same proportions:
// the class's rows are put in a random order, validation and test each take n/10 of its n rows
// rounded to the nearest whole row (a half rounds down, towards train), and train takes the rest. So
// a class of 1 to 5 rows goes wholly to train, 6 to 15 rows give one row each to validation and
// test, 1600 rows give 1280/160/160.
//
// The random order of a class is that of its rows' rank keys (workers/row_keys.h: seeded, one per
// row, from its id and source): validation takes the rows with the lowest keys, test the next ones,
// train the rest. StratifiedSplitter takes the rows one at a time as they are read, keeping 8 bytes
// and a bit of each, and once every row is in says where each goes; the rows' texts can wait
// elsewhere meanwhile. Which rows go where depends on the keys alone, not on the order the rows
// come in. How each split's rows are ordered in its file is the caller's (prepare orders them by
// another key, so the classes are interleaved).
//
// SeededShuffler gives the same shuffles for the same seed with every compiler and standard library
// (std::shuffle and the std distributions do not promise that); the retrain worker uses it.
#pragma once

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "workers/row_keys.h"

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

// The splits, in the order their files are written.
enum class Split : uint8_t { kTrain = 0, kValidation = 1, kTest = 2 };

// Stratified splits of rows given one at a time: each with its class (a small index), its rank key
// and its source. Rows of a class are ranked by (rank key, source, position), the position being
// the order they were added in: rank keys are distinct within a source (RowKeys), so the position
// only ever orders a row and its exact duplicate.
class StratifiedSplitter {
 public:
  // Adds a row; returns its position among its class's rows (0, 1, ...), which SplitOf asks for.
  uint32_t Add(uint32_t klass, uint64_t rank_key, RowSource source);

  // Ends the adding: finds where each class's splits begin and end, and frees the keys.
  void Finish();

  // The split of the row of `klass` added with `rank_key` and `source` at `position`. After Finish.
  Split SplitOf(uint32_t klass, uint64_t rank_key, RowSource source, uint32_t position) const;

  // The rows of `klass` added, and in each split (none for a class never added).
  size_t RowsOf(uint32_t klass) const { return klass < counts_.size() ? counts_[klass] : 0; }
  SplitSizes SizesOf(uint32_t klass) const { return ClassSplitSizes(RowsOf(klass)); }

  // The class indices up to the largest added, plus one.
  size_t classes() const { return counts_.size(); }

 private:
  // The last row, in rank order, that the splits up to one take; none when they take no row.
  struct Last {
    bool any = false;
    uint64_t key = 0;
    RowSource source = RowSource::kMisclassified;
    uint32_t position = 0;
    bool Takes(uint64_t rank_key, RowSource source_, uint32_t position_) const {
      if (!any || rank_key != key) return any && rank_key < key;
      return source_ != source ? source_ < source : position_ <= position;
    }
  };
  // The rank-th row (counted from 1) of class `klass`; `scratch` holds its keys in any order and is
  // reordered.
  Last RankedRow(size_t klass, std::vector<uint64_t>& scratch, size_t rank) const;

  std::vector<std::vector<uint64_t>> keys_;  // per class, in position order; freed by Finish
  std::vector<std::vector<bool>> pooled_;    // per class, in position order: from the pool?
  std::vector<uint32_t> counts_;             // rows per class
  std::vector<Last> validation_last_;        // per class: the last row validation takes
  std::vector<Last> test_last_;              // per class: the last row validation and test take
};

}  // namespace orch
