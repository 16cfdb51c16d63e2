#include "workers/dataset_publisher.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <system_error>
#include <utility>

#include "util/durable_file.h"
#include "util/error.h"

namespace orch {
namespace {

using Json = nlohmann::ordered_json;
namespace fs = std::filesystem;

constexpr const char* kIncompletePrefix = "incomplete-";
constexpr const char* kMetadataFile = "dataset_metadata.json";
constexpr const char* kLabelMapFile = "labels.json";
constexpr const char* kLockFile = ".prepare.lock";
constexpr size_t kWriteChunk = 1 << 20;  // bytes buffered before a write(2)
constexpr int kMaxSameSecondVersions = 1000;

// Creates HUB/<label> unless it exists.
void CreateLabelDirectory(const fs::path& label_dir) {
  if (::mkdir(label_dir.c_str(), 0755) != 0 && errno != EEXIST)
    ThrowFileError("create the label directory", label_dir, errno);
}

// A new split file, written through a buffer (one write(2) per kWriteChunk bytes, not per line) and
// made durable by Commit (flush, fsync, close). Until then it is incomplete: whoever created it
// removes it when a step fails.
class SyncedFile {
 public:
  explicit SyncedFile(fs::path path) : path_(std::move(path)), fd_(CreateNewFile(path_)) {
    buffer_.reserve(kWriteChunk + 4096);
  }

  // The buffer to append to; call Written() after appending.
  std::string& buffer() { return buffer_; }
  void Written() {
    if (buffer_.size() >= kWriteChunk) Flush();
  }

  void Commit() {
    Flush();
    SyncAndClose(fd_, path_);
  }

 private:
  void Flush() {
    WriteAll(fd_.get(), buffer_, path_);
    buffer_.clear();
  }

  fs::path path_;
  FileDescriptor fd_;
  std::string buffer_;
};

// Removes a path (file or directory tree) when the step that made it does not finish.
class RemoveUnlessKept {
 public:
  explicit RemoveUnlessKept(fs::path path) : path_(std::move(path)) {}
  ~RemoveUnlessKept() {
    if (path_.empty()) return;
    std::error_code ignored;  // best effort: the failure being reported matters more
    fs::remove_all(path_, ignored);
  }
  RemoveUnlessKept(const RemoveUnlessKept&) = delete;
  RemoveUnlessKept& operator=(const RemoveUnlessKept&) = delete;
  void MovedTo(fs::path path) { path_ = std::move(path); }
  void Keep() { path_.clear(); }

 private:
  fs::path path_;
};

struct ReservedVersion {
  std::string tag;
  fs::path staging;  // HUB/<label>/incomplete-<tag>, created
};

// Picks the version tag: the second's tag, or with _2, _3, ... when that version exists. Creating
// the staging directory (mkdir fails when it exists) and then checking that the version does not
// exist reserves the tag against another prepare of the same label doing the same.
ReservedVersion ReserveVersion(const fs::path& label_dir, std::chrono::system_clock::time_point now) {
  const std::string base = VersionTag(now);
  for (int n = 1; n <= kMaxSameSecondVersions; ++n) {
    const std::string tag = n == 1 ? base : base + "_" + std::to_string(n);
    const fs::path staging = label_dir / (kIncompletePrefix + tag);
    if (::mkdir(staging.c_str(), 0755) != 0) {
      if (errno == EEXIST) continue;
      ThrowFileError("create the version directory", staging, errno);
    }
    std::error_code error;
    if (!fs::exists(label_dir / tag, error)) return {tag, staging};
    fs::remove(staging, error);
  }
  throw WorkerError("cannot find a free version name for " + base + " in " + label_dir.string());
}

// Serializes lines with nlohmann's serializer straight into a file's buffer. One serializer and one
// line object serve the whole file (json::dump would build both, and a string, for every line).
class JsonLineWriter {
 public:
  explicit JsonLineWriter(std::string& out)
      : out_(out),
        serializer_(nlohmann::detail::output_adapter<char>(out), ' '),
        line_({{"grievance", ""}, {"label", 0}}),
        text_(line_["grievance"].get_ref<std::string&>()),
        label_(line_["label"]) {}

