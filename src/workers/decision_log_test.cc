#include "workers/decision_log.h"

#include <gtest/gtest.h>

#include "support/error_of.h"
#include "util/error.h"

namespace orch {
namespace {

using testing::WorkerErrorOf;

ModelDecision Accepted(const std::string& dataset_version) {
  return {.time = "2026-11-26T10:20:00.000Z",
          .label = "department",
          .kind = DecisionKind::kAccepted,
          .dataset_version = dataset_version,
          .model_version = "m_" + dataset_version,
          .new_scores = ClassificationScores{.macro_f1 = 0.8, .accuracy = 0.85},
          .deployed_scores = std::nullopt,
          .deployed_version = std::nullopt,
          .deployed_dataset_version = std::nullopt,
          .decision_threshold = 0.001,
          .reason = "no model is deployed yet",
          .candidate = std::string(40, 'c')};
}

std::string Line(DecisionKind kind, const std::string& dataset_version) {
  ModelDecision decision = Accepted(dataset_version);
  decision.kind = kind;
  return DecisionLine(decision);
}

std::string Log(const std::vector<std::string>& lines) {
  std::string log;
  for (const std::string& line : lines) log = AppendDecisionLine(log, line);
  return log;
}

TEST(DecisionLog, ALineHasEveryKeyInItsOrder) {
  ModelDecision rejected = Accepted("v2");
  rejected.kind = DecisionKind::kRejected;
  rejected.deployed_scores = ClassificationScores{.macro_f1 = 0.9, .accuracy = 0.91};
  rejected.deployed_version = "m_v1";
  rejected.deployed_dataset_version = "v1";
  const nlohmann::ordered_json json = ModelDecisionJson(rejected);
  std::vector<std::string> keys;
  for (const auto& [key, value] : json.items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"time", "label", "dataset_version", "model_version", "decision", "new",
                                            "deployed", "deployed_version", "deployed_dataset_version",
                                            "decision_threshold", "reason", "candidate"}));
  EXPECT_EQ(json["decision"], "rejected");
  EXPECT_EQ(json["deployed"]["accuracy"], 0.91);
  EXPECT_EQ(json["deployed_dataset_version"], "v1");
  EXPECT_EQ(json["decision_threshold"], 0.001);
  const nlohmann::ordered_json first = ModelDecisionJson(Accepted("v1"));
  EXPECT_TRUE(first["deployed"].is_null());
  EXPECT_TRUE(first["deployed_version"].is_null());
  EXPECT_EQ(DecisionLine(Accepted("v1")).find('\n'), std::string::npos);
  EXPECT_EQ(DecisionKindName(DecisionKind::kRolledBack), std::string("rolled_back"));
  EXPECT_EQ(DecisionKindName(DecisionKind::kImported), std::string("imported"));
}

TEST(DecisionLog, AppendingEndsALastLineCutShortFirst) {
  const std::string line = Line(DecisionKind::kAccepted, "v1");
  EXPECT_EQ(AppendDecisionLine("", line), line + "\n");
  EXPECT_EQ(AppendDecisionLine(line + "\n", line), line + "\n" + line + "\n");
  EXPECT_EQ(AppendDecisionLine(line.substr(0, 30), line), line.substr(0, 30) + "\n" + line + "\n");
}

TEST(DecisionLog, ADamagedLineIsNamedAndTheReadableOnesAreShown) {
  const std::string good = Log({Line(DecisionKind::kAccepted, "v1"), Line(DecisionKind::kRejected, "v2")});
  EXPECT_EQ(ParseDecisionLog(good, "L", "").size(), 2u);
  EXPECT_EQ(WorkerErrorOf([&] { ParseDecisionLog(good + "[1, 2]\n", "M/decisions.jsonl", "do this"); }),
            "M/decisions.jsonl line 3 is not a decision (a JSON object with a \"dataset_version\" string): the "
            "decision log is damaged; do this");
  EXPECT_EQ(WorkerErrorOf([&] { ParseDecisionLog("\n" + good, "M/decisions.jsonl", ""); }),
            "M/decisions.jsonl line 1 is not valid JSON (column 1: syntax error while parsing value - unexpected end "
            "of input; expected '[', '{', or a literal): the decision log is damaged");
  EXPECT_TRUE(WorkerErrorOf([&] {
                ParseDecisionLog(good + good.substr(0, 40), "M", "");
              }).starts_with("M line 3 is not valid JSON (column 41: "));
  const std::vector<LoggedDecision> readable = ReadableDecisions("junk\n" + good + "{\"x\": 1}\n");
  ASSERT_EQ(readable.size(), 2u);
  EXPECT_EQ(readable[0].line_number, 2u);
  EXPECT_EQ(readable[1].decision, "rejected");
  EXPECT_EQ(readable[1].dataset_version, "v2");
  EXPECT_EQ(readable[1].new_macro_f1, 0.8);
  EXPECT_EQ(readable[1].deployed_macro_f1, std::nullopt);
  EXPECT_EQ(readable[1].text, Line(DecisionKind::kRejected, "v2"));
}

