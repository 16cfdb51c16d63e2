// 64-bit FNV-1a: a small, stable hash for keys that must be the same on every platform and in
// every version of the program (run-lock keys, idempotency keys).
#pragma once

#include <cstdint>
#include <string_view>

namespace orch {

inline constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325ULL;

inline uint64_t Fnv1a64(std::string_view text, uint64_t basis = kFnvOffsetBasis) {
  uint64_t hash = basis;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace orch
