#include "config/env_file.h"

#include <gtest/gtest.h>

#include "support/temp_dir.h"
#include "util/error.h"

namespace orch {
namespace {

using Values = std::map<std::string, std::string>;

std::string ErrorOf(std::string_view text) {
  try {
    ParseEnvFile(text, "/x/.env");
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "<no ConfigError>";
}

TEST(EnvFileTest, ReadsAssignmentsCommentsBlankLinesAndExport) {
  Values values = ParseEnvFile(
      "# a comment\n"
      "\n"
      "HF_TOKEN=hf_abc\n"
      "  export POLL_INTERVAL = 30  \n"
      "\t# indented comment\n"
      "EMPTY=\n"
      "exported=yes\n",
      ".env");
  EXPECT_EQ(values, (Values{{"HF_TOKEN", "hf_abc"}, {"POLL_INTERVAL", "30"}, {"EMPTY", ""}, {"exported", "yes"}}));
}

TEST(EnvFileTest, InlineCommentsNeedABlankBeforeTheHash) {
  Values values = ParseEnvFile("A=b #c\nB=b#c\nC= #c\nD=x\t# tab\n", ".env");
  EXPECT_EQ(values.at("A"), "b");
  EXPECT_EQ(values.at("B"), "b#c");
  EXPECT_EQ(values.at("C"), "#c");
  EXPECT_EQ(values.at("D"), "x");
}

TEST(EnvFileTest, SingleQuotedValuesAreLiteral) {
  Values values = ParseEnvFile("A='x\\ny #not a comment'  # comment\nB='  spaced  '\n", ".env");
  EXPECT_EQ(values.at("A"), "x\\ny #not a comment");
  EXPECT_EQ(values.at("B"), "  spaced  ");
}

TEST(EnvFileTest, DoubleQuotedValuesHaveEscapesAndMaySpanLines) {
  Values values = ParseEnvFile(
      "A=\"line1\\nline2 \\\"q\\\" \\\\ \\d\"\n"
      "B=\"first\nsecond\"\n"
      "C=after\n",
      ".env");
  EXPECT_EQ(values.at("A"), "line1\nline2 \"q\" \\ \\d");
  EXPECT_EQ(values.at("B"), "first\nsecond");
  EXPECT_EQ(values.at("C"), "after");
}

TEST(EnvFileTest, LaterLinesWinAndBareNamesSetNothing) {
  Values values = ParseEnvFile("A=1\nBARE\nexport ALSO_BARE # comment\nA=2\n", ".env");
  EXPECT_EQ(values, (Values{{"A", "2"}}));
}

TEST(EnvFileTest, AcceptsWindowsLineEndingsAndAByteOrderMark) {
  Values values = ParseEnvFile(
      "\xEF\xBB\xBF"
      "A=1\r\nB='2'\r\n# c\r\nC=3",
      ".env");
  EXPECT_EQ(values, (Values{{"A", "1"}, {"B", "2"}, {"C", "3"}}));
}

TEST(EnvFileTest, MalformedLinesAreErrorsWithFileAndLine) {
  EXPECT_EQ(ErrorOf("A=1\n\nNOT AN ASSIGNMENT\n"), "/x/.env:3: expected KEY=VALUE after \"NOT\"");
  EXPECT_EQ(ErrorOf("=value\n"), "/x/.env:1: expected KEY=VALUE, found no name before '='");
  EXPECT_EQ(ErrorOf("A=1\nB='open\nC=2\n"), "/x/.env:2: the value's opening ' is never closed");
  EXPECT_EQ(ErrorOf("A=\"open\\\"\n"), "/x/.env:1: the value's opening \" is never closed");
  EXPECT_EQ(ErrorOf("A=1\nB=\"x\" trailing\n"), "/x/.env:2: unexpected text after the closing quote");
  EXPECT_EQ(ErrorOf("A=\"multi\nline\" junk\n"), "/x/.env:2: unexpected text after the closing quote");
  EXPECT_EQ(ErrorOf(std::string("A=1\nB=x\0y\n", 10)), "/x/.env:2: contains a NUL byte; a .env file is text");
}

TEST(EnvFileTest, ErrorsNeverQuoteTheValue) {
  std::string message = ErrorOf("HF_TOKEN='hf_supersecret\n");
  EXPECT_EQ(message.find("supersecret"), std::string::npos) << message;
  message = ErrorOf("HF_TOKEN=\"hf_supersecret\" oops\n");
  EXPECT_EQ(message.find("supersecret"), std::string::npos) << message;
}

TEST(EnvFileTest, ReadsARealFile) {
  testing::TempDir dir;
  testing::WriteFile(dir.File("my.env"), "DRY_RUN=1\nLABELS='department'\n");
  EXPECT_EQ(ReadEnvFile(dir.File("my.env")), (Values{{"DRY_RUN", "1"}, {"LABELS", "department"}}));
}

TEST(EnvFileTest, AMissingFileOrADirectoryIsAnError) {
  testing::TempDir dir;
  EXPECT_THROW(ReadEnvFile(dir.File("absent.env")), ConfigError);
  EXPECT_THROW(ReadEnvFile(dir.path().string()), ConfigError);
}

TEST(EnvFileTest, ErrorsInARealFileNameItsPath) {
  testing::TempDir dir;
  testing::WriteFile(dir.File("bad.env"), "OK=1\nnot valid\n");
  try {
    ReadEnvFile(dir.File("bad.env"));
    FAIL() << "no ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()).rfind(dir.File("bad.env") + ":2: ", 0), 0u) << error.what();
  }
}

}  // namespace
}  // namespace orch
