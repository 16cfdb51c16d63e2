#include "report/history.h"

#include <gtest/gtest.h>

namespace orch {
namespace {

RunRecord RunWith(std::string summary) {
  RunRecord run;
  run.id = 12;
  run.started_at = WallTime(std::chrono::seconds(1764142262));
  run.finished_at = run.started_at + std::chrono::seconds(185);
  run.status = "failed";
  run.started_by = "schedule";
  run.summary_json = std::move(summary);
  return run;
}

TEST(History, ShowsEachLabelsOutcome) {
  const RunRecord run = RunWith(R"({"status": "failed", "error": null, "labels": [
      {"label": "department", "outcome": "retrain_triggered", "dataset_len": 40, "threshold": 20,
       "dataset_version": "v2", "error": null},
      {"label": "urgency", "outcome": "timeout", "dataset_len": 9, "threshold": 10, "error": "no dataset"}]})");
  EXPECT_EQ(RunDuration(run), "3 min 5 s");
  EXPECT_EQ(RunLine(run),
            "    12  2025-11-26T07:31:02.000Z  3 min 5 s  failed    schedule  department=retrain_triggered  "
            "urgency=timeout");
  EXPECT_EQ(RunText(run),
            "pass 12: failed\n  started  2025-11-26T07:31:02.000Z by schedule\n"
            "  finished 2025-11-26T07:34:07.000Z after 3 min 5 s\n"
            "  department: retrain_triggered, 40 / 20 rows, dataset v2\n"
            "  urgency: timeout, 9 / 10 rows, no dataset\n");
}

TEST(History, ReadsASummaryOfAnyShapeWithoutFailingAndPrintsNoControlCharacter) {
  for (const char* summary :
       {"", "pass killed", "[1, 2]", R"({"labels": 5})", R"({"labels": {"label": "department"}})",
        R"({"error": {"x": 1}, "labels": [1, "x", null, {"label": 7, "outcome": ["a"], "dataset_len": "many",
            "threshold": 1e300, "error": "line\nbreak\u001b[2J"}]})",
        R"({"action": "pause", "label": "department", "reason": "freeze\u0007"})"}) {
    RunRecord run = RunWith(summary);
    run.status = "fai\nled\x1b[31m";
    const std::string line = RunLine(run);
    const std::string text = RunText(run);
    for (char c : line) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20) << summary;
    for (char c : text) EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 && c != '\n') << summary;
    EXPECT_TRUE(RunJson(run).is_object());
  }
}

}  // namespace
}  // namespace orch
