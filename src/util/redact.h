// Keeping secrets out of every text the program prints.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace orch {

// Replaces every occurrence of each secret in `text` with "***". Empty secrets are ignored.
std::string Redact(std::string text, const std::vector<std::string>& secrets);

// Escapes control characters so a value from outside cannot forge log lines or annotations.
std::string Printable(std::string_view text);

// The start of `text` from outside (a server's answer) to quote on one line: at most `max_bytes`
// of it, cut before a UTF-8 character that would not fit and marked "..." when cut, with line
// breaks and tabs turned into spaces and other control bytes escaped as Printable does.
std::string Excerpt(std::string_view text, size_t max_bytes);

}  // namespace orch
