#include "workers/jsonl_dataset.h"

#include <algorithm>
#include <climits>
#include <nlohmann/json.hpp>
#include <utility>

#include "config/label_name.h"
#include "util/durable_file.h"
#include "util/error.h"
#include "workers/json_text.h"
#include "workers/label_map.h"

namespace orch {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr const char* kRepublish = "publish the dataset again (orchestrator prepare)";
constexpr const char* kSplitNames[] = {"train", "eval", "test"};
constexpr size_t kMaxVersionTagLength = 100;

// The whole of `file`, at most `max_bytes`; `what_is_missing` says why it may be missing and what to do.
std::string ReadWholeFile(const fs::path& file, uint64_t max_bytes, const std::string& what_is_missing) {
  std::optional<std::string> text = ReadRegularFile(file, max_bytes, "the dataset file", kRepublish);
  if (!text) throw WorkerError(file.string() + " is missing: " + what_is_missing);
  return std::move(*text);
}

// Version directories present in the dataset directory, newest (by name) first, for hints.
std::string ListVersions(const fs::path& dataset_dir) {
  std::vector<std::string> versions;
  std::error_code error;
  for (fs::directory_iterator it(dataset_dir, error), end; !error && it != end; it.increment(error)) {
    std::string name = it->path().filename().string();
    if (it->is_directory(error) && IsSafeVersionTag(name)) versions.push_back(name);
  }
  if (versions.empty()) return "there is none";
  std::sort(versions.rbegin(), versions.rend());
  if (versions.size() > 5) versions.resize(5);
  std::string list;
  for (const std::string& version : versions) list += (list.empty() ? "" : ", ") + version;
  return "the directory holds " + list;
}

struct Metadata {
  std::string version_tag;
  std::map<std::string, int64_t> split_rows;  // as the metadata states them, when it does
};

Metadata ReadMetadata(const fs::path& dataset_dir, std::string_view label) {
  fs::path file = dataset_dir / "dataset_metadata.json";
  std::string text = ReadWholeFile(
      file, kMaxJsonDocumentBytes,
      "no version of the " + std::string(label) +
          " dataset has been published in this directory yet; run orchestrator prepare, or pass --version");
  Json metadata;
  try {
    metadata = Json::parse(text);
  } catch (const Json::exception& error) {
    throw WorkerError(file.string() + " is not valid JSON (" + JsonSyntaxErrorIn(text, error).Describe() + "); " +
                      kRepublish);
  }
  if (!metadata.is_object() || !metadata.contains("version_tag") || !metadata["version_tag"].is_string())
    throw WorkerError(file.string() + " has no \"version_tag\" string; " + kRepublish);
  Metadata result{.version_tag = metadata["version_tag"].get<std::string>(), .split_rows = {}};
  if (!IsSafeVersionTag(result.version_tag))
    throw WorkerError(file.string() + " names the version " + QuoteForMessage(result.version_tag) +
                      ", which cannot be a version directory's name; " + kRepublish);
  if (metadata.contains("dataset_name") && metadata["dataset_name"].is_string() &&
      metadata["dataset_name"].get<std::string>() != label)
    throw WorkerError(file.string() + " describes the dataset " +
                      QuoteForMessage(metadata["dataset_name"].get<std::string>()) + ", not " + QuoteForMessage(label) +
                      ": pass --dataset HUB/" + std::string(label));
  if (metadata.contains("splits") && metadata["splits"].is_object())
    for (const char* split : kSplitNames)
      if (metadata["splits"].contains(split) && metadata["splits"][split].is_number_integer())
        result.split_rows[split] = metadata["splits"][split].get<int64_t>();
  return result;
}

std::string LineProblemAdvice() {
  return std::string("the file is damaged: ") + kRepublish + ", or pass --version with an earlier version";
}

// A line of a split file, named in errors only (building the text for every line would cost).
struct LineAt {
  const fs::path& file;
  size_t number;
  std::string Where() const { return file.string() + " line " + std::to_string(number); }
};

SplitRow ParseRow(std::string_view line, bool last_line_unterminated, const ClassNamesById& classes, const LineAt& at,
                  const std::string& labels_file) {
  Json row;
  try {
    row = Json::parse(line);
  } catch (const Json::exception& error) {
    if (last_line_unterminated)
      throw WorkerError(at.Where() +
                        ": the line is cut short (the file ends inside it, with no final newline): "
                        "the file was not completely written; " +
                        kRepublish);
    const JsonSyntaxError syntax = JsonSyntaxErrorIn(line, error);
    throw WorkerError(at.Where() + ": not valid JSON (" + syntax.DescribeInLine() + "); " + LineProblemAdvice());
  }
  if (!row.is_object()) throw WorkerError(at.Where() + ": not a JSON object; " + LineProblemAdvice());
  if (!row.contains("grievance") || !row["grievance"].is_string())
    throw WorkerError(at.Where() + ": no \"grievance\" string; " + LineProblemAdvice());
  if (!row.contains("label") || !row["label"].is_number_integer())
    throw WorkerError(at.Where() + ": no integer \"label\" (a class id); " + LineProblemAdvice());
  int64_t id = row["label"].get<int64_t>();
  if (id < 0 || id > INT_MAX || !classes.contains(static_cast<int>(id)))
    throw WorkerError(at.Where() + ": class id " + std::to_string(id) + " is not in " + labels_file +
                      ": the splits and the label map disagree; " + kRepublish);
  return {.text = row["grievance"].get<std::string>(), .label = static_cast<int>(id)};
}

void CheckRowCount(const fs::path& file, size_t rows, const Metadata* metadata, const fs::path& metadata_file,
                   const std::string& split) {
  if (rows == 0)
    throw WorkerError(file.string() +
                      " has no rows: each split needs some (eval chooses the settings, test scores "
                      "the models); publish a dataset with more rows");
  if (metadata == nullptr || !metadata->split_rows.contains(split)) return;
  int64_t stated = metadata->split_rows.at(split);
  if (stated != static_cast<int64_t>(rows))
    throw WorkerError(file.string() + " has " + std::to_string(rows) + " rows, but " + metadata_file.string() +
                      " says " + std::to_string(stated) +
                      ": the version is incomplete or was changed after it was "
                      "published; " +
                      kRepublish);
}

}  // namespace

