#include "workers/split_line.h"

#include <charconv>

namespace orch {
namespace {

bool NeedsEscape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

}  // namespace

void AppendJsonEscaped(std::string_view text, std::string& out) {
  size_t run = 0;  // the start of the bytes not yet appended, which need no escape
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (!NeedsEscape(c)) continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        constexpr char kHex[] = "0123456789abcdef";
        const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(escape, sizeof escape);
      }
    }
  }
  out.append(text.data() + run, text.size() - run);
}

void AppendSplitLine(std::string_view escaped_text, int64_t label, std::string& out) {
  out += "{\"grievance\":\"";
  out += escaped_text;
  out += "\",\"label\":";
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, label).ptr;
  out.append(digits, end);
  out += "}\n";
}

}  // namespace orch
