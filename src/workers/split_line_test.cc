#include "workers/split_line.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace orch {
namespace {

// What nlohmann::json writes for the line, the format the split files always had.
std::string NlohmannLine(const std::string& text, int64_t label) {
  const nlohmann::ordered_json line = {{"grievance", text}, {"label", label}};
  return line.dump(-1, ' ', /*ensure_ascii=*/false) + "\n";
}

std::string Line(const std::string& text, int64_t label) {
  std::string escaped, line;
  AppendJsonEscaped(text, escaped);
  AppendSplitLine(escaped, label, line);
  return line;
}

TEST(SplitLine, IsWhatNlohmannWritesForEveryAsciiCharacterAndUnicode) {
  std::string every_ascii;
  for (int c = 1; c < 128; ++c) every_ascii += static_cast<char>(c);
  for (const std::string& text : {std::string(), every_ascii, std::string("पानी \"आएन\" \\ ॐ\xE2\x80\x8D 😀"),
                                  std::string("a\0b", 3), std::string("\x7F\x1F\x01")})
    for (int64_t label : {int64_t{0}, int64_t{7}, int64_t{99999}, int64_t{-3}})
      EXPECT_EQ(Line(text, label), NlohmannLine(text, label)) << text;
}

TEST(SplitLine, AppendsToWhatIsThere) {
  std::string out = "x";
  AppendJsonEscaped("a\"b", out);
  EXPECT_EQ(out, "xa\\\"b");
  AppendSplitLine("t", 1, out);
  EXPECT_EQ(out, "xa\\\"b{\"grievance\":\"t\",\"label\":1}\n");
}

}  // namespace
}  // namespace orch
