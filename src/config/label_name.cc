#include "config/label_name.h"

#include <cstdio>

#include "util/error.h"

namespace orch {
namespace {

// Spellings the original program used for some labels in its variable names.
struct LabelAlias {
  std::string_view label;
  std::string_view env_spelling;
};
constexpr LabelAlias kLabelAliases[] = {{"department", "DEPT"}};

constexpr size_t kMaxQuotedBytes = 100;

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string EscapeByte(unsigned char byte) {
  switch (byte) {
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '"': return "\\\"";
    case '\\': return "\\\\";
    default: break;
  }
  if (byte < 0x20 || byte >= 0x7f) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "\\x%02x", byte);
    return hex;
  }
  return std::string(1, static_cast<char>(byte));
}

}  // namespace

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || name.size() > kMaxLabelNameLength || !IsLower(name[0])) return false;
  for (char c : name)
    if (!IsLower(c) && !IsDigit(c) && c != '_') return false;
  return true;
}

std::string LabelNameProblem(std::string_view name) {
  if (IsValidLabelName(name)) return "";
  return "label name " + QuoteForMessage(name) +
         " is not valid: a label name is a lower-case letter followed by at most 62 lower-case "
         "letters, digits or '_' ([a-z][a-z0-9_]{0,62})";
}

void ValidateLabelName(std::string_view name) {
  std::string problem = LabelNameProblem(name);
  if (!problem.empty()) throw ConfigError(problem);
}

std::vector<std::string> LabelEnvSpellings(std::string_view label) {
  std::string upper(label);
  for (char& c : upper)
    if (IsLower(c)) c = static_cast<char>(c - 'a' + 'A');
  std::vector<std::string> spellings{upper};
  for (const LabelAlias& alias : kLabelAliases)
    if (alias.label == label) spellings.emplace_back(alias.env_spelling);
  return spellings;
}

std::string QuoteForMessage(std::string_view text) {
  std::string quoted = "\"";
  for (unsigned char byte : text.substr(0, kMaxQuotedBytes)) quoted += EscapeByte(byte);
  quoted += '"';
  if (text.size() > kMaxQuotedBytes) quoted += " (cut; " + std::to_string(text.size()) + " bytes)";
  return quoted;
}

}  // namespace orch
