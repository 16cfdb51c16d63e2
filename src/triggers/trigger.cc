#include "triggers/trigger.h"

#include <cstdio>

#include "util/fnv.h"

namespace orch {

std::string IdempotencyKey(std::string_view label, std::string_view version) {
  // Two differently seeded 64-bit FNV-1a hashes: stable across versions and platforms, and
  // wide enough that two cycles never share a key by chance.
  const std::string text = std::string(label) + '\n' + std::string(version);
  char key[33];
  std::snprintf(key, sizeof key, "%016llx%016llx", static_cast<unsigned long long>(Fnv1a64(text)),
                static_cast<unsigned long long>(Fnv1a64(text, 0x84222325cbf29ce4ULL)));
  return key;
}

}  // namespace orch
