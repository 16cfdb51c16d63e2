// What the workers need to read JSON documents they did not write themselves: a size limit for the
// small ones, and where and why a text is not valid JSON, in words.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace orch {

// The most a label map, a model card or dataset metadata may hold: far more than any real one.
constexpr uint64_t kMaxJsonDocumentBytes = uint64_t{16} << 20;

// Where nlohmann::json stopped in a text it refused, and why.
struct JsonSyntaxError {
  std::optional<size_t> line;    // counted from 1; nothing when the parser does not say (a number out of range)
  std::optional<size_t> column;  // in bytes, counted from 1
  std::string problem;  // e.g. "syntax error while parsing object key - unexpected '}'; expected string literal"
  // "line 3, column 7: <problem>", or the problem alone when the position is not known.
  std::string Describe() const;
  // "column 7: <problem>", for a text that is one line of a file.
  std::string DescribeInLine() const;
};

// `error`, thrown while parsing `text` (a parse error, or a number too large for a double), as a
// JsonSyntaxError. The problem never quotes the text, so a message made of it holds no byte of the file.
JsonSyntaxError JsonSyntaxErrorIn(std::string_view text, const nlohmann::json::exception& error);

}  // namespace orch
