// Reading one version of a label's dataset from its dataset repository, and checking it is whole.
//
// The prepare worker publishes a version as two commits on main, the data then
// dataset_metadata.json, and tags the second with the version (workers/dataset_publisher.h). The
// retrain worker reads a version at its tag, never the moving main: the latest is the version main's
// dataset_metadata.json names, read at main's head as one commit, and then read at its tag (or at
// that head, for a version whose tag was not set yet: no later commit is made before it is). It
// refuses anything it cannot trust: a missing file, a line that is not a {"grievance": text,
// "label": id} object (a last line cut short is a file that was not completely written), an id
// the version's labels.json does not name, an empty split, a split whose row count differs from
// the version's metadata, a version that does not exist, or a file larger than its bound (a split
// over kMaxSplitFileBytes, metadata or a label map over kMaxJsonDocumentBytes). Each refusal is a
// WorkerError naming the file (and line), as <repository>@<version>/<path>, and saying what to do.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hub/repository.h"

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
  std::string label;        // the label it is for (the dataset's name)
  std::string version_tag;  // e.g. v20261126_101502
  std::string location;     // <repository>@<version_tag>: how messages name its files
  std::string commit;       // the commit its files were read at
  ClassNamesById classes;
  std::vector<SplitRow> train, validation, test;
};

// The most a split file may hold: 4 GiB, ten million rows of 400 bytes.
constexpr uint64_t kMaxSplitFileBytes = uint64_t{4} << 30;

// Whether `tag` can name a version: a ref name (hub/repository.h, IsValidRefName).
bool IsSafeVersionTag(std::string_view tag);

// --dataset DIR or DIR@VERSION: the repository's directory and the version, if named. An argument
// that is an existing directory is that directory, '@' and all.
struct DatasetReference {
  std::filesystem::path directory;
  std::optional<std::string> version;
};
DatasetReference ParseDatasetReference(const std::string& argument);

// Reads version `version` (the latest when not given) of `label`'s dataset in `repository`. Throws
// WorkerError for anything missing or malformed, ConfigError for a `version` that cannot be a
// version tag.
TextDataset ReadTextDataset(Repository& repository, std::string_view label,
                            const std::optional<std::string>& version = std::nullopt);

// The same, from the local repository `dataset_dir` (HUB/<label>); says what to do when the
// directory is missing or holds the layout of an earlier release (a directory per version).
TextDataset ReadTextDataset(const std::filesystem::path& dataset_dir, std::string_view label,
                            const std::optional<std::string>& version = std::nullopt);

// Parses a labels.json text: {"<class name>": id, ...} with distinct non-negative ids; `where`
// names it in errors.
ClassNamesById ParseClassNames(std::string_view text, const std::string& where);

// The rows of a split's text, read from `file` (named in errors, with the line, as "<file> line 7:
// ..."), each checked against `classes`, which `labels_file` holds (when empty: labels.json beside
// `file`). An empty text gives no rows.
std::vector<SplitRow> ParseLabelledJsonl(std::string_view text, const ClassNamesById& classes,
                                         const std::filesystem::path& file, const std::string& labels_file = "");

}  // namespace orch
