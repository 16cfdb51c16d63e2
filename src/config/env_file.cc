#include "config/env_file.h"

#include <optional>

#include "config/label_name.h"
#include "util/durable_file.h"
#include "util/error.h"
#include "util/strings.h"

namespace orch {
namespace {

constexpr std::string_view kUtf8ByteOrderMark = "\xEF\xBB\xBF";
constexpr std::string_view kExportPrefix = "export";

char DoubleQuoteEscape(char c) {
  switch (c) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case 'a': return '\a';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'v': return '\v';
    case '"': return '"';
    case '\'': return '\'';
    case '\\': return '\\';
    default: return '\0';  // not an escape: the backslash stays, as in python-dotenv
  }
}

// One pass over the text with a cursor; each line is blank, a comment or an assignment.
class EnvFileParser {
 public:
  EnvFileParser(std::string_view text, std::string_view path) : text_(text), path_(path) {
    if (text_.substr(0, kUtf8ByteOrderMark.size()) == kUtf8ByteOrderMark) pos_ = kUtf8ByteOrderMark.size();
  }

  std::map<std::string, std::string> Parse() {
    RefuseNulBytes();
    while (!AtEnd()) ParseLine();
    return std::move(values_);
  }

 private:
  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }
  bool AtLineEnd() const {
    bool crlf_or_final_cr = Peek() == '\r' && (pos_ + 1 == text_.size() || text_[pos_ + 1] == '\n');
    return AtEnd() || Peek() == '\n' || crlf_or_final_cr;
  }

  void SkipBlanks() {
    while (!AtEnd() && IsLineSpace(Peek())) ++pos_;
  }

  void SkipRestOfLine() {
    while (!AtEnd() && Peek() != '\n') ++pos_;
    if (!AtEnd()) {
      ++pos_;
      ++line_;
    }
  }

  [[noreturn]] void Fail(int line, const std::string& what) const {
    throw ConfigError(std::string(path_) + ":" + std::to_string(line) + ": " + what);
  }

  void RefuseNulBytes() const {
    size_t nul = text_.find('\0');
    if (nul == std::string_view::npos) return;
    int line = 1;
    for (size_t i = 0; i < nul; ++i) line += text_[i] == '\n';
    Fail(line, "contains a NUL byte; a .env file is text");
  }

  void ParseLine() {
    SkipBlanks();
    if (AtLineEnd() || Peek() == '#') return SkipRestOfLine();
    SkipExportPrefix();
    int line = line_;
    std::string key = ParseKey();
    SkipBlanks();
    if (AtLineEnd() || Peek() == '#') return SkipRestOfLine();  // a bare name sets nothing
    if (Peek() != '=') Fail(line, "expected KEY=VALUE after " + QuoteForMessage(key));
    ++pos_;
    SkipBlanks();
    values_[key] = ParseValue();
  }

  void SkipExportPrefix() {
    std::string_view rest = text_.substr(pos_);
    if (rest.substr(0, kExportPrefix.size()) != kExportPrefix || rest.size() <= kExportPrefix.size() ||
        !IsLineSpace(rest[kExportPrefix.size()]))
      return;
    pos_ += kExportPrefix.size();
    SkipBlanks();
  }

  std::string ParseKey() {
    size_t start = pos_;
    while (!AtEnd() && !IsLineSpace(Peek()) && Peek() != '=' && Peek() != '#' && Peek() != '\n' && Peek() != '\r')
      ++pos_;
    if (pos_ == start) Fail(line_, "expected KEY=VALUE, found no name before '='");
    return std::string(text_.substr(start, pos_ - start));
  }

  std::string ParseValue() {
    if (Peek() == '\'' || Peek() == '"') {
      std::string value = Peek() == '\'' ? ParseSingleQuoted() : ParseDoubleQuoted();
      ExpectLineEnd();
      return value;
    }
    return ParseUnquoted();
  }

  std::string ParseSingleQuoted() {
    int opened_on = line_;
    size_t start = ++pos_;
    while (!AtEnd() && Peek() != '\'') line_ += text_[pos_++] == '\n';
    if (AtEnd()) Fail(opened_on, "the value's opening ' is never closed");
    return std::string(text_.substr(start, pos_++ - start));
  }

  std::string ParseDoubleQuoted() {
    int opened_on = line_;
    std::string value;
    for (++pos_; !AtEnd() && Peek() != '"'; ++pos_) {
      char c = Peek();
      line_ += c == '\n';
      if (c == '\\' && pos_ + 1 < text_.size()) {
        char escaped = DoubleQuoteEscape(text_[pos_ + 1]);
        if (escaped != '\0') {
          value += escaped;
          ++pos_;
          continue;
        }
      }
      value += c;
    }
    if (AtEnd()) Fail(opened_on, "the value's opening \" is never closed");
    ++pos_;
    return value;
  }

  // Up to the end of the line; " #..." starts a comment; surrounding blanks are dropped.
  std::string ParseUnquoted() {
    size_t start = pos_;
    while (!AtLineEnd() && !(Peek() == '#' && pos_ > start && IsLineSpace(text_[pos_ - 1]))) ++pos_;
    std::string_view value = text_.substr(start, pos_ - start);
    while (!value.empty() && (IsLineSpace(value.back()) || value.back() == '\r')) value.remove_suffix(1);
    SkipRestOfLine();
    return std::string(value);
  }

  void ExpectLineEnd() {
    SkipBlanks();
    if (!AtLineEnd() && Peek() != '#') Fail(line_, "unexpected text after the closing quote");
    SkipRestOfLine();
  }

  std::string_view text_;
  std::string_view path_;
  size_t pos_ = 0;
  int line_ = 1;
  std::map<std::string, std::string> values_;
};

}  // namespace

std::map<std::string, std::string> ParseEnvFile(std::string_view text, std::string_view path) {
  return EnvFileParser(text, path).Parse();
}

std::string ReadSettingsFile(const std::string& path, std::string_view what) {
  std::optional<std::string> text;
  try {
    text = ReadRegularFile(path, kMaxSettingsFileBytes, what);
  } catch (const WorkerError& error) {
    throw ConfigError(error.what());
  }
  if (!text) throw ConfigError(std::string(what) + " " + QuoteForMessage(path) + " does not exist");
  return std::move(*text);
}

std::map<std::string, std::string> ReadEnvFile(const std::string& path) {
  return ParseEnvFile(ReadSettingsFile(path, ".env file"), path);
}

bool IsVariableName(std::string_view name) {
  if (name.empty() || (name.front() >= '0' && name.front() <= '9')) return false;
  for (char c : name)
    if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

}  // namespace orch
