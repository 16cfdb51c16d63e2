#include "workers/text_clean.h"

#include <array>
#include <cstdint>

#include "util/strings.h"

namespace orch {
namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

// What a byte can start. Plain text bytes are copied in runs; the others need a closer look.
enum class ByteKind : uint8_t {
  kText,       // printable ASCII that starts nothing special
  kSpace,      // ASCII whitespace or another control character
  kTagOpen,    // '<': maybe an HTML tag
  kUrlStart,   // 'h', 'H', 'w', 'W': maybe a URL
  kMultiByte,  // >= 0x80: a UTF-8 sequence (or an invalid byte)
};

constexpr std::array<ByteKind, 256> MakeByteKinds() {
  std::array<ByteKind, 256> kinds{};
  for (int byte = 0; byte < 256; ++byte) {
    ByteKind kind = ByteKind::kText;
    if (byte < 0x20 || byte == ' ' || byte == 0x7f) kind = ByteKind::kSpace;
    if (byte == '<') kind = ByteKind::kTagOpen;
    if (byte == 'h' || byte == 'H' || byte == 'w' || byte == 'W') kind = ByteKind::kUrlStart;
    if (byte >= 0x80) kind = ByteKind::kMultiByte;
    kinds[byte] = kind;
  }
  return kinds;
}

constexpr std::array<ByteKind, 256> kByteKinds = MakeByteKinds();

ByteKind KindOf(char c) { return kByteKinds[static_cast<unsigned char>(c)]; }

bool IsContinuation(unsigned char byte) { return (byte & 0xC0) == 0x80; }

// A well-formed UTF-8 sequence (Unicode Table 3-7), or length 0 when the bytes at `at` are not one.
struct CodePoint {
  size_t length = 0;
  char32_t value = 0;
};

CodePoint DecodeAt(std::string_view text, size_t at) {
  const auto byte = [&](size_t offset) { return static_cast<unsigned char>(text[at + offset]); };
  const unsigned char lead = byte(0);
  size_t length = 0;
  unsigned char second_min = 0x80, second_max = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_min = 0xA0;  // no overlong forms
    if (lead == 0xED) second_max = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_min = 0x90;  // no overlong forms
    if (lead == 0xF4) second_max = 0x8F;  // nothing above U+10FFFF
  } else {
    return {};
  }
  if (at + length > text.size() || byte(1) < second_min || byte(1) > second_max) return {};
  char32_t value = lead & (0xFF >> (length + 1));
  for (size_t i = 1; i < length; ++i) {
    if (!IsContinuation(byte(i))) return {};
    value = (value << 6) | (byte(i) & 0x3F);
  }
  return {length, value};
}

