#include "hub/yaml_writer.h"

#include <array>
#include <cstdint>
#include <cstdio>

namespace orch {
namespace {

using Json = nlohmann::ordered_json;

constexpr uint32_t kReplacement = 0xFFFD;

// The code point starting at text[i], advancing i past it; U+FFFD (advancing one byte) for a byte
// that does not start a well-formed UTF-8 sequence.
uint32_t NextCodePoint(std::string_view text, size_t& i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char first = byte(i);
  if (first < 0x80) {
    ++i;
    return first;
  }
  size_t length = 0;
  uint32_t point = 0;
  uint32_t smallest = 0;
  if ((first & 0xE0) == 0xC0) {
    length = 2, point = first & 0x1F, smallest = 0x80;
  } else if ((first & 0xF0) == 0xE0) {
    length = 3, point = first & 0x0F, smallest = 0x800;
  } else if ((first & 0xF8) == 0xF0) {
    length = 4, point = first & 0x07, smallest = 0x10000;
  } else {
    ++i;
    return kReplacement;
  }
  if (i + length > text.size()) {
    ++i;
    return kReplacement;
  }
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) {
      ++i;
      return kReplacement;
    }
    point = (point << 6) | (byte(i + k) & 0x3F);
  }
  if (point < smallest || point > 0x10FFFF || (point >= 0xD800 && point <= 0xDFFF)) {
    ++i;
    return kReplacement;
  }
  i += length;
  return point;
}

void AppendUtf8(std::string& out, uint32_t point) {
  if (point < 0x80) {
    out += static_cast<char>(point);
  } else if (point < 0x800) {
    out += static_cast<char>(0xC0 | (point >> 6));
    out += static_cast<char>(0x80 | (point & 0x3F));
  } else if (point < 0x10000) {
    out += static_cast<char>(0xE0 | (point >> 12));
    out += static_cast<char>(0x80 | ((point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (point >> 18));
    out += static_cast<char>(0x80 | ((point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (point & 0x3F));
  }
}

// Characters a YAML reader refuses in a document, or folds inside a double-quoted scalar.
bool MustEscape(uint32_t point) {
  return point < 0x20 || point == 0x7F || (point >= 0x80 && point <= 0x9F) || point == 0x2028 || point == 0x2029 ||
         point == 0xFEFF || point == 0xFFFE || point == 0xFFFF;
}

std::string Escape(uint32_t point) {
  switch (point) {
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '\0': return "\\0";
    case 0x85: return "\\N";
    case 0x2028: return "\\L";
    case 0x2029: return "\\P";
  }
  char escaped[16];
  if (point <= 0xFF)
    std::snprintf(escaped, sizeof escaped, "\\x%02X", static_cast<unsigned>(point));
  else
    std::snprintf(escaped, sizeof escaped, "\\u%04X", static_cast<unsigned>(point));
  return escaped;
}

std::string DoubleQuoted(std::string_view text) {
  std::string quoted = "\"";
  for (size_t i = 0; i < text.size();) {
    const uint32_t point = NextCodePoint(text, i);
    if (point == '"' || point == '\\') {
      quoted += '\\';
      quoted += static_cast<char>(point);
    } else if (MustEscape(point)) {
      quoted += Escape(point);
    } else {
      AppendUtf8(quoted, point);
    }
  }
  return quoted + "\"";
}

bool IsPlainSafe(std::string_view text) {
  if (text.empty()) return false;
  const auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!letter(text.front())) return false;
  for (char c : text)
    if (!letter(c) && !(c >= '0' && c <= '9') && c != '.' && c != '/' && c != '-') return false;
  // YAML 1.1 (PyYAML, which the Hub's tools use) reads these as booleans or null, in any case.
  static constexpr std::array<std::string_view, 9> kSpecial = {"y",     "yes", "n",   "no",  "true",
                                                               "false", "on",  "off", "null"};
  std::string lower;
  for (char c : text) lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  for (std::string_view special : kSpecial)
    if (lower == special) return false;
  return true;
}

std::string Scalar(const Json& value) {
  if (value.is_string()) return YamlScalar(value.get_ref<const std::string&>());
  if (value.is_object()) return "{}";
  if (value.is_array()) return "[]";
  return value.dump();  // numbers, booleans, null: as JSON writes them, which YAML reads the same
}

void Write(const Json& value, size_t indent, std::string& out);

// A sequence at `indent`: "- item" lines.
void WriteSequence(const Json& items, size_t indent, std::string& out) {
  const std::string pad(indent, ' ');
  for (const Json& item : items) {
    if (item.is_object() && !item.empty()) {
      // The mapping's first line goes after the dash, the others under it.
      std::string mapping;
      Write(item, indent + 2, mapping);
      out += pad + "- " + mapping.substr(indent + 2);
    } else if (item.is_array() && !item.empty()) {
      out += pad + "-\n";
      WriteSequence(item, indent + 2, out);
    } else {
      out += pad + "- " + Scalar(item) + "\n";
    }
  }
}

// A mapping (or anything else) at `indent`.
void Write(const Json& value, size_t indent, std::string& out) {
  const std::string pad(indent, ' ');
  if (value.is_array() && !value.empty()) return WriteSequence(value, indent, out);
  if (!value.is_object() || value.empty()) {
    out += pad + Scalar(value) + "\n";
    return;
  }
  for (const auto& [key, member] : value.items()) {
    out += pad + YamlScalar(key) + ":";
    if (member.is_object() && !member.empty()) {
      out += "\n";
      Write(member, indent + 2, out);
    } else if (member.is_array() && !member.empty()) {
      out += "\n";
      WriteSequence(member, indent, out);
    } else {
      out += " " + Scalar(member) + "\n";
    }
  }
}

}  // namespace

std::string YamlScalar(std::string_view text) { return IsPlainSafe(text) ? std::string(text) : DoubleQuoted(text); }

std::string ToYaml(const nlohmann::ordered_json& value) {
  std::string out;
  Write(value, 0, out);
  return out;
}

}  // namespace orch
