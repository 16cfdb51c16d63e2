#include "workers/stratified_split.h"

#include <algorithm>
#include <stdexcept>

namespace orch {
namespace {

// Validation and test each get a tenth of the class, rounded to the nearest row with a half rounding
// down: (rows + 4) / 10 in integers, so no floating point decides where a row goes.
size_t TenthRoundedHalfDown(size_t rows) { return (rows + 4) / 10; }

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

uint32_t StratifiedSplitter::Add(uint32_t klass, uint64_t rank_key, RowSource source) {
  if (klass >= counts_.size()) {
    counts_.resize(klass + size_t{1}, 0);
    keys_.resize(klass + size_t{1});
    pooled_.resize(klass + size_t{1});
  }
  if (counts_[klass] == UINT32_MAX) throw std::length_error("a class of more than 4294967295 rows");
  keys_[klass].push_back(rank_key);
  pooled_[klass].push_back(source == RowSource::kPool);
  return counts_[klass]++;
}

StratifiedSplitter::Last StratifiedSplitter::RankedRow(size_t klass, std::vector<uint64_t>& scratch,
                                                       size_t rank) const {
  if (rank == 0) return {};
  const std::vector<uint64_t>& keys = keys_[klass];
  const auto nth = scratch.begin() + static_cast<std::ptrdiff_t>(rank - 1);
  std::nth_element(scratch.begin(), nth, scratch.end());
  const uint64_t key = *nth;
  // The rows with that very key (one, unless ids repeat across sources), ranked by source and
  // position: the rank takes as many of them as it still needs.
  std::vector<std::pair<RowSource, uint32_t>> tied;
  size_t below = 0;
  for (size_t position = 0; position < keys.size(); ++position) {
    if (keys[position] < key) ++below;
    if (keys[position] == key)
      tied.push_back(
          {pooled_[klass][position] ? RowSource::kPool : RowSource::kMisclassified, static_cast<uint32_t>(position)});
  }
  std::sort(tied.begin(), tied.end());
  const auto& [source, position] = tied[rank - below - 1];
  return {true, key, source, position};
}

void StratifiedSplitter::Finish() {
  validation_last_.assign(counts_.size(), {});
  test_last_.assign(counts_.size(), {});
  for (size_t klass = 0; klass < counts_.size(); ++klass) {
    const SplitSizes sizes = ClassSplitSizes(counts_[klass]);
    std::vector<uint64_t> scratch = keys_[klass];
    validation_last_[klass] = RankedRow(klass, scratch, sizes.validation);
    test_last_[klass] = RankedRow(klass, scratch, sizes.validation + sizes.test);
    std::vector<uint64_t>().swap(keys_[klass]);
    std::vector<bool>().swap(pooled_[klass]);
  }
}

Split StratifiedSplitter::SplitOf(uint32_t klass, uint64_t rank_key, RowSource source, uint32_t position) const {
  if (validation_last_[klass].Takes(rank_key, source, position)) return Split::kValidation;
  if (test_last_[klass].Takes(rank_key, source, position)) return Split::kTest;
  return Split::kTrain;
}

}  // namespace orch
