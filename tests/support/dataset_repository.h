// Dataset versions written into a local dataset repository the way `orchestrator prepare` publishes
// them (workers/dataset_publisher.h), from files a test makes up: labels.json and the three splits
// in one commit on main, dataset_metadata.json in the next, the version's tag on that one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace orch::testing {

struct VersionFiles {
  std::string labels_json;
  std::string train, validation, test;  // JSON lines
  // dataset_metadata.json; nothing: {"dataset_name": <the directory's name>, "version_tag",
  // "label_column", "num_samples", "splits"} with the splits' line counts.
  std::optional<std::string> metadata_json{};
  bool tag = true;  // false: a version whose publication stopped before its tag
};

// `count` rows of a split as JSON lines, {"grievance": text, "label": 0, 1 or 2}: three departments
// with words of their own (English and Nepali) among words every department uses, so that a model
// learns them; the same `seed` gives the same rows. With `shuffle_labels` the labels are random: data
// a model can learn nothing from.
std::string DepartmentSplitJsonl(size_t count, uint32_t seed, bool shuffle_labels = false);

// Publishes `version` into the repository at `dir` (created, with its parents, when missing);
// returns the commit the tag is on.
std::string PublishVersion(const std::filesystem::path& dir, const std::string& version, const VersionFiles& files);

}  // namespace orch::testing
