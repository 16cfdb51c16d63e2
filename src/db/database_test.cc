#include "db/database.h"

#include <gtest/gtest.h>

namespace orch {
namespace {

TEST(IsValidIdentifier, AcceptsPlainSnakeCaseNames) {
  EXPECT_TRUE(IsValidIdentifier("department"));
  EXPECT_TRUE(IsValidIdentifier("model_predicted_urgency"));
  EXPECT_TRUE(IsValidIdentifier("_x9"));
  EXPECT_TRUE(IsValidIdentifier(std::string(63, 'a')));
}

TEST(IsValidIdentifier, RefusesAnythingThatCouldChangeTheQuery) {
  EXPECT_FALSE(IsValidIdentifier(""));
  EXPECT_FALSE(IsValidIdentifier(std::string(64, 'a')));
  EXPECT_FALSE(IsValidIdentifier("Department"));
  EXPECT_FALSE(IsValidIdentifier("9lives"));
  EXPECT_FALSE(IsValidIdentifier("a;drop table complaints"));
  EXPECT_FALSE(IsValidIdentifier("a\"b"));
  EXPECT_FALSE(IsValidIdentifier("a-b"));
  EXPECT_FALSE(IsValidIdentifier("naïve"));
}

TEST(LabelColumns, DefaultsFollowTheOriginalSchema) {
  LabelColumns c = LabelColumns::Defaults("urgency");
  EXPECT_EQ(c.predicted, "model_predicted_urgency");
  EXPECT_EQ(c.correct, "correct_urgency");
  EXPECT_EQ(c.pool, "urgency");
}

}  // namespace
}  // namespace orch