  void Write(std::string_view text, int64_t label) {
    text_.assign(text);
    label_ = label;
    serializer_.dump(line_, /*pretty_print=*/false, /*ensure_ascii=*/false, 0);
    out_ += '\n';
  }

 private:
  std::string& out_;
  nlohmann::detail::serializer<Json> serializer_;
  Json line_;
  std::string& text_;  // the line's "grievance" value, reused
  Json& label_;        // the line's "label" value
};

// Rows are written in shuffled order, so each text is a cache miss: ask for the texts a few rows
// ahead while writing this one (the string object first, then its characters).
constexpr size_t kPrefetchObjects = 16;
constexpr size_t kPrefetchTexts = 8;

void WriteSplit(const fs::path& path, const Dataset& dataset, const std::vector<size_t>& rows) {
  SyncedFile file(path);
  JsonLineWriter lines(file.buffer());
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i + kPrefetchObjects < rows.size()) __builtin_prefetch(&dataset.texts[rows[i + kPrefetchObjects]]);
    if (i + kPrefetchTexts < rows.size()) __builtin_prefetch(dataset.texts[rows[i + kPrefetchTexts]].data());
    lines.Write(dataset.texts[rows[i]], dataset.labels[rows[i]]);
    file.Written();
  }
  file.Commit();
}

// A Markdown table cell: '|' would end the cell, a line break the row.
std::string Cell(std::string_view text) {
  std::string cell;
  for (char c : text) {
    if (c == '|')
      cell += "\\|";
    else if (c == '\n' || c == '\r')
      cell += ' ';
    else
      cell += c;
  }
  return cell;
}

// How many rows came from where, and what the rows left out cost.
std::string SourcesTable(const DatasetSources& from, int64_t total) {
  const int64_t replaced = RowsReplaced(from);
  std::string table =
      "| rows | count |\n|---|---:|\n"
      "| misclassified, with the reviewer's correction | " +
      std::to_string(from.misclassified) +
      " |\n"
      "| correctly classified, sampled (" +
      std::to_string(from.correct_wanted) + " wanted from a pool of " + std::to_string(from.pool) +
      (replaced > 0 ? ", " + std::to_string(replaced) + " more in place of rows left out" : std::string()) + ") | " +
      std::to_string(from.correct) +
      " |\n"
      "| left out: no text after cleaning | " +
      std::to_string(from.dropped_no_text) +
      " |\n"
      "| left out: no usable label | " +
      std::to_string(from.dropped - from.dropped_no_text) +
      " |\n"
      "| **total** | **" +
      std::to_string(total) + "** |\n";
  const int64_t short_by = CountedRowsDropped(from);
  if (short_by > 0)
    table += "\nThe orchestrator counts " + std::to_string(CountedRows(from)) + " rows for this data; " +
             std::to_string(short_by) +
             " of them were left out and the pool had no usable row left to take their place "
             "(`rows_dropped` in `dataset_metadata.json`).\n";
  return table;
}

