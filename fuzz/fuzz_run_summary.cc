// Fuzz target for the pass summaries stored in orchestrator_runs.summary, read back by `orchestrator
// history` (RunLine, RunText, RunJson) and by the status page's snapshot (DigestRuns). A summary is
// whatever the column holds: JSON of any shape, or not JSON at all. For any text:
//  - the history prints it on one line (RunLine) and as lines without other control bytes
//    (RunText), and RunJson gives JSON that reads back;
//  - the snapshot keeps, per configured label and pass, counts within [0, 2^31 - 1] (or the mark of
//    a label not counted), finite scores, and outcomes that the summary's labels account for.
// None of them throws, so any exception is a finding.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/config.h"
#include "fuzz_check.h"
#include "report/history.h"
#include "serve/snapshot.h"

namespace orch::fuzz {
namespace {

RunRecord RunWith(std::string summary, int64_t id) {
  RunRecord run;
  run.id = id;
  run.status = "ok";
  run.started_by = "schedule";
  run.finished_at = run.started_at + std::chrono::seconds(75);
  run.summary_json = std::move(summary);
  return run;
}

void CheckHistory(const RunRecord& run) {
  Check(!HasControlByte(RunLine(run)), "a run's history line is one line");
  const std::string text = RunText(run);
  for (char c : text)
    Check(c == '\n' || (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f), "a run's text has no control byte");
  const std::string json = RunJson(run).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  Check(nlohmann::json::parse(json, nullptr, false).is_object(), "a run's JSON reads back as an object");
}

void CheckSnapshot(const std::string& summary) {
  Config config;
  for (const char* name : {"department", "urgency"}) {
    LabelConfig label;
    label.name = name;
    label.threshold = 10;
    config.labels.push_back(label);
  }
  std::vector<RunRecord> runs = {RunWith(summary, 2), RunWith(summary, 1)};
  Snapshot snapshot;
  DigestRuns(config, runs, snapshot);
  Check(snapshot.runs.size() == 2 && snapshot.runs[0].record.id == 2, "every pass is kept, newest first");
  Check(snapshot.evidence.size() == 2 && snapshot.scores.size() == 2, "one series per configured label");
  for (const std::vector<EvidencePoint>& points : snapshot.evidence) {
    Check(points.empty() || points.size() == 2, "a label's series has a point per pass, or none");
    for (const EvidencePoint& point : points) {
      Check(point.misclassified >= -1, "a label not counted is marked -1");
      Check(point.dataset_len >= 0 && point.threshold >= 0, "counts are not negative");
    }
  }
  for (const std::vector<ScorePoint>& scores : snapshot.scores)
    for (const ScorePoint& score : scores) {
      Check(std::isfinite(score.macro_f1), "a score is a finite number");
      Check(score.run >= 0 && score.run < 2, "a score belongs to a pass read");
    }
  for (const RunDigest& digest : snapshot.runs) {
    Check(digest.record.summary_json.empty(), "the summary is dropped once read");
    for (const auto& [outcome, count] : digest.outcomes) Check(count >= 1, "an outcome counts labels that reached it");
  }
}

}  // namespace
}  // namespace orch::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string summary(reinterpret_cast<const char*>(data), size);
  orch::fuzz::CheckHistory(orch::fuzz::RunWith(summary, 7));
  orch::fuzz::CheckSnapshot(summary);
  return 0;
}
