// Where every label stands and what the last passes did, read once and served to every request
// until the next refresh: counting a large database takes a tenth of a second or more, so the
// status page, /api/status and /metrics answer from a snapshot instead of counting each time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "db/state_store.h"
#include "report/status.h"

namespace orch {

// One label in one pass's summary: what the pass counted, against which threshold. Small, as there
// is one per label and pass read: counts beyond 2^31 - 1 rows are kept as that.
struct EvidencePoint {
  int32_t misclassified = -1;  // -1: the pass did not count the label
  int32_t dataset_len = 0;
  int32_t threshold = 0;

  bool counted() const { return misclassified >= 0; }
};

// A retrain worker's decision, as a pass run with --wait reported it.
struct ScorePoint {
  int run = 0;  // index into Snapshot::runs
  std::string dataset_version;
  double macro_f1 = 0;                      // the new model's
  std::optional<double> deployed_macro_f1;  // the model it was compared with, when there was one
  std::optional<bool> accepted;             // nothing when the decision did not say
};

// A pass of orchestrator_runs, its summary reduced to what the page shows.
struct RunDigest {
  RunRecord record;                                   // summary_json left empty
  std::vector<std::pair<std::string, int>> outcomes;  // outcome -> labels, in order of first appearance
  std::optional<std::string> error;                   // the pass's own error, when it failed as a whole
};

struct Snapshot {
  WallTime taken_at{};
  double took_seconds = 0;          // how long taking it took
  std::vector<LabelStatus> labels;  // in the configuration's order
  std::string status_json;          // StatusJson(labels): what GET /api/status answers
  std::vector<RunDigest> runs;      // the newest passes, newest first
  // Per label (as in `labels`): nothing when no pass read counted it, otherwise one point per pass
  // read, oldest first: point j is of runs[runs.size() - 1 - j].
  std::vector<std::vector<EvidencePoint>> evidence;
  std::vector<std::vector<ScorePoint>> scores;  // per label, oldest first
};

// Counts and loads every configured label and reads the newest `history` passes. Throws
// DatabaseError when the database cannot be read.
Snapshot TakeSnapshot(const Config& config, int history);

// Fills snapshot.runs, .evidence and .scores from `runs` (newest first, as History returns them),
// for the labels of `config`; summaries that are not JSON, and labels no longer configured, are
// left out. The summaries are dropped as they are read.
void DigestRuns(const Config& config, std::vector<RunRecord> runs, Snapshot& snapshot);

}  // namespace orch
