// Invariant checks for the fuzz targets.
//
// A broken invariant is a finding like a crash: the message says which one, and abort() makes
// libFuzzer save the input that broke it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace orch::fuzz {

inline void Check(bool holds, const char* invariant) {
  if (holds) return;
  std::fprintf(stderr, "invariant broken: %s\n", invariant);
  std::abort();
}

// True when `text` holds a byte below 0x20 or DEL (a control character).
inline bool HasControlByte(std::string_view text) {
  for (char c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  return false;
}

}  // namespace orch::fuzz
