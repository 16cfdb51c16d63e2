#include "triggers/trigger.h"

#include <cstdio>

namespace orch {
namespace {

uint64_t Fnv1a(std::string_view text, uint64_t hash) {
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace

std::string IdempotencyKey(std::string_view label, std::string_view version) {
  // Two differently seeded 64-bit FNV-1a hashes: stable across versions and platforms, and
  // wide enough that two cycles never share a key by chance.
  const std::string text = std::string(label) + '\n' + std::string(version);
  char key[33];
  std::snprintf(key, sizeof key, "%016llx%016llx", static_cast<unsigned long long>(Fnv1a(text, 0xcbf29ce484222325ULL)),
                static_cast<unsigned long long>(Fnv1a(text, 0x84222325cbf29ce4ULL)));
  return key;
}

}  // namespace orch
