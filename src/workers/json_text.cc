#include "workers/json_text.h"

#include <algorithm>

namespace orch {
namespace {

// nlohmann's id of the error for a number too large for a double ("number overflow parsing '1e999'").
constexpr int kNumberOverflow = 406;

}  // namespace

std::string JsonSyntaxError::Describe() const {
  if (!line || !column) return problem;
  return "line " + std::to_string(*line) + ", column " + std::to_string(*column) + ": " + problem;
}

std::string JsonSyntaxError::DescribeInLine() const {
  if (!column) return problem;
  return "column " + std::to_string(*column) + ": " + problem;
}

JsonSyntaxError JsonSyntaxErrorIn(std::string_view text, const nlohmann::json::exception& error) {
  JsonSyntaxError result;
  const auto* syntax = dynamic_cast<const nlohmann::json::parse_error*>(&error);
  if (syntax == nullptr) {
    result.problem = error.id == kNumberOverflow ? "a number too large to be read" : "not valid JSON";
    return result;
  }
  // `byte` counts the characters read, the failing one included.
  const size_t failed_at = std::min<size_t>(syntax->byte == 0 ? 0 : syntax->byte - 1, text.size());
  const std::string_view before = text.substr(0, failed_at);
  result.line = 1 + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
  const size_t line_start = before.rfind('\n');
  result.column = 1 + failed_at - (line_start == std::string_view::npos ? 0 : line_start + 1);
  // "[json.exception.parse_error.101] parse error at line 1, column 7: syntax error ... - invalid literal;
  // last read: 'tru'": the part after the position, without the quoted text.
  std::string message = syntax->what();
  const size_t position = message.find(": ");
  if (position != std::string::npos) message.erase(0, position + 2);
  const size_t quoted = message.find("; last read: ");
  if (quoted != std::string::npos) message.erase(quoted);
  result.problem = message.empty() ? "not valid JSON" : message;
  return result;
}

}  // namespace orch