// Rows per class and split.
std::string SplitsTable(const Dataset& dataset, const PublishedVersion& version) {
  std::map<int64_t, std::array<size_t, 3>> per_class;  // id -> train, eval, test
  const std::vector<size_t>* splits[] = {&dataset.splits.train, &dataset.splits.eval, &dataset.splits.test};
  for (size_t s = 0; s < 3; ++s)
    for (size_t row : *splits[s]) ++per_class[dataset.labels[row]][s];
  std::map<int64_t, std::string> names;
  for (const auto& [name, id] : dataset.label_map.ids()) names[id] = name;
  std::string table = "| class | id | train | eval | test | total |\n|---|---:|---:|---:|---:|---:|\n";
  for (const auto& [id, counts] : per_class)
    table += "| " + Cell(names[id]) + " | " + std::to_string(id) + " | " + std::to_string(counts[0]) + " | " +
             std::to_string(counts[1]) + " | " + std::to_string(counts[2]) + " | " +
             std::to_string(counts[0] + counts[1] + counts[2]) + " |\n";
  return table + "| **total** | | " + std::to_string(version.splits.train) + " | " +
         std::to_string(version.splits.eval) + " | " + std::to_string(version.splits.test) + " | " +
         std::to_string(version.num_samples) + " |\n";
}

std::string HowItWasMade(const DatasetSources& from) {
  char settings[160];
  std::snprintf(settings, sizeof settings, "PREPARE_SEED=%lld, CORRECT_RATIO=%g", static_cast<long long>(from.seed),
                from.correct_ratio);
  return "Settings: " + std::string(settings) +
         ". The same rows and settings give byte-identical split files.\n\n"
         "Texts are cleaned: URLs (http://, https://, www.) and HTML tags removed, line breaks and runs of "
         "whitespace turned into one space, the ends trimmed; Unicode is kept as written. Each class is split on "
         "its own: eval and test get a tenth of it each (rounded to the nearest row, a half rounding down), train "
         "the rest, so a class of 5 rows or fewer is all in train.\n";
}

// README.md: what the dataset is, where its rows came from, what is in each split.
std::string DatasetCard(const Dataset& dataset, const PublishedVersion& version) {
  return "# " + dataset.label + " dataset " + version.version_tag + "\n\n" + "Built by `orchestrator prepare` on " +
         version.created_at +
         " from the application's database: every reviewed misclassified complaint with its corrected `" +
         dataset.label + "`, and a seeded random sample of correctly classified complaints.\n\n" +
         SourcesTable(dataset.sources, version.num_samples) + "\n## Splits\n\n" + SplitsTable(dataset, version) +
         "\n## Files\n\n"
         "- `train.jsonl`, `eval.jsonl`, `test.jsonl`: one JSON object per line, "
         "`{\"grievance\": \"<clean text>\", \"label\": <class id>}`.\n"
         "- `labels.json`: the class ids, `{\"<class>\": id}`; ids never change from one version to the next.\n\n"
         "## How it was made\n\n" +
         HowItWasMade(dataset.sources);
}

std::string MetadataJson(const Dataset& dataset, const PublishedVersion& version) {
  const Json metadata = {
      {"dataset_name", dataset.label},
      {"version_tag", version.version_tag},
      {"label_column", "label"},
      {"num_samples", version.num_samples},
      {"splits", {{"train", version.splits.train}, {"eval", version.splits.eval}, {"test", version.splits.test}}},
      {"created_at", version.created_at},
      {"rows_dropped", CountedRowsDropped(dataset.sources)},
      {"rows_left_out",
       {{"no_text", dataset.sources.dropped_no_text},
        {"no_label", dataset.sources.dropped - dataset.sources.dropped_no_text},
        {"replaced", RowsReplaced(dataset.sources)}}}};
  return metadata.dump(2) + "\n";
}

std::tm UtcFields(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm fields{};
  gmtime_r(&seconds, &fields);
  return fields;
}

LockFile LockLabelDirectory(const fs::path& hub_dir, const std::string& label) {
  RequireHubDirectory(hub_dir);
  const fs::path label_dir = hub_dir / label;
  CreateLabelDirectory(label_dir);
  const fs::path lock = label_dir / kLockFile;
  std::optional<LockFile> held = LockFile::TryAcquire(lock);
  if (!held)
    throw WorkerError("another orchestrator prepare is publishing " + label + " right now (it holds " + lock.string() +
                      "); run again when it has finished");
  return std::move(*held);
}

}  // namespace

