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

TEST(ParseTarget, JobsTakeAnImageAndACommandAsHfJobsRunDoes) {
  Target target =
      ParseTarget("hf-job:ghcr.io/owner/orchestrator:0.1@sha256:ab12 orchestrator retrain --hub '/srv/my hub'");
  EXPECT_EQ(target.kind, Target::Kind::kHfJob);
  EXPECT_EQ(target.image, "ghcr.io/owner/orchestrator:0.1@sha256:ab12");
  EXPECT_EQ(target.space_id, "");
  EXPECT_EQ(target.argv, (Words{"orchestrator", "retrain", "--hub", "/srv/my hub"}));
  EXPECT_STREQ(TargetKindName(target.kind), "hf-job");
}

TEST(ParseTarget, AJobImageOnTheHubNamesItsSpace) {
  for (const char* image : {"hf.co/spaces/owner/trainer", "https://huggingface.co/spaces/owner/trainer",
                            "huggingface.co/spaces/owner/trainer", "https://hf.co/spaces/owner/trainer"}) {
    Target target = ParseTarget(std::string("hf-job:") + image + " python train.py");
    EXPECT_EQ(target.space_id, "owner/trainer") << image;
    EXPECT_EQ(target.image, "") << image;
    EXPECT_EQ(target.argv, (Words{"python", "train.py"})) << image;
  }
}

TEST(ParseTarget, AJobWithoutACommandOrWithABadImageIsRefusedWithAnExample) {
  EXPECT_NE(ErrorOf("hf-job:").find("needs an image and a command"), std::string::npos) << ErrorOf("hf-job:");
  EXPECT_NE(ErrorOf("hf-job:python:3.12").find("e.g. hf-job:python:3.12 python -m retrain"), std::string::npos);
  EXPECT_NE(ErrorOf("hf-job:python:3.12 'open").find("unterminated '"), std::string::npos);
  EXPECT_NE(ErrorOf("hf-job:hf.co/spaces/owner python x").find("names no Space"), std::string::npos);
  EXPECT_NE(ErrorOf("hf-job:hf.co/spaces/owner/../x python x").find("names no Space"), std::string::npos);
  EXPECT_NE(ErrorOf("hf-job:py$thon python x").find("is not a Docker image reference"), std::string::npos);
  EXPECT_NE(ErrorOf("hf-job:-v python x").find("is not a Docker image reference"), std::string::npos);
  EXPECT_NE(ErrorOf("noslash").find("hf-job:IMAGE COMMAND"), std::string::npos);
}

TEST(ParseTarget, MistakesSayWhatIsExpected) {
  EXPECT_NE(ErrorOf("noslash").find("command:"), std::string::npos);
  EXPECT_NE(ErrorOf("command:").find("the command is empty"), std::string::npos);
  EXPECT_NE(ErrorOf("command:echo 'open").find("unterminated '"), std::string::npos);
  EXPECT_NE(ErrorOf("command:echo \"open").find("unterminated \""), std::string::npos);
}

}  // namespace
}  // namespace orch
