// Keeping secrets out of every text the program prints.
#pragma once

#include <string>
#include <vector>

namespace orch {

// Replaces every occurrence of each secret in `text` with "***". Empty secrets are ignored.
std::string Redact(std::string text, const std::vector<std::string>& secrets);

// Escapes control characters so a value from outside cannot forge log lines or annotations.
std::string Printable(std::string_view text);

}  // namespace orch