int64_t CountedRows(const DatasetSources& from) { return from.misclassified_read + from.correct_wanted; }

int64_t CountedRowsDropped(const DatasetSources& from) {
  return std::max<int64_t>(0, CountedRows(from) - from.misclassified - from.correct);
}

int64_t RowsReplaced(const DatasetSources& from) {
  return std::max<int64_t>(0, from.dropped - CountedRowsDropped(from));
}

std::string VersionTag(std::chrono::system_clock::time_point time) {
  const std::tm fields = UtcFields(time);
  char tag[32];
  std::strftime(tag, sizeof tag, "v%Y%m%d_%H%M%S", &fields);
  return tag;
}

std::string CreatedAt(std::chrono::system_clock::time_point time) {
  const std::tm fields = UtcFields(std::chrono::floor<std::chrono::seconds>(time));
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(time - std::chrono::floor<std::chrono::seconds>(time));
  char seconds[32];
  std::strftime(seconds, sizeof seconds, "%Y-%m-%dT%H:%M:%S", &fields);
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%s.%06lld+00:00", seconds, static_cast<long long>(micros.count()));
  return stamp;
}

void RequireHubDirectory(const fs::path& hub_dir) {
  std::error_code error;
  const fs::file_status status = fs::status(hub_dir, error);
  if (status.type() == fs::file_type::not_found)
    throw WorkerError("hub directory " + hub_dir.string() + " does not exist; create it, or fix --hub");
  if (error) throw WorkerError("cannot use hub directory " + hub_dir.string() + ": " + error.message());
  if (status.type() != fs::file_type::directory)
    throw WorkerError("hub directory " + hub_dir.string() + " is not a directory; fix --hub");
}

LabelDirectoryLock::LabelDirectoryLock(const fs::path& hub_dir, const std::string& label)
    : lock_(LockLabelDirectory(hub_dir, label)) {}

PublishedVersion PublishDataset(const fs::path& hub_dir, const Dataset& dataset,
                                std::chrono::system_clock::time_point now) {
  RequireHubDirectory(hub_dir);
  const fs::path label_dir = hub_dir / dataset.label;
  CreateLabelDirectory(label_dir);
  const std::string label_map = dataset.label_map.ToJson();
  // The stable map first: ids it gains are never taken back, so a failure later does no harm.
  ReplaceFileAtomically(label_dir / kLabelMapFile, label_map);

  ReservedVersion reserved = ReserveVersion(label_dir, now);
  RemoveUnlessKept cleanup(reserved.staging);
  PublishedVersion version;
  version.version_tag = reserved.tag;
  version.path = label_dir / reserved.tag;
  version.created_at = CreatedAt(now);
  version.num_samples = static_cast<int64_t>(dataset.texts.size());
  version.splits = {dataset.splits.train.size(), dataset.splits.eval.size(), dataset.splits.test.size()};

  WriteSplit(reserved.staging / "train.jsonl", dataset, dataset.splits.train);
  WriteSplit(reserved.staging / "eval.jsonl", dataset, dataset.splits.eval);
  WriteSplit(reserved.staging / "test.jsonl", dataset, dataset.splits.test);
  WriteNewFile(reserved.staging / kLabelMapFile, label_map);
  WriteNewFile(reserved.staging / "README.md", DatasetCard(dataset, version));
  SyncPath(reserved.staging);
  // ReserveVersion found the name free: a version there now was made by a publisher without the lock.
  if (!RenameWithoutReplacing(reserved.staging, version.path))
    ThrowFileError("publish the version directory", version.path, EEXIST);
  cleanup.MovedTo(version.path);
  SyncPath(label_dir);

  // Once dataset_metadata.json names the version, the version stays, whatever fails after.
  ReplaceFileAtomically(label_dir / kMetadataFile, MetadataJson(dataset, version), [&] { cleanup.Keep(); });
  return version;
}

}  // namespace orch
