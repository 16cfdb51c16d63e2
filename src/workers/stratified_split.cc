#include "workers/stratified_split.h"

#include <map>

namespace orch {
namespace {

// Validation and test each get a tenth of the class, rounded to the nearest row with a half rounding
// down: (rows + 4) / 10 in integers, so no floating point decides where a row goes.
size_t TenthRoundedHalfDown(size_t rows) { return (rows + 4) / 10; }

void Append(std::vector<size_t>& to, const std::vector<size_t>& from, size_t begin, size_t end) {
  to.insert(to.end(), from.begin() + static_cast<std::ptrdiff_t>(begin),
            from.begin() + static_cast<std::ptrdiff_t>(end));
}

}  // namespace

uint64_t SeededShuffler::Below(uint64_t bound) {
  // Draws below 2^64 mod bound are rejected, so every remainder is equally likely.
  const uint64_t rejected_below = (0 - bound) % bound;
  for (;;) {
    const uint64_t draw = engine_();
    if (draw >= rejected_below) return draw % bound;
  }
}

SplitSizes ClassSplitSizes(size_t rows) {
  SplitSizes sizes;
  sizes.validation = TenthRoundedHalfDown(rows);
  sizes.test = TenthRoundedHalfDown(rows);
  sizes.train = rows - sizes.validation - sizes.test;
  return sizes;
}

SplitIndices StratifiedSplit(std::span<const int64_t> labels, uint64_t seed) {
  std::map<int64_t, std::vector<size_t>> rows_of_class;  // classes in id order, rows in input order
  for (size_t row = 0; row < labels.size(); ++row) rows_of_class[labels[row]].push_back(row);
  SeededShuffler shuffler(seed);
  SplitIndices split;
  for (auto& [label, rows] : rows_of_class) {
    shuffler.Shuffle(rows);
    const SplitSizes sizes = ClassSplitSizes(rows.size());
    Append(split.train, rows, 0, sizes.train);
    Append(split.validation, rows, sizes.train, sizes.train + sizes.validation);
    Append(split.test, rows, sizes.train + sizes.validation, rows.size());
  }
  shuffler.Shuffle(split.train);
  shuffler.Shuffle(split.validation);
  shuffler.Shuffle(split.test);
  return split;
}

}  // namespace orch
