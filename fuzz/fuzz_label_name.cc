// Fuzz target for label names: LabelNameProblem, ValidateLabelName, LabelEnvSpellings and
// QuoteForMessage, which puts untrusted text into messages and must make it safe for a terminal.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/label_name.h"
#include "fuzz_check.h"
#include "util/error.h"

namespace orch::fuzz {
namespace {

// Two quotes, at most 100 bytes each escaped to 4, and a " (cut; N bytes)" note.
constexpr size_t kMaxQuotedSize = 2 + 4 * 100 + 40;

void CheckQuoted(std::string_view text) {
  std::string quoted = QuoteForMessage(text);
  Check(!HasControlByte(quoted), "QuoteForMessage output has no control bytes");
  for (char c : quoted) Check(static_cast<unsigned char>(c) < 0x80, "QuoteForMessage output is ASCII");
  Check(quoted.size() >= 2 && quoted.front() == '"', "QuoteForMessage output starts with a quote");
  Check(quoted.size() <= kMaxQuotedSize, "QuoteForMessage output is bounded");
  if (text.size() <= 100) Check(quoted.back() == '"', "uncut text is quoted whole");
}

void CheckName(std::string_view name) {
  bool valid = IsValidLabelName(name);
  std::string problem = LabelNameProblem(name);
  Check(valid == problem.empty(), "LabelNameProblem is empty exactly for valid names");
  Check(!HasControlByte(problem), "LabelNameProblem has no control bytes");
  bool refused = false;
  try {
    ValidateLabelName(name);
  } catch (const ConfigError& error) {
    refused = true;
    Check(error.what() == problem, "ValidateLabelName throws LabelNameProblem's text");
  }
  Check(refused == !valid, "ValidateLabelName refuses exactly the invalid names");
  if (!valid) return;
  std::vector<std::string> spellings = LabelEnvSpellings(name);
  Check(!spellings.empty() && spellings.front().size() == name.size(), "the canonical spelling comes first");
  for (const std::string& spelling : spellings)
    for (char c : spelling)
      Check((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_', "spellings are upper-case names");
}

}  // namespace
}  // namespace orch::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  orch::fuzz::CheckQuoted(text);
  orch::fuzz::CheckName(text);
  return 0;
}
