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

#include "hub/dataset_card.h"
#include "hub/hub.h"
#include "util/durable_file.h"
#include "util/error.h"
#include "util/markdown.h"
#include "util/strings.h"
#include "workers/json_text.h"
#include "workers/split_line.h"

namespace orch {
namespace {

using Json = nlohmann::ordered_json;
namespace fs = std::filesystem;

constexpr const char* kLockFile = ".prepare.lock";
constexpr const char* kCardPath = "README.md";
constexpr const char* kMain = "main";
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

// A directory of the caller's for the split files, emptied first and removed when the object goes.
class ScratchDirectory {
 public:
  explicit ScratchDirectory(fs::path path) : path_(std::move(path)) {
    std::error_code error;
    fs::remove_all(path_, error);
    if (error) ThrowFileError("empty the scratch directory", path_, error.value());
    fs::create_directories(path_, error);
    if (error) ThrowFileError("create the scratch directory", path_, error.value());
  }
  ~ScratchDirectory() {
    std::error_code ignored;  // best effort: what was published does not depend on it
    fs::remove_all(path_, ignored);
  }
  ScratchDirectory(const ScratchDirectory&) = delete;
  ScratchDirectory& operator=(const ScratchDirectory&) = delete;

 private:
  fs::path path_;
};

// The second's tag, or with _2, _3, ... when a version of that name exists already. One prepare
// at a time publishes a label (LabelDirectoryLock), so the name stays free until it is tagged.
std::string UnusedVersionTag(Repository& repository, std::chrono::system_clock::time_point now) {
  const std::string base = VersionTag(now);
  for (int n = 1; n <= kMaxSameSecondVersions; ++n) {
    const std::string tag = n == 1 ? base : base + "_" + std::to_string(n);
    if (!repository.HeadOf(tag)) return tag;
  }
  throw WorkerError("cannot find a free version name for " + base + " in " + repository.Name());
}

// The three split files of a version, taking the rows line by line (SplitSink), each through its
// own buffer. Counts the lines of each.
class SplitFiles final : public SplitSink {
 public:
  explicit SplitFiles(const fs::path& directory) {
    for (size_t i = 0; i < std::size(kSplitFiles); ++i)
      files_[i].emplace(directory / (std::string(kSplitFiles[i].name) + ".jsonl"));
  }

  void Add(Split split, std::string_view escaped_text, int64_t label) override {
    const auto i = static_cast<size_t>(split);
    AppendSplitLine(escaped_text, label, files_[i]->buffer());
    files_[i]->Written();
    ++lines_[i];
  }

  // Makes the files durable.
  void Commit() {
    for (std::optional<SyncedFile>& file : files_) file->Commit();
  }

  SplitSizes lines() const { return {lines_[0], lines_[1], lines_[2]}; }

