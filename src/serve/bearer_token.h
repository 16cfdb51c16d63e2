// The token that lets a client start a pass: "Authorization: Bearer <SERVE_TOKEN>", compared in
// constant time so the time an answer takes says nothing about how much of a guess was right.
#pragma once

#include <optional>
#include <string_view>

namespace orch {

// The token of an Authorization header of the Bearer scheme (the scheme in any case); nothing for
// another scheme, a missing or empty token.
std::optional<std::string_view> BearerToken(std::string_view authorization);

// Whether `given` equals `expected`, in a time that depends only on their lengths.
bool ConstantTimeEquals(std::string_view given, std::string_view expected);

}  // namespace orch
