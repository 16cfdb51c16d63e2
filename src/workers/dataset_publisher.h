// Publishing one version of a label's dataset into its dataset repository (hub/repository.h): the
// local one of `orchestrator prepare`, or one on the Hub the same way (docs/prepare-worker.md).
//
//   commit 1 on main   README.md              the dataset card: YAML front matter that makes
//                                             `datasets.load_dataset` load the splits with a
//                                             class_label (hub/dataset_card.h), then the text
//                      labels.json            the label's stable map {"<class>": id}; ids only grow
//                      data/train.jsonl       {"grievance": "<clean text>", "label": <id>} per line
//                      data/validation.jsonl  the same
//                      data/test.jsonl        the same
//   commit 2 on main   dataset_metadata.json  names the version: what the orchestrator waits for
//   tag <version_tag>  on commit 2
//
// Commit 1 expects main's head as it was read, commit 2 expects commit 1, so nothing another
// writer committed meanwhile is ever built on. The metadata lands only after the data it describes,
// so whatever fails or is killed, main's dataset_metadata.json names a version whose files are all
// there. Only a failure between commit 2 and its tag leaves a version without a tag: readers then
// read main's head, which is that very commit (no later commit is made before the tag is set), and
// the next publication sets the tag first (FinishInterruptedPublication). A version tag is never
// used twice: a tag that exists makes the publisher take the next name.
//
// A commit refused because another writer moved main meanwhile (StaleParentError) changed nothing:
// main is read again and both commits are made once more on its new head, once.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hub/repository.h"
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

// Where the publisher's split files take a dataset's rows, line by line.
class SplitSink {
 public:
  virtual ~SplitSink() = default;
  // Appends a line to `split`'s file: the text as AppendJsonEscaped (workers/split_line.h) gives it,
  // and its class id.
  virtual void Add(Split split, std::string_view escaped_text, int64_t label) = 0;
};

// The rows of a split dataset, wherever they are held (the prepare worker keeps them in a scratch
// file, workers/row_spool.h), handed over in the order the split files list them.
class DatasetRows {
 public:
  virtual ~DatasetRows() = default;
  // Hands every row to `sink`, each split's rows in their file order; the same rows each time.
  virtual void WriteTo(SplitSink& sink) const = 0;
};

// A label's dataset, built and split, ready to be written.
struct Dataset {
  std::string label;                      // the label's name
  LabelMap label_map;                     // with an id for every class in `classes`
  std::map<int64_t, SplitSizes> classes;  // each class id that has rows: its rows in each split
  std::unique_ptr<DatasetRows> rows;      // the rows themselves, as many as `classes` counts
  DatasetSources sources;

  SplitSizes splits() const;  // the rows of each split, all classes together
  int64_t size() const;       // the rows of all splits
};

// What the dataset card says beyond the data: the languages of the texts (DATASET_LANGUAGES).
struct CardSettings {
  std::vector<std::string> languages;
};

// DATASET_LANGUAGES ("ne,en") as language codes. Throws ConfigError naming the setting for a code
// that is not one (hub/dataset_card.h, IsLanguageCode).
std::vector<std::string> ParseLanguages(const std::string& setting);

struct PublishedVersion {
  std::string version_tag;  // vYYYYMMDD_HHMMSS[_n]
  std::string repository;   // how the repository is named: HUB/<label> for the local one
  std::string commit;       // the commit the tag is on (commit 2)
  std::string created_at;   // 2026-11-26T10:15:02.110260+00:00
  int64_t num_samples = 0;
  SplitSizes splits;
};

// The split names and the files that hold them, in the order they are written.
struct SplitFile {
  const char* name;  // "train", "validation", "test"
  const char* path;  // "data/train.jsonl", ...
};
inline constexpr SplitFile kSplitFiles[] = {
    {"train", "data/train.jsonl"}, {"validation", "data/validation.jsonl"}, {"test", "data/test.jsonl"}};
inline constexpr const char* kMetadataPath = "dataset_metadata.json";
inline constexpr const char* kLabelMapPath = "labels.json";

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

// The label map of main's labels.json; nothing when main has no such file (or no commit).
std::optional<LabelMap> PublishedLabelMap(Repository& repository);

// Sets the tag of a version whose metadata commit landed without it (a publication stopped between
// commit 2 and its tag): when main's dataset_metadata.json names a version that has no tag, tags
// main's head. Returns the tag it set, if any.
std::optional<std::string> FinishInterruptedPublication(Repository& repository);

// Publishes `dataset` as a new version, created at `now`: the split files are written into
// `scratch_dir` (created, and removed after) as dataset.rows hands the rows over, and committed from
// there, then the metadata, then the tag (see the top of this file). Throws WorkerError when a file
// cannot be written, the label map's ids cannot be a class label, or the rows handed over do not
// match the split sizes (before anything is committed), RepositoryError (HubError) when the
// repository refuses a step. Main's dataset_metadata.json changes only with commit 2, after the
// version's data landed.
PublishedVersion PublishDataset(Repository& repository, const Dataset& dataset,
                                const std::filesystem::path& scratch_dir, const CardSettings& card,
                                std::chrono::system_clock::time_point now);

}  // namespace orch
