// Fuzz target for ParseEnvFile: any text is either parsed into names and values or refused with a
// ConfigError naming the file and line. What it parses must read back the same when written out
// again in double quotes, so quoting, escapes, comments and line ends agree with each other.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "config/env_file.h"
#include "fuzz_check.h"
#include "util/error.h"

namespace orch::fuzz {
namespace {

constexpr std::string_view kPath = "fuzz.env";

bool IsValidKey(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key)
    if (c == ' ' || c == '\t' || c == '=' || c == '#' || c == '\n' || c == '\r' || c == '\0') return false;
  return true;
}

// The values as .env text, every value double-quoted with the only escapes it needs. The leading
// newline keeps a name that begins with a byte-order mark from being read as the file's mark.
std::string WriteEnvFile(const std::map<std::string, std::string>& values) {
  std::string text = "\n";
  for (const auto& [key, value] : values) {
    text += key + "=\"";
    for (char c : value) {
      if (c == '"' || c == '\\') text += '\\';
      text += c;
    }
    text += "\"\n";
  }
  return text;
}

void CheckParsed(const std::map<std::string, std::string>& values) {
  for (const auto& [key, value] : values) {
    Check(IsValidKey(key), "a name holds no blank, '=', '#' or line end");
    Check(value.find('\0') == std::string::npos, "a value holds no NUL byte");
  }
  std::map<std::string, std::string> again;
  try {
    again = ParseEnvFile(WriteEnvFile(values), kPath);
  } catch (const ConfigError&) {
    Check(false, "parsed values written out again are refused");
  }
  Check(again == values, "parsed values written out again read back the same");
}

void CheckRefusal(const ConfigError& error) {
  std::string_view message = error.what();
  Check(message.starts_with(std::string(kPath) + ":"), "a refusal names the file");
  std::string_view line = message.substr(kPath.size() + 1);
  Check(!line.empty() && line.front() >= '1' && line.front() <= '9', "a refusal names a line from 1");
}

}  // namespace
}  // namespace orch::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::map<std::string, std::string> values;
  try {
    values = orch::ParseEnvFile(text, orch::fuzz::kPath);
  } catch (const orch::ConfigError& error) {
    orch::fuzz::CheckRefusal(error);
    return 0;
  }
  orch::fuzz::CheckParsed(values);
  return 0;
}
