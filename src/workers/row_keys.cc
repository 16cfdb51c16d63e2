#include "workers/row_keys.h"

namespace orch {
namespace {

// Independent streams from the one seed, one per order and source.
constexpr uint64_t kDrawStream = 1;
constexpr uint64_t kRankStream[] = {2, 3};
constexpr uint64_t kOrderStream[] = {4, 5};

// The modular inverse of SplitMix64's gamma (odd, so it has one): multiplying by it undoes the step.
constexpr uint64_t kGammaInverse = 0xF1DE83E19937733DULL;

// A well-spread offset for `stream` under `seed`.
uint64_t StreamOffset(int64_t seed, uint64_t stream) {
  return Mix64(static_cast<uint64_t>(seed) + stream * 0x9E3779B97F4A7C15ULL);
}

// Undoes value ^= value >> shift.
uint64_t UnshiftXor(uint64_t value, int shift) {
  uint64_t result = value;
  for (int done = shift; done < 64; done += shift) result = value ^ (result >> shift);
  return result;
}

}  // namespace

uint64_t Mix64(uint64_t value) {
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ULL;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBULL;
  return value ^ (value >> 31);
}

uint64_t Unmix64(uint64_t value) {
  // The inverses of the multipliers above, modulo 2^64.
  value = UnshiftXor(value, 31) * 0x319642B2D24D8EC3ULL;
  value = UnshiftXor(value, 27) * 0x96DE1B173F119089ULL;
  return UnshiftXor(value, 30);
}

RowKeys::RowKeys(int64_t seed)
    : draw_(StreamOffset(seed, kDrawStream)),
      rank_{StreamOffset(seed, kRankStream[0]), StreamOffset(seed, kRankStream[1])},
      order_{StreamOffset(seed, kOrderStream[0]), StreamOffset(seed, kOrderStream[1])} {}

int64_t RowKeys::DrawnId(uint64_t draw_key) const {
  return static_cast<int64_t>((Unmix64(draw_key) - draw_) * kGammaInverse);
}

}  // namespace orch