TEST(DecisionLog, TheDecisionOnAVersionIsItsLastTrainingOrImport) {
  const std::vector<LoggedDecision> log =
      ParseDecisionLog(Log({Line(DecisionKind::kImported, "v0"), Line(DecisionKind::kAccepted, "v1"),
                            Line(DecisionKind::kRejected, "v2"), Line(DecisionKind::kRolledBack, "v1")}),
                       "L", "");
  ASSERT_NE(DecisionOn(log, "v1"), nullptr);
  EXPECT_EQ(DecisionOn(log, "v1")->decision, "accepted") << "a rollback to it decides nothing on it";
  EXPECT_EQ(DecisionOn(log, "v2")->decision, "rejected");
  EXPECT_EQ(DecisionOn(log, "v0")->decision, "imported");
  EXPECT_EQ(DecisionOn(log, "v3"), nullptr);
  EXPECT_EQ(LoggedDeployment(log), "v1");
  EXPECT_EQ(LoggedDeployment(ParseDecisionLog(Log({Line(DecisionKind::kRejected, "v2")}), "L", "")), std::nullopt);
}

// The deployments replayed as a stack: a rollback undoes what came after the model it goes back to.
TEST(DecisionLog, TheModelDeployedBeforeIsTheOneBelowTheTop) {
  const auto any = [](const std::string&) { return true; };
  const auto before = [&](const std::vector<std::string>& lines, const std::string& deployed,
                          const std::function<bool(const std::string&)>& is_candidate) {
    return ModelDeployedBefore(ParseDecisionLog(Log(lines), "L", ""), deployed, is_candidate);
  };
  const std::string a1 = Line(DecisionKind::kAccepted, "v1"), a2 = Line(DecisionKind::kAccepted, "v2"),
                    a3 = Line(DecisionKind::kAccepted, "v3"), r4 = Line(DecisionKind::kRejected, "v4");
  EXPECT_EQ(before({a1, a2, a3}, "v3", any), "v2");
  EXPECT_EQ(before({a1, a2, a3, r4}, "v3", any), "v2") << "a rejection deploys nothing";
  EXPECT_EQ(before({a1, a2, a3, Line(DecisionKind::kRolledBack, "v2")}, "v2", any), "v1");
  EXPECT_EQ(
      before({a1, a2, a3, Line(DecisionKind::kRolledBack, "v2"), Line(DecisionKind::kRolledBack, "v1")}, "v1", any),
      std::nullopt);
  // A rollback to a model never deployed (a rejected candidate) goes on top.
  EXPECT_EQ(before({a1, a2, a3, r4, Line(DecisionKind::kRolledBack, "v4")}, "v4", any), "v3");
  // A rollback by name to a model deployed long ago undoes everything after it.
  EXPECT_EQ(before({a1, a2, a3, Line(DecisionKind::kRolledBack, "v1")}, "v1", any), std::nullopt);
  // Models without a candidate (an earlier release's) are passed over.
  EXPECT_EQ(before({a1, a2, a3}, "v3", [](const std::string& v) { return v != "v2"; }), "v1");
  // What main says is deployed is never the answer, whatever the log's top.
  EXPECT_EQ(before({a1, a2}, "v1", any), "v2");
  EXPECT_EQ(before({}, "v1", any), std::nullopt);
}

}  // namespace
}  // namespace orch
