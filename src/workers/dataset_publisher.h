// Publishing one version of a label's dataset into the local dataset hub (see the local loop's
// contract, docs/prepare-worker.md):
//
//   HUB/<label>/labels.json                  the label's stable map, updated first (ids only grow)
//   HUB/<label>/<version_tag>/train.jsonl    {"grievance": "<clean text>", "label": <id>} per line
//   HUB/<label>/<version_tag>/eval.jsonl     the same
//   HUB/<label>/<version_tag>/test.jsonl     the same
//   HUB/<label>/<version_tag>/labels.json    the label map as it was for this version
//   HUB/<label>/<version_tag>/README.md      the dataset card
//   HUB/<label>/dataset_metadata.json        written last: names the latest version
//
// The version is written into HUB/<label>/incomplete-<version_tag>/, every file fsynced, then
// renamed to <version_tag> (never over an existing directory); only then is dataset_metadata.json
// replaced: written to HUB/<label>/.dataset_metadata.json.<pid>.tmp, fsynced, renamed over the old
// one, and the directory fsynced. A failure at any step removes what this version wrote and leaves
// dataset_metadata.json as it was; a process killed midway may leave an incomplete-* directory,
// which no reader takes for a version.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "util/durable_file.h"
#include "workers/label_map.h"
#include "workers/stratified_split.h"

namespace orch {

// Where a dataset's rows came from, for the report, the dataset card and dataset_metadata.json.
struct DatasetSources {
  int64_t misclassified_read = 0;  // reviewed misclassified rows the database returned
  int64_t misclassified = 0;       // of those, the rows kept
  int64_t pool = 0;                // complaints in the correct pool
  int64_t correct_wanted = 0;      // floor(misclassified_read × correct_ratio), capped at the pool
  int64_t correct = 0;             // sampled correct rows kept (more than wanted: see RowsReplaced)
  int64_t dropped = 0;             // rows read but left out: no text after cleaning, or no label
  int64_t dropped_no_text = 0;     // of those, the rows whose text was empty after cleaning
  double correct_ratio = 0;        // CORRECT_RATIO
  int64_t seed = 0;                // PREPARE_SEED
};

// The rows a pass counts for these sources, its dataset_len: every misclassified row read and the
// sample of the pool it asks for.
int64_t CountedRows(const DatasetSources& from);

// Counted rows the dataset lacks: left out (no text, no label) and not made up for by another
// correct row, because the pool had no usable row left. The published num_samples plus these is
// CountedRows; dataset_metadata.json says it as "rows_dropped".
int64_t CountedRowsDropped(const DatasetSources& from);

// Rows left out that another correct row of the pool took the place of: dropped - CountedRowsDropped.
int64_t RowsReplaced(const DatasetSources& from);

// A label's dataset, built and split, ready to be written.
struct Dataset {
  std::string label;               // the label's name: HUB/<label>
  LabelMap label_map;              // with an id for every class in `labels`
  std::vector<std::string> texts;  // cleaned texts; row i is texts[i] with class id labels[i]
  std::vector<int64_t> labels;
  SplitIndices splits;  // row indices of train, eval and test, in file order
  DatasetSources sources;
};

struct PublishedVersion {
  std::string version_tag;     // vYYYYMMDD_HHMMSS[_n]
  std::filesystem::path path;  // HUB/<label>/<version_tag>
  std::string created_at;      // 2026-11-26T10:15:02.110260+00:00
  int64_t num_samples = 0;
  SplitSizes splits;
};

// "v20261126_101502" for that time in UTC.
std::string VersionTag(std::chrono::system_clock::time_point time);

// "2026-11-26T10:15:02.110260+00:00": ISO 8601 in UTC with microseconds, as the original workers wrote it.
std::string CreatedAt(std::chrono::system_clock::time_point time);

// Throws WorkerError unless `hub_dir` is an existing directory.
void RequireHubDirectory(const std::filesystem::path& hub_dir);

// Holds HUB/<label>/.prepare.lock (flock) while one prepare reads the label map and publishes, so
// two prepares of one label never hand out the same new id. Creates HUB/<label> when missing.
// Throws WorkerError when another process holds it.
class LabelDirectoryLock {
 public:
  LabelDirectoryLock(const std::filesystem::path& hub_dir, const std::string& label);

 private:
  LockFile lock_;
};

// Writes and publishes `dataset` as a new version under hub_dir/<label>/, created at `now`.
// Throws WorkerError (with dataset_metadata.json untouched) when a file cannot be written.
PublishedVersion PublishDataset(const std::filesystem::path& hub_dir, const Dataset& dataset,
                                std::chrono::system_clock::time_point now);

}  // namespace orch
