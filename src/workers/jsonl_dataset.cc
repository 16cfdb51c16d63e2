#include "workers/jsonl_dataset.h"

#include <algorithm>
#include <climits>
#include <nlohmann/json.hpp>
#include <utility>

#include "config/label_name.h"
#include "hub/local_repository.h"
#include "util/error.h"
#include "workers/dataset_publisher.h"
#include "workers/json_text.h"
#include "workers/label_map.h"

namespace orch {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr const char* kRepublish = "publish the dataset again (orchestrator prepare)";
constexpr const char* kMain = "main";

struct Metadata {
  std::string version_tag;
  std::map<std::string, int64_t> split_rows;  // as the metadata states them, when it does
};

// The file `path` of a commit, at most `max_bytes`; `what_is_missing` says why it may be missing
// and what to do. `name` names it in messages.
std::string ReadCommitFile(Repository& repository, const std::string& commit, const std::string& path,
                           const std::string& name, uint64_t max_bytes, const std::string& what_is_missing) {
  std::optional<std::string> text;
  try {
    text = repository.ReadFile(commit, path, max_bytes);
  } catch (const RepositoryError& error) {
    throw WorkerError("cannot read " + name + ": " + error.what() + "; " + kRepublish);
  }
  if (!text) throw WorkerError(name + " is missing: " + what_is_missing);
  return std::move(*text);
}

Metadata ParseMetadataText(const std::string& text, const std::string& name, std::string_view label) {
  Json metadata;
  try {
    metadata = Json::parse(text);
  } catch (const Json::exception& error) {
    throw WorkerError(name + " is not valid JSON (" + JsonSyntaxErrorIn(text, error).Describe() + "); " + kRepublish);
  }
  if (!metadata.is_object() || !metadata.contains("version_tag") || !metadata["version_tag"].is_string())
    throw WorkerError(name + " has no \"version_tag\" string; " + kRepublish);
  Metadata result{.version_tag = metadata["version_tag"].get<std::string>(), .split_rows = {}};
  if (!IsSafeVersionTag(result.version_tag))
    throw WorkerError(name + " names the version " + QuoteForMessage(result.version_tag) +
                      ", which cannot be a version tag; " + kRepublish);
  if (metadata.contains("dataset_name") && metadata["dataset_name"].is_string() &&
      metadata["dataset_name"].get<std::string>() != label)
    throw WorkerError(name + " describes the dataset " + QuoteForMessage(metadata["dataset_name"].get<std::string>()) +
                      ", not " + QuoteForMessage(label) + ": pass --dataset HUB/" + std::string(label));
  if (metadata.contains("splits") && metadata["splits"].is_object())
    for (const SplitFile& split : kSplitFiles)
      if (metadata["splits"].contains(split.name) && metadata["splits"][split.name].is_number_integer())
        result.split_rows[split.name] = metadata["splits"][split.name].get<int64_t>();
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

void CheckRowCount(const std::string& file, size_t rows, const Metadata* metadata, const std::string& metadata_file,
                   const std::string& split) {
  if (rows == 0)
    throw WorkerError(file +
                      " has no rows: each split needs some (validation chooses the settings, test scores "
                      "the models); publish a dataset with more rows");
  if (metadata == nullptr || !metadata->split_rows.contains(split)) return;
  int64_t stated = metadata->split_rows.at(split);
  if (stated != static_cast<int64_t>(rows))
    throw WorkerError(file + " has " + std::to_string(rows) + " rows, but " + metadata_file + " says " +
                      std::to_string(stated) +
                      ": the version is incomplete or was changed after it was "
                      "published; " +
                      kRepublish);
}

// What a missing repository means, said for a local directory.
[[noreturn]] void ExplainMissingRepository(const fs::path& dataset_dir, std::string_view label) {
  std::error_code error;
  if (!fs::is_directory(dataset_dir, error))
    throw WorkerError("the dataset repository " + dataset_dir.string() + " does not exist: pass --dataset HUB/" +
                      std::string(label) + ", the directory orchestrator prepare publishes the label's dataset in");
  throw WorkerError(dataset_dir.string() +
                    " holds no dataset repository (no .repo directory). A hub of an earlier release (a directory "
                    "per version, eval.jsonl) is read no more: run orchestrator prepare to publish the label's "
                    "dataset as a repository there (its labels.json ids are kept)");
}

}  // namespace

bool IsSafeVersionTag(std::string_view tag) { return IsValidRefName(tag); }

DatasetReference ParseDatasetReference(const std::string& argument) {
  std::error_code error;
  const size_t at = argument.rfind('@');
  if (at == std::string::npos || at == 0 || fs::is_directory(argument, error)) return {argument, std::nullopt};
  const std::string version = argument.substr(at + 1);
  if (!IsSafeVersionTag(version))
    throw ConfigError("--dataset " + QuoteForMessage(argument) + ": " + QuoteForMessage(version) +
                      " cannot be a dataset version (letters, digits, '_', '-' and '.', like v20261126_101502); "
                      "give --dataset DIR or DIR@VERSION");
  return {argument.substr(0, at), version};
}

ClassNamesById ParseClassNames(std::string_view text, const std::string& where) {
  LabelMap map = LabelMap::Parse(text, where);
  ClassNamesById classes;
  for (const auto& [name, id] : map.ids()) {
    if (id > INT_MAX) throw WorkerError(where + ": the id of " + QuoteForMessage(name) + " is too large");
    classes[static_cast<int>(id)] = name;
  }
  return classes;
}

std::vector<SplitRow> ParseLabelledJsonl(std::string_view text, const ClassNamesById& classes, const fs::path& file,
                                         const std::string& labels_file) {
  const std::string labels = labels_file.empty() ? (file.parent_path() / "labels.json").string() : labels_file;
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
    rows.push_back(ParseRow(line, unterminated, classes, at, labels));
    start = end + 1;
  }
  return rows;
}

