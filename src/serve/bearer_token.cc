#include "serve/bearer_token.h"

#include <algorithm>

#include "util/strings.h"

namespace orch {

std::optional<std::string_view> BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (!StartsWithIgnoringCase(authorization, kScheme)) return std::nullopt;
  const std::string_view token = Trim(authorization.substr(kScheme.size()));
  if (token.empty()) return std::nullopt;
  return token;
}

bool ConstantTimeEquals(std::string_view given, std::string_view expected) {
  // Every byte of both is read whatever they hold; a length mismatch is folded into the result.
  unsigned char difference = given.size() == expected.size() ? 0 : 1;
  const size_t length = std::max(given.size(), expected.size());
  for (size_t i = 0; i < length; ++i) {
    const unsigned char a = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    const unsigned char b = i < expected.size() ? static_cast<unsigned char>(expected[i]) : 0;
    difference |= static_cast<unsigned char>(a ^ b);
  }
  // Read through a volatile so the compiler cannot end the loop at the first difference.
  volatile unsigned char result = difference;
  return result == 0;
}

}  // namespace orch
