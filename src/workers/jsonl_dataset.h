// Reading one version of a label's dataset from the local dataset hub, and checking it is whole.
//
// The prepare worker publishes HUB/<label>/<version_tag>/{train,eval,test}.jsonl and labels.json,
// then names the version in HUB/<label>/dataset_metadata.json (see docs/retrain-worker.md). The
// retrain worker reads it through this file and refuses anything it cannot trust: a missing file, a
// line that is not a {"grievance": text, "label": id} object (a last line cut short is a file that was
// not completely written), an id the version's labels.json does not name, an empty split, a split
// whose row count differs from the metadata's, or metadata naming a version whose directory is
// missing, or a file that is not a regular file of bounded size (a directory, a FIFO, a symlink loop,
// a split over kMaxSplitFileBytes, metadata or a label map over kMaxJsonDocumentBytes). Each refusal
// is a WorkerError naming the file (and line) and saying what to do.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orch {

// One row of a split: a clean grievance text and its class id.
struct SplitRow {
  std::string text;
  int label = 0;
};

// Class id -> class name, as a version's labels.json gives them.
using ClassNamesById = std::map<int, std::string>;

// One dataset version, read and checked.
struct TextDataset {
  std::string label;                // the label it is for (the dataset's name)
  std::string version_tag;          // e.g. v20261126_101502
  std::filesystem::path directory;  // HUB/<label>/<version_tag>
  ClassNamesById classes;
  std::vector<SplitRow> train, eval, test;
};

// The most a split file may hold: 4 GiB, ten million rows of 400 bytes.
constexpr uint64_t kMaxSplitFileBytes = uint64_t{4} << 30;

// Whether `tag` can name a version directory: letters, digits, '_', '-', '.', not starting with '.',
// at most 100 characters (so a tag never leaves the dataset directory).
bool IsSafeVersionTag(std::string_view tag);

// The version dataset_dir/dataset_metadata.json names as the latest. Throws WorkerError when the
// file is missing or invalid, or describes another label than `label`.
std::string LatestDatasetVersion(const std::filesystem::path& dataset_dir, std::string_view label);

// Reads version `version` (the latest when not given) of `label`'s dataset in `dataset_dir`
// (HUB/<label>). Throws WorkerError for anything missing or malformed, ConfigError for a `version`
// that cannot be a version tag.
TextDataset ReadTextDataset(const std::filesystem::path& dataset_dir, std::string_view label,
                            const std::optional<std::string>& version = std::nullopt);

// Reads a labels.json file: {"<class name>": id, ...} with distinct non-negative ids.
ClassNamesById ReadClassNames(const std::filesystem::path& labels_file);

// Reads one JSONL split, checking every line against `classes`. An empty file gives no rows.
std::vector<SplitRow> ReadLabelledJsonl(const std::filesystem::path& file, const ClassNamesById& classes);

// The rows of a split's text, read from `file` (named in errors, with the line, as "<file> line 7: ..."):
// ReadLabelledJsonl without the reading.
std::vector<SplitRow> ParseLabelledJsonl(std::string_view text, const ClassNamesById& classes,
                                         const std::filesystem::path& file);

}  // namespace orch