// The non-ASCII code points Python's str.split() treats as whitespace.
bool IsUnicodeSpace(char32_t c) {
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

// Whether whitespace (ASCII or Unicode) starts at `at`.
bool SpaceAt(std::string_view text, size_t at) {
  switch (KindOf(text[at])) {
    case ByteKind::kSpace: return true;
    case ByteKind::kMultiByte: {
      const CodePoint code_point = DecodeAt(text, at);
      return code_point.length > 0 && IsUnicodeSpace(code_point.value);
    }
    default: return false;
  }
}

// The length of the URL starting at `at`, 0 when none does.
size_t UrlLength(std::string_view text, size_t at) {
  // Most 'h's and 'w's start words, not URLs: one look at the next letter settles it.
  const char next = at + 1 < text.size() ? static_cast<char>(text[at + 1] | 0x20) : '\0';
  if (next != 't' && next != 'w') return 0;
  if (!StartsWithIgnoringCase(text.substr(at), "http://") && !StartsWithIgnoringCase(text.substr(at), "https://") &&
      !StartsWithIgnoringCase(text.substr(at), "www."))
    return 0;
  size_t end = at;
  while (end < text.size() && text[end] != '<' && !SpaceAt(text, end)) ++end;
  return end - at;
}

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// The length of the HTML tag starting at `at` (a '<'), 0 when none does.
size_t TagLength(std::string_view text, size_t at) {
  if (at + 1 >= text.size()) return 0;
  const char first = text[at + 1];
  if (!IsAsciiLetter(first) && first != '/' && first != '!' && first != '?') return 0;
  for (size_t end = at + 2; end < text.size(); ++end) {
    if (text[end] == '>') return end + 1 - at;
    if (text[end] == '<' || text[end] == '\n') return 0;
  }
  return 0;
}

// Appends text to the output, turning every gap (whitespace, a removed URL or tag) between two
// pieces of text into exactly one space, and dropping gaps at either end.
class SpacedWriter {
 public:
  explicit SpacedWriter(std::string& out) : out_(out) {}
  void Gap() { gap_ = true; }
  void Append(std::string_view bytes) {
    if (gap_ && !out_.empty()) out_ += ' ';
    gap_ = false;
    out_.append(bytes);
  }

 private:
  std::string& out_;
  bool gap_ = false;
};

// A well-formed sequence from U+0800 to U+0FFF (Devanagari among them), none of which is whitespace:
// the common case of the Nepali texts, checked without decoding.
bool IsPlainThreeByteAt(std::string_view text, size_t at) {
  if (at + 3 > text.size() || static_cast<unsigned char>(text[at]) != 0xE0) return false;
  const auto second = static_cast<unsigned char>(text[at + 1]);
  return second >= 0xA0 && second <= 0xBF && IsContinuation(static_cast<unsigned char>(text[at + 2]));
}

// Whether the byte at `at` certainly starts text to keep (the common cases, checked cheaply).
bool PlainTextAt(std::string_view text, size_t at) {
  return at < text.size() && (KindOf(text[at]) == ByteKind::kText || IsPlainThreeByteAt(text, at));
}

// Where the run of text starting at `at` ends: the bytes up to the next whitespace, URL, tag or
// invalid byte, which are copied as they are in one go. A single space between two pieces of text
// is kept as it is, so a run spans whole phrases.
size_t TextRunEnd(std::string_view text, size_t at) {
  size_t end = at;
  while (end < text.size()) {
    switch (KindOf(text[end])) {
      case ByteKind::kText:
        ++end;
        while (end < text.size() && KindOf(text[end]) == ByteKind::kText) ++end;
        break;
      case ByteKind::kSpace:
        if (text[end] != ' ' || end == at || !PlainTextAt(text, end + 1)) return end;
        ++end;
        break;
      case ByteKind::kTagOpen:
        if (TagLength(text, end) > 0) return end;
        ++end;
        break;
      case ByteKind::kUrlStart:
        if (UrlLength(text, end) > 0) return end;
        ++end;
        break;
      case ByteKind::kMultiByte: {
        if (IsPlainThreeByteAt(text, end)) {
          do end += 3;
          while (IsPlainThreeByteAt(text, end));
          break;
        }
        const CodePoint code_point = DecodeAt(text, end);
        if (code_point.length == 0 || IsUnicodeSpace(code_point.value)) return end;
        end += code_point.length;
        break;
      }
    }
  }
  return end;
}

// Handles what starts at `at` and returns where to go on.
size_t CleanOne(std::string_view text, size_t at, SpacedWriter& writer) {
  const size_t run_end = TextRunEnd(text, at);
  if (run_end > at) {
    writer.Append(text.substr(at, run_end - at));
    return run_end;
  }
  // No text starts here: a tag, a URL, Unicode whitespace, a byte that is not UTF-8, or ASCII
  // whitespace.
  switch (KindOf(text[at])) {
    case ByteKind::kTagOpen: writer.Gap(); return at + TagLength(text, at);
    case ByteKind::kUrlStart: writer.Gap(); return at + UrlLength(text, at);
    case ByteKind::kMultiByte: {
      const CodePoint code_point = DecodeAt(text, at);
      if (code_point.length == 0) {
        writer.Append(kReplacementCharacter);
        return at + 1;
      }
      writer.Gap();
      return at + code_point.length;
    }
    default: writer.Gap(); return at + 1;
  }
}

}  // namespace

void CleanTextInto(std::string_view text, std::string& out) {
  out.clear();
  out.reserve(text.size());
  SpacedWriter writer(out);
  for (size_t at = 0; at < text.size();) at = CleanOne(text, at, writer);
}

bool IsValidUtf8(std::string_view text) {
  for (size_t at = 0; at < text.size();) {
    if (static_cast<unsigned char>(text[at]) < 0x80) {
      ++at;
      continue;
    }
    const size_t length = DecodeAt(text, at).length;
    if (length == 0) return false;
    at += length;
  }
  return true;
}

std::string CleanText(std::string_view text) {
  std::string out;
  CleanTextInto(text, out);
  return out;
}

}  // namespace orch