 private:
  std::array<std::optional<SyncedFile>, 3> files_;
  std::array<size_t, 3> lines_{};
};

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
  std::map<int64_t, std::string> names;
  for (const auto& [name, id] : dataset.label_map.ids()) names[id] = name;
  std::string table = "| class | id | train | validation | test | total |\n|---|---:|---:|---:|---:|---:|\n";
  for (const auto& [id, sizes] : dataset.classes)
    table += "| " + MarkdownTableCell(names[id]) + " | " + std::to_string(id) + " | " + std::to_string(sizes.train) +
             " | " + std::to_string(sizes.validation) + " | " + std::to_string(sizes.test) + " | " +
             std::to_string(sizes.train + sizes.validation + sizes.test) + " |\n";
  return table + "| **total** | | " + std::to_string(version.splits.train) + " | " +
         std::to_string(version.splits.validation) + " | " + std::to_string(version.splits.test) + " | " +
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
         "its own: validation and test get a tenth of it each (rounded to the nearest row, a half rounding down), "
         "train "
         "the rest, so a class of 5 rows or fewer is all in train.\n";
}

// The card's YAML: the splits that have rows, the text column, every class id's name.
DatasetCardMetadata CardMetadata(const Dataset& dataset, const PublishedVersion& version, const CardSettings& card) {
  std::map<int64_t, std::string> names_by_id;
  for (const auto& [name, id] : dataset.label_map.ids()) names_by_id[id] = name;
  const size_t rows[] = {version.splits.train, version.splits.validation, version.splits.test};
  DatasetCardMetadata metadata;
  for (size_t i = 0; i < std::size(kSplitFiles); ++i)
    metadata.splits.push_back({kSplitFiles[i].name, kSplitFiles[i].path, rows[i]});
  metadata.text_column = "grievance";
  metadata.label_column = "label";
  metadata.class_names = ClassLabelNames(names_by_id);
  metadata.languages = card.languages;
  metadata.task_categories = {"text-classification"};
  return metadata;
}

// README.md: the YAML for the Hub and `datasets`, then what the dataset is, where its rows came
// from, what is in each split.
std::string DatasetCard(const Dataset& dataset, const PublishedVersion& version, const CardSettings& card) {
  return CardFrontMatter(CardMetadata(dataset, version, card)) + "\n# " + dataset.label + " dataset " +
         version.version_tag + "\n\n" + "Built by `orchestrator prepare` on " + version.created_at +
         " from the application's database: every reviewed misclassified complaint with its corrected `" +
         dataset.label + "`, and a seeded random sample of correctly classified complaints.\n\n" +
         SourcesTable(dataset.sources, version.num_samples) + "\n## Splits\n\n" + SplitsTable(dataset, version) +
         "\n## Files\n\n"
         "- `data/train.jsonl`, `data/validation.jsonl`, `data/test.jsonl`: one JSON object per line, "
         "`{\"grievance\": \"<clean text>\", \"label\": <class id>}`.\n"
         "- `labels.json`: the class ids, `{\"<class>\": id}`; ids never change from one version to the next.\n"
         "- `dataset_metadata.json`: the version, its row counts and the rows left out, committed after the data; "
         "the tag `" +
         version.version_tag +
         "` is on that commit.\n\n"
         "## How it was made\n\n" +
         HowItWasMade(dataset.sources);
}

std::string MetadataJson(const Dataset& dataset, const PublishedVersion& version) {
  const Json metadata = {
      {"dataset_name", dataset.label},
      {"version_tag", version.version_tag},
      {"label_column", "label"},
      {"num_samples", version.num_samples},
      {"splits",
       {{"train", version.splits.train}, {"validation", version.splits.validation}, {"test", version.splits.test}}},
      {"created_at", version.created_at},
      {"rows_dropped", CountedRowsDropped(dataset.sources)},
      {"rows_left_out",
       {{"no_text", dataset.sources.dropped_no_text},
        {"no_label", dataset.sources.dropped - dataset.sources.dropped_no_text},
        {"replaced", RowsReplaced(dataset.sources)}}}};
  return metadata.dump(2) + "\n";
}

// Writes the split files of `dataset` into `directory` as its rows come, and checks they hold the
// rows `splits` counts.
void WriteSplitFiles(const Dataset& dataset, const SplitSizes& splits, const fs::path& directory) {
  SplitFiles files(directory);
  if (dataset.rows) dataset.rows->WriteTo(files);
  const SplitSizes lines = files.lines();
  if (lines.train != splits.train || lines.validation != splits.validation || lines.test != splits.test)
    throw WorkerError("the " + dataset.label + " dataset's rows came to " + std::to_string(lines.train) + "/" +
                      std::to_string(lines.validation) + "/" + std::to_string(lines.test) +
                      " train/validation/test rows where its classes count " + std::to_string(splits.train) + "/" +
                      std::to_string(splits.validation) + "/" + std::to_string(splits.test) +
                      "; nothing was published");
  files.Commit();
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

SplitSizes Dataset::splits() const {
  SplitSizes total;
  for (const auto& [id, sizes] : classes) {
    total.train += sizes.train;
    total.validation += sizes.validation;
    total.test += sizes.test;
  }
  return total;
}

int64_t Dataset::size() const {
  const SplitSizes total = splits();
  return static_cast<int64_t>(total.train + total.validation + total.test);
}

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

std::vector<std::string> ParseLanguages(const std::string& setting) {
  std::vector<std::string> languages;
  for (size_t start = 0; start <= setting.size();) {
    const size_t comma = std::min(setting.find(',', start), setting.size());
    const std::string code(Trim(std::string_view(setting).substr(start, comma - start)));
    start = comma + 1;
    if (code.empty()) continue;
    if (!IsLanguageCode(code))
      throw ConfigError("DATASET_LANGUAGES: \"" + code +
                        "\" is not a language code; give ISO 639 codes separated by commas, e.g. ne,en");
    if (std::find(languages.begin(), languages.end(), code) == languages.end()) languages.push_back(code);
  }
  return languages;
}

std::optional<LabelMap> PublishedLabelMap(Repository& repository) {
  if (!repository.HeadOf(kMain)) return std::nullopt;
  const std::optional<std::string> text = repository.ReadFile(kMain, kLabelMapPath, kMaxJsonDocumentBytes);
  if (!text) return std::nullopt;
  return LabelMap::Parse(*text, repository.Name() + "/" + kLabelMapPath);
}

std::optional<std::string> FinishInterruptedPublication(Repository& repository) {
  const std::optional<std::string> head = repository.HeadOf(kMain);
  if (!head) return std::nullopt;
  const std::optional<std::string> text = repository.ReadFile(*head, kMetadataPath, kMaxMetadataBytes);
  if (!text) return std::nullopt;
  const MetadataRead read = ParseMetadata(*text);
  if (read.status != MetadataRead::Status::kOk || !IsValidRefName(read.metadata->version_tag)) return std::nullopt;
  const std::string& tag = read.metadata->version_tag;
  if (repository.HeadOf(tag)) return std::nullopt;
  repository.CreateTag(tag, *head);
  return tag;
}

namespace {

// Commits the data, then the metadata onto it; returns the metadata's commit. Another writer may
// commit onto main meanwhile (a second prepare of the label elsewhere, someone on the Hub): a commit
// refused for it (StaleParentError) changed nothing, so main is read again and both commits are
// made once more on its new head, unless that writer took the version's name or changed the ids
// of labels.json under this dataset. A second refusal is the error.
std::string CommitDataThenMetadata(Repository& repository, const Dataset& dataset, CommitRequest& data,
                                   CommitRequest& metadata, const std::string& version_tag) {
  for (int attempt = 1;; ++attempt) {
    try {
      const std::string data_commit = repository.Commit(data);
      metadata.parent_commit = data_commit;
      return repository.Commit(metadata);
    } catch (const StaleParentError&) {
      if (attempt == 2) throw;
    }
    data.parent_commit = repository.HeadOf(kMain);
    if (repository.HeadOf(version_tag))
      throw WorkerError("another writer published " + version_tag + " in " + repository.Name() +
                        " while this prepare did; run it again");
    if (const std::optional<LabelMap> published = PublishedLabelMap(repository))
      for (const auto& [name, id] : published->ids())
        if (dataset.label_map.Find(name) != id)
          throw WorkerError("another writer changed " + repository.Name() + "/" + kLabelMapPath +
                            " while this prepare read its rows; run it again");
  }
}

}  // namespace

PublishedVersion PublishDataset(Repository& repository, const Dataset& dataset, const fs::path& scratch_dir,
                                const CardSettings& card, std::chrono::system_clock::time_point now) {
  repository.CreateIfMissing();
  FinishInterruptedPublication(repository);
  const std::optional<std::string> parent = repository.HeadOf(kMain);
  PublishedVersion version;
  version.version_tag = UnusedVersionTag(repository, now);
  version.repository = repository.Name();
  version.created_at = CreatedAt(now);
  version.num_samples = dataset.size();
  version.splits = dataset.splits();
  // Before anything is written: the card refuses a label map whose ids cannot be a class label.
  std::string readme = DatasetCard(dataset, version, card);

  ScratchDirectory scratch(scratch_dir);
  CommitRequest data;
  data.summary = "Add the " + dataset.label + " dataset " + version.version_tag;
  data.description = std::to_string(version.num_samples) + " rows: train " + std::to_string(version.splits.train) +
                     ", validation " + std::to_string(version.splits.validation) + ", test " +
                     std::to_string(version.splits.test) + ". dataset_metadata.json follows in the next commit.";
  data.parent_commit = parent;
  data.additions.push_back(FileAddition::FromBytes(kCardPath, std::move(readme)));
  data.additions.push_back(FileAddition::FromBytes(kLabelMapPath, dataset.label_map.ToJson()));
  WriteSplitFiles(dataset, version.splits, scratch_dir);
  for (size_t i = 0; i < std::size(kSplitFiles); ++i)
    data.additions.push_back(
        FileAddition::FromFile(kSplitFiles[i].path, scratch_dir / (std::string(kSplitFiles[i].name) + ".jsonl")));
  CommitRequest metadata;
  metadata.summary = "Publish " + version.version_tag;
  metadata.description = "dataset_metadata.json names " + version.version_tag + ", whose data is in the parent commit.";
  metadata.additions.push_back(FileAddition::FromBytes(kMetadataPath, MetadataJson(dataset, version)));
  version.commit = CommitDataThenMetadata(repository, dataset, data, metadata, version.version_tag);
  repository.CreateTag(version.version_tag, version.commit);
  return version;
}

}  // namespace orch
