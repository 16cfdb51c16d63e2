#include "report/summary.h"

#include <gtest/gtest.h>

namespace orch {
namespace {

PassReport Example() {
  PassReport report;
  report.started_at = std::chrono::system_clock::time_point(std::chrono::seconds(1764138677));
  report.finished_at = report.started_at + std::chrono::seconds(3);
  LabelReport done;
  done.label = "department";
  done.misclassified = 40;
  done.sampled_correct = 20;
  done.dataset_len = 60;
  done.threshold = 50;
  done.prepare = true;
  done.outcome = Outcome::kRetrainTriggered;
  done.baseline_version = "v1";
  done.dataset_version = "v2";
  done.evidence.new_rows = 40;
  LabelReport skipped;
  skipped.label = "urgency";
  skipped.misclassified = 2;
  skipped.sampled_correct = 1;
  skipped.dataset_len = 3;
  skipped.upper_bound = true;
  skipped.threshold = 30;
  skipped.outcome = Outcome::kBelowThreshold;
  report.labels = {done, skipped};
  return report;
}

TEST(Summary, JsonHasEveryDocumentedField) {
  nlohmann::ordered_json summary = SummaryJson(Example());
  EXPECT_EQ(summary["status"], "ok");
  EXPECT_EQ(summary["dry_run"], false);
  EXPECT_EQ(summary["started_at"], "2025-11-26T06:31:17.000Z");
  EXPECT_EQ(summary["finished_at"], "2025-11-26T06:31:20.000Z");
  const nlohmann::ordered_json& label = summary["labels"][0];
  for (const char* key :
       {"label", "misclassified", "sampled_correct", "dataset_len", "threshold", "decision", "outcome",
        "baseline_version", "dataset_version", "error", "upper_bound", "new_rows", "min_new_rows", "cooldown_until"})
    EXPECT_TRUE(label.contains(key)) << key;
  EXPECT_EQ(label["new_rows"], 40);
  EXPECT_EQ(label["min_new_rows"], 1);
  EXPECT_TRUE(summary["labels"][1]["new_rows"].is_null());
  EXPECT_EQ(label["decision"], "prepare");
  EXPECT_EQ(label["outcome"], "retrain_triggered");
  EXPECT_EQ(summary["labels"][1]["decision"], "skip");
  EXPECT_TRUE(summary["labels"][1]["dataset_version"].is_null());
}

TEST(Summary, GithubOutputsNameTheStatusAndTheLabelsOfEachOutcome) {
  PassReport report = Example();
  LabelReport third = report.labels[0];
  third.label = "topic";
  report.labels.push_back(third);
  EXPECT_EQ(GithubOutputs(report),
            "status=ok\nexit_code=0\nretrain_triggered=department,topic\nbelow_threshold=urgency\n");
  report.labels[1].outcome = Outcome::kFailed;
  EXPECT_EQ(GithubOutputs(report), "status=failed\nexit_code=1\nretrain_triggered=department,topic\nfailed=urgency\n");
}

TEST(Summary, AnyTimeoutOrFailureFailsThePass) {
  PassReport report = Example();
  EXPECT_EQ(report.exit_code(), 0);
  report.labels[1].outcome = Outcome::kTimeout;
  EXPECT_EQ(report.exit_code(), 1);
  EXPECT_EQ(SummaryJson(report)["status"], "failed");
  report.labels[1].outcome = Outcome::kBelowThreshold;
  report.error = "database unreachable";
  EXPECT_EQ(report.exit_code(), 1);
}

TEST(Summary, MarkdownTableHasARowPerLabelAndEscapesPipes) {
  PassReport report = Example();
  report.labels[1].error = "a|b";
  std::string markdown = SummaryMarkdown(report);
  EXPECT_NE(markdown.find("| department | 40 | 20 | 60 | 50 | 40 new of 1 | prepare | retrain_triggered | v2 |  |"),
            std::string::npos)
      << markdown;
  EXPECT_NE(markdown.find("| urgency | 2 | 1 | ≤ 3 |"), std::string::npos) << markdown;
  EXPECT_NE(markdown.find("a\\|b"), std::string::npos);
}

}  // namespace
}  // namespace orch