bool IsSafeVersionTag(std::string_view tag) {
  if (tag.empty() || tag.size() > kMaxVersionTagLength || tag.front() == '.') return false;
  return std::all_of(tag.begin(), tag.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
}

std::string LatestDatasetVersion(const fs::path& dataset_dir, std::string_view label) {
  return ReadMetadata(dataset_dir, label).version_tag;
}

ClassNamesById ReadClassNames(const fs::path& labels_file) {
  std::string text =
      ReadWholeFile(labels_file, kMaxJsonDocumentBytes, std::string("the version has no label map; ") + kRepublish);
  LabelMap map = LabelMap::Parse(text, labels_file.string());
  ClassNamesById classes;
  for (const auto& [name, id] : map.ids()) {
    if (id > INT_MAX)
      throw WorkerError(labels_file.string() + ": the id of " + QuoteForMessage(name) + " is too large");
    classes[static_cast<int>(id)] = name;
  }
  return classes;
}

std::vector<SplitRow> ReadLabelledJsonl(const fs::path& file, const ClassNamesById& classes) {
  const std::string text = ReadWholeFile(
      file, kMaxSplitFileBytes,
      std::string("the version is incomplete; ") + kRepublish + ", or pass --version with another version");
  return ParseLabelledJsonl(text, classes, file);
}

std::vector<SplitRow> ParseLabelledJsonl(std::string_view text, const ClassNamesById& classes, const fs::path& file) {
  std::string labels_file = (file.parent_path() / "labels.json").string();
  std::vector<SplitRow> rows;
  size_t line_number = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    bool unterminated = end == std::string::npos;
    if (unterminated) end = text.size();
    std::string_view line(text.data() + start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++line_number;
    const LineAt at{file, line_number};
    if (line.find_first_not_of(" \t") == std::string_view::npos)
      throw WorkerError(at.Where() + ": the line is empty, and every line must be one JSON object; " +
                        LineProblemAdvice());
    rows.push_back(ParseRow(line, unterminated, classes, at, labels_file));
    start = end + 1;
  }
  return rows;
}

TextDataset ReadTextDataset(const fs::path& dataset_dir, std::string_view label,
                            const std::optional<std::string>& version) {
  std::error_code error;
  if (!fs::is_directory(dataset_dir, error))
    throw WorkerError("the dataset directory " + dataset_dir.string() + " does not exist: pass --dataset HUB/" +
                      std::string(label) + ", the directory the prepare worker publishes the label's versions in");
  if (version && !IsSafeVersionTag(*version))
    throw ConfigError("--version " + QuoteForMessage(*version) +
                      " cannot be a dataset version (letters, digits, '_', '-' and '.', like v20261126_101502)");
  fs::path metadata_file = dataset_dir / "dataset_metadata.json";
  std::optional<Metadata> metadata;
  if (!version) {
    metadata = ReadMetadata(dataset_dir, label);
  } else {
    // An explicit version does not need the metadata; it is only used to check that version's row counts.
    try {
      metadata = ReadMetadata(dataset_dir, label);
    } catch (const WorkerError&) {
    }
  }
  TextDataset dataset;
  dataset.label = label;
  dataset.version_tag = version.value_or(metadata ? metadata->version_tag : "");
  dataset.directory = dataset_dir / dataset.version_tag;
  if (!fs::is_directory(dataset.directory, error)) {
    if (version)
      throw WorkerError("version " + *version + " of the " + std::string(label) + " dataset does not exist in " +
                        dataset_dir.string() + " (" + ListVersions(dataset_dir) + ")");
    throw WorkerError(
        metadata_file.string() + " names the version " + dataset.version_tag + ", but " + dataset.directory.string() +
        " does not exist: it was removed or its publication did not "
        "finish; " +
        kRepublish + ", or pass --version with a version that exists (" + ListVersions(dataset_dir) + ")");
  }
  // The metadata's row counts describe only the version it names.
  const Metadata* counts = metadata && metadata->version_tag == dataset.version_tag ? &*metadata : nullptr;
  dataset.classes = ReadClassNames(dataset.directory / "labels.json");
  std::vector<SplitRow>* splits[] = {&dataset.train, &dataset.eval, &dataset.test};
  for (size_t i = 0; i < std::size(kSplitNames); ++i) {
    fs::path file = dataset.directory / (std::string(kSplitNames[i]) + ".jsonl");
    *splits[i] = ReadLabelledJsonl(file, dataset.classes);
    CheckRowCount(file, splits[i]->size(), counts, metadata_file, kSplitNames[i]);
  }
  return dataset;
}

}  // namespace orch
