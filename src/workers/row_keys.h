// The seeded keys that place a dataset's rows in the prepare worker's random orders.
//
// Every order prepare needs (which complaints of the pool are drawn first, where a row falls in its
// class, where it comes in its split's file) is "ascending by a key", and each key is computed from
// PREPARE_SEED and the row's own id alone: a SplitMix64 output, a bijection of the id, different for
// each order. So the orders are uniformly random, independent of each other, the same whatever order
// the rows are read in and whatever the compiler or standard library, and no step needs all rows at
// hand to shuffle them: a row's key is known the moment it is read.
#pragma once

#include <cstdint>

namespace orch {

// SplitMix64's finaliser: a bijection of 64-bit values that spreads each input bit over the output.
uint64_t Mix64(uint64_t value);
// Its inverse: Unmix64(Mix64(v)) == v.
uint64_t Unmix64(uint64_t value);

// Where a dataset row comes from: its id is a misclassified_complaints.id or a complaints.id.
enum class RowSource : uint8_t { kMisclassified = 0, kPool = 1 };

// The keys of one dataset's rows under one seed.
class RowKeys {
 public:
  explicit RowKeys(int64_t seed);

  // The pool is drawn in ascending order of this key. Distinct ids have distinct keys, and
  // DrawnId gives the id back.
  uint64_t Draw(int64_t complaint_id) const { return Key(draw_, complaint_id); }
  int64_t DrawnId(uint64_t draw_key) const;

  // A row's place in its class: the lowest keys go to validation, the next to test (StratifiedSplitter).
  uint64_t Rank(RowSource source, int64_t id) const { return Key(rank_[static_cast<int>(source)], id); }

  // A row's place in its split's file.
  uint64_t Order(RowSource source, int64_t id) const { return Key(order_[static_cast<int>(source)], id); }

 private:
  // The SplitMix64 output for the state `id` steps along the stream `offset`.
  static uint64_t Key(uint64_t offset, int64_t id) { return Mix64(static_cast<uint64_t>(id) * kGamma + offset); }
  static constexpr uint64_t kGamma = 0x9E3779B97F4A7C15ULL;

  uint64_t draw_;
  uint64_t rank_[2];
  uint64_t order_[2];
};

}  // namespace orch
