#include "config/label_name.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace orch {
namespace {

TEST(LabelNameTest, AcceptsLowerCaseLettersDigitsAndUnderscores) {
  EXPECT_TRUE(IsValidLabelName("a"));
  EXPECT_TRUE(IsValidLabelName("department"));
  EXPECT_TRUE(IsValidLabelName("x_1"));
  EXPECT_TRUE(IsValidLabelName("a" + std::string(62, 'b')));
  EXPECT_EQ(LabelNameProblem("urgency"), "");
  EXPECT_NO_THROW(ValidateLabelName("urgency"));
}

TEST(LabelNameTest, RefusesHostileNames) {
  const std::string hostile[] = {"",
                                 "Dept",
                                 "1abc",
                                 "_a",
                                 "a-b",
                                 "a;drop",
                                 "x y",
                                 "a" + std::string(63, 'b'),
                                 "d\xc3\xa9pt",
                                 "a\nb",
                                 std::string("a\0b", 3),
                                 "a.b"};
  for (const std::string& name : hostile) {
    EXPECT_FALSE(IsValidLabelName(name)) << QuoteForMessage(name);
    EXPECT_THROW(ValidateLabelName(name), ConfigError) << QuoteForMessage(name);
  }
}

TEST(LabelNameTest, ProblemQuotesTheNameEscapedAndStatesTheRule) {
  std::string problem = LabelNameProblem("a;drop");
  EXPECT_NE(problem.find("\"a;drop\""), std::string::npos) << problem;
  EXPECT_NE(problem.find("[a-z][a-z0-9_]{0,62}"), std::string::npos) << problem;

  std::string control = LabelNameProblem("a\nb\x1b[31m");
  EXPECT_NE(control.find("\"a\\nb\\x1b[31m\""), std::string::npos) << control;
  EXPECT_EQ(control.find('\n'), std::string::npos);
  EXPECT_EQ(control.find('\x1b'), std::string::npos);

  std::string unicode = LabelNameProblem("d\xc3\xa9pt");
  EXPECT_NE(unicode.find("\"d\\xc3\\xa9pt\""), std::string::npos) << unicode;

  EXPECT_NE(LabelNameProblem("").find("label name \"\" is not valid"), std::string::npos);
}

TEST(LabelNameTest, ValidateThrowsTheProblem) {
  try {
    ValidateLabelName("Dept");
    FAIL() << "no ConfigError";
  } catch (const ConfigError& error) {
    EXPECT_EQ(std::string(error.what()), LabelNameProblem("Dept"));
    EXPECT_EQ(error.exit_code(), kExitUsage);
  }
}

TEST(LabelNameTest, EnvSpellingsAreUpperCaseWithTheOriginalsAlias) {
  EXPECT_EQ(LabelEnvSpellings("department"), (std::vector<std::string>{"DEPARTMENT", "DEPT"}));
  EXPECT_EQ(LabelEnvSpellings("urgency"), (std::vector<std::string>{"URGENCY"}));
  EXPECT_EQ(LabelEnvSpellings("my_label2"), (std::vector<std::string>{"MY_LABEL2"}));
}

TEST(LabelNameTest, QuoteForMessageEscapesAndCutsLongText) {
  EXPECT_EQ(QuoteForMessage("plain"), "\"plain\"");
  EXPECT_EQ(QuoteForMessage("q\"b\\t\t\r"), "\"q\\\"b\\\\t\\t\\r\"");
  EXPECT_EQ(QuoteForMessage(std::string("\0\x7f", 2)), "\"\\x00\\x7f\"");
  std::string quoted = QuoteForMessage(std::string(5000, 'x'));
  EXPECT_LT(quoted.size(), 150u);
  EXPECT_NE(quoted.find("5000 bytes"), std::string::npos) << quoted;
}

}  // namespace
}  // namespace orch
