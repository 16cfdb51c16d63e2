#include "config/target.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace orch {
namespace {

using Words = std::vector<std::string>;

std::string ErrorOf(std::string_view text) {
  try {
    ParseTarget(text);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

TEST(ParseTarget, ABareOwnerNameIsASpaceAsInTheOriginal) {
  EXPECT_EQ(ParseTarget("owner/prepare").kind, Target::Kind::kHfSpace);
  EXPECT_EQ(ParseTarget("owner/prepare").space_id, "owner/prepare");
  EXPECT_EQ(ParseTarget("hf-space:owner/retrain_dept").space_id, "owner/retrain_dept");
}

TEST(ParseTarget, CommandsAreSplitLikeAShellWouldWithoutExpandingAnything) {
  Target target = ParseTarget("command:/usr/bin/orchestrator retrain --label department --models '/srv/my models'");
  EXPECT_EQ(target.kind, Target::Kind::kCommand);
  EXPECT_EQ(target.argv,
            (Words{"/usr/bin/orchestrator", "retrain", "--label", "department", "--models", "/srv/my models"}));
  EXPECT_EQ(SplitCommandLine(R"(echo "a \"b\" $HOME" c\ d '')"), (Words{"echo", "a \"b\" $HOME", "c d", ""}));
}

TEST(ParseTarget, WebhooksNeedHttpsOrLoopback) {
  Target target = ParseTarget("webhook:https://airflow.example/api/v1/dags/retrain/dagRuns");
  EXPECT_EQ(target.kind, Target::Kind::kWebhook);
  EXPECT_EQ(target.url, "https://airflow.example/api/v1/dags/retrain/dagRuns");
  EXPECT_NE(ErrorOf("webhook:http://airflow.example/x").find("webhook URL is not accepted"), std::string::npos);
  EXPECT_EQ(ParseTarget("webhook:http://127.0.0.1:8080/hook").kind, Target::Kind::kWebhook);
}

TEST(ParseTarget, MistakesSayWhatIsExpected) {
  EXPECT_NE(ErrorOf("noslash").find("command:"), std::string::npos);
  EXPECT_NE(ErrorOf("command:").find("the command is empty"), std::string::npos);
  EXPECT_NE(ErrorOf("command:echo 'open").find("unterminated '"), std::string::npos);
  EXPECT_NE(ErrorOf("command:echo \"open").find("unterminated \""), std::string::npos);
}

}  // namespace
}  // namespace orch