TextDataset ReadTextDataset(Repository& repository, std::string_view label, const std::optional<std::string>& version) {
  if (version && !IsSafeVersionTag(*version))
    throw ConfigError("--version " + QuoteForMessage(*version) +
                      " cannot be a dataset version (letters, digits, '_', '-' and '.', like v20261126_101502)");
  const std::string repo = repository.Name();
  const std::string main_metadata = repo + "/" + kMetadataPath;
  const std::string not_published = "no version of the " + std::string(label) +
                                    " dataset has been published in this repository yet; run orchestrator prepare, "
                                    "or pass --version";
  TextDataset dataset;
  dataset.label = label;
  try {
    // Main's head, pinned: its metadata names the latest version.
    const std::optional<std::string> head = repository.HeadOf(kMain);
    std::optional<Metadata> latest;
    if (head) {
      if (const std::optional<std::string> text = repository.ReadFile(*head, kMetadataPath, kMaxJsonDocumentBytes))
        latest = ParseMetadataText(*text, main_metadata, label);
    }
    if (version) {
      dataset.version_tag = *version;
      const std::optional<std::string> commit = repository.HeadOf(*version);
      if (!commit)
        throw WorkerError("version " + *version + " of the " + std::string(label) + " dataset does not exist in " +
                          repo + " (" + (latest ? "the latest is " + latest->version_tag : "none is published yet") +
                          ")");
      dataset.commit = *commit;
    } else {
      if (!latest) throw WorkerError(main_metadata + " is missing: " + not_published);
      dataset.version_tag = latest->version_tag;
      // Metadata that names a version without its tag is not trained on: a publication stopped
      // before its tag (the next prepare sets it first), or metadata naming what was never published.
      const std::optional<std::string> tagged = repository.HeadOf(latest->version_tag);
      if (!tagged)
        throw WorkerError(main_metadata + " names the version " + latest->version_tag + ", which has no tag in " +
                          repo + ": nothing is trained on it. A publication stopped before its tag is finished by " +
                          "the next orchestrator prepare, which tags it first; otherwise pass --version with a " +
                          "version that has one");
      dataset.commit = *tagged;
    }
  } catch (const RepositoryError& error) {
    throw WorkerError(std::string(error.what()) + "; " + kRepublish);
  }
  dataset.location = repo + "@" + dataset.version_tag;
  const auto name = [&](const std::string& path) { return dataset.location + "/" + path; };

  // The version's own metadata: its row counts, when it names this version.
  std::optional<Metadata> metadata;
  try {
    if (const std::optional<std::string> text =
            repository.ReadFile(dataset.commit, kMetadataPath, kMaxJsonDocumentBytes))
      metadata = ParseMetadataText(*text, name(kMetadataPath), label);
  } catch (const RepositoryError& error) {
    throw WorkerError("cannot read " + name(kMetadataPath) + ": " + error.what() + "; " + kRepublish);
  }
  const Metadata* counts = metadata && metadata->version_tag == dataset.version_tag ? &*metadata : nullptr;
  dataset.classes =
      ParseClassNames(ReadCommitFile(repository, dataset.commit, kLabelMapPath, name(kLabelMapPath),
                                     kMaxJsonDocumentBytes, std::string("the version has no label map; ") + kRepublish),
                      name(kLabelMapPath));
  std::vector<SplitRow>* splits[] = {&dataset.train, &dataset.validation, &dataset.test};
  for (size_t i = 0; i < std::size(kSplitFiles); ++i) {
    const std::string file = name(kSplitFiles[i].path);
    const std::string text = ReadCommitFile(
        repository, dataset.commit, kSplitFiles[i].path, file, kMaxSplitFileBytes,
        std::string("the version is incomplete; ") + kRepublish + ", or pass --version with another version");
    *splits[i] = ParseLabelledJsonl(text, dataset.classes, file, name(kLabelMapPath));
    CheckRowCount(file, splits[i]->size(), counts, name(kMetadataPath), kSplitFiles[i].name);
  }
  return dataset;
}

TextDataset ReadTextDataset(const fs::path& dataset_dir, std::string_view label,
                            const std::optional<std::string>& version) {
  LocalRepository repository(dataset_dir);
  try {
    repository.HeadOf(kMain);
  } catch (const RepositoryNotFoundError&) {
    ExplainMissingRepository(dataset_dir, label);
  } catch (const RepositoryError& error) {
    throw WorkerError(std::string(error.what()) + "; " + kRepublish);
  }
  return ReadTextDataset(repository, label, version);
}

}  // namespace orch
