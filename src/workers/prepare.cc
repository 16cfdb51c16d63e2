#include "workers/prepare.h"

#include <algorithm>
#include <numeric>
#include <optional>

#include "engine/counts.h"
#include "engine/decision.h"
#include "hub/local_repository.h"
#include "util/error.h"
#include "workers/stratified_split.h"
#include "workers/text_clean.h"

namespace orch {
namespace {

// Independent random streams from the one seed: the sample and the split each get their own, so
// changing how many rows are sampled does not reshuffle the split of the misclassified ones.
constexpr uint64_t kSampleStream = 1;
constexpr uint64_t kSplitStream = 2;

// SplitMix64's finaliser over seed and stream: well-spread seeds for the Mersenne Twister.
uint64_t StreamSeed(int64_t seed, uint64_t stream) {
  uint64_t z = static_cast<uint64_t>(seed) + stream * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// A class value a row can be trained with: some text, and valid UTF-8 (it goes into labels.json).
bool IsUsableClass(const std::string& name) { return IsValidUtf8(name) && !CleanText(name).empty(); }

struct CleanRow {
  std::string text;
  uint32_t label = 0;  // index into the read's ClassNames
};

// Cleans `text` in place (reusing `buffer`); false when nothing is left.
bool CleanInPlace(std::string& text, std::string& buffer) {
  CleanTextInto(text, buffer);
  text.swap(buffer);
  return !text.empty();
}

enum class LeftOut { kNoText, kNoLabel };

void Count(LeftOut why, DatasetSources& sources) {
  ++sources.dropped;
  if (why == LeftOut::kNoText) ++sources.dropped_no_text;
}

// Draws the pool in a seeded order (a Fisher-Yates shuffle carried out only as far as needed) and
// keeps the first `wanted` usable rows, reading texts only for the rows drawn.
class CorrectSample {
 public:
  CorrectSample(const std::vector<PoolEntry>& pool, const std::vector<bool>& usable, int64_t seed)
      : pool_(pool), usable_(usable), order_(pool.size()), shuffler_(StreamSeed(seed, kSampleStream)) {
    std::iota(order_.begin(), order_.end(), size_t{0});
  }

  // The first `wanted` usable rows of the order (fewer when the pool runs out). The drawn rows that
  // could not be used are counted in `sources`.
  std::vector<CleanRow> Draw(TrainingRows& rows, size_t wanted, DatasetSources& sources) {
    std::vector<CleanRow> kept;
    kept.reserve(wanted);
    while (kept.size() < wanted && drawn_ < order_.size()) {
      const std::vector<PoolEntry> batch = DrawWithUsableLabel(wanted - kept.size(), sources);
      KeepThoseWithText(rows, batch, kept, sources);
    }
    return kept;
  }

 private:
  // The next `count` entries of the seeded order (fewer at its end), less those without a label.
  std::vector<PoolEntry> DrawWithUsableLabel(size_t count, DatasetSources& sources) {
    std::vector<PoolEntry> batch;
    for (const size_t end = std::min(order_.size(), drawn_ + count); drawn_ < end; ++drawn_) {
      std::swap(order_[drawn_], order_[drawn_ + shuffler_.Below(order_.size() - drawn_)]);
      const PoolEntry& entry = pool_[order_[drawn_]];
      if (usable_[entry.label]) {
        batch.push_back(entry);
      } else {
        Count(LeftOut::kNoLabel, sources);
      }
    }
    return batch;
  }

  // Reads and cleans the batch's texts, and keeps the rows that have text left.
  static void KeepThoseWithText(TrainingRows& rows, const std::vector<PoolEntry>& batch, std::vector<CleanRow>& kept,
                                DatasetSources& sources) {
    std::vector<int64_t> ids;
    for (const PoolEntry& entry : batch) ids.push_back(entry.complaint_id);
    std::vector<std::string> texts = rows.ReadMessages(ids);
    std::string buffer;
    for (size_t i = 0; i < texts.size(); ++i) {
      if (CleanInPlace(texts[i], buffer)) {
        kept.push_back({std::move(texts[i]), batch[i].label});
      } else {
        Count(LeftOut::kNoText, sources);
      }
    }
  }

  const std::vector<PoolEntry>& pool_;
  const std::vector<bool>& usable_;
  std::vector<size_t> order_;
  size_t drawn_ = 0;
  SeededShuffler shuffler_;
};

std::vector<bool> UsableClasses(const ClassNames& classes) {
  std::vector<bool> usable;
  for (const std::string& name : classes.names()) usable.push_back(IsUsableClass(name));
  return usable;
}

// Appends the kept rows to `dataset`, their classes encoded with its label map (which has them all).
void AddRows(Dataset& dataset, std::vector<CleanRow>& rows, const ClassNames& classes) {
  std::vector<int64_t> id_of_class;
  for (const std::string& name : classes.names()) id_of_class.push_back(dataset.label_map.Find(name).value_or(-1));
  dataset.texts.reserve(dataset.texts.size() + rows.size());
  dataset.labels.reserve(dataset.labels.size() + rows.size());
  for (CleanRow& row : rows) {
    dataset.texts.push_back(std::move(row.text));
    dataset.labels.push_back(id_of_class[row.label]);
  }
}

// The names of the classes some row uses (the others stay out of the label map).
std::vector<std::string> UsedClassNames(const ClassNames& classes, const std::vector<CleanRow>& rows) {
  std::vector<bool> used(classes.names().size(), false);
  for (const CleanRow& row : rows) used[row.label] = true;
  std::vector<std::string> names;
  for (size_t i = 0; i < used.size(); ++i)
    if (used[i]) names.push_back(classes.names()[i]);
  return names;
}

// Cleans the misclassified rows in place and moves the usable ones into `kept`.
void KeepMisclassified(std::vector<LabeledText>& rows, const std::vector<bool>& usable, std::vector<CleanRow>& kept,
                       DatasetSources& sources) {
  std::string buffer;
  for (LabeledText& row : rows) {
    if (!usable[row.label]) {
      Count(LeftOut::kNoLabel, sources);
      continue;
    }
    if (!CleanInPlace(row.text, buffer)) {
      Count(LeftOut::kNoText, sources);
      continue;
    }
    kept.push_back({std::move(row.text), row.label});
  }
  sources.misclassified = static_cast<int64_t>(kept.size());
}

// Reads one label's rows in one snapshot: the misclassified ones, then the sample of the pool, which
// also makes up for each misclassified row left out while the pool has usable rows.
std::vector<CleanRow> ReadRows(TrainingRows& rows, const LabelColumns& columns, const PrepareSettings& settings,
                               ClassNames& classes, DatasetSources& sources) {
  SnapshotScope snapshot(rows);
  std::vector<LabeledText> misclassified = rows.ReadMisclassified(columns, classes);
  const std::vector<PoolEntry> pool = rows.ReadCorrectPool(columns, classes);
  const std::vector<bool> usable = UsableClasses(classes);
  sources.misclassified_read = static_cast<int64_t>(misclassified.size());
  sources.pool = static_cast<int64_t>(pool.size());
  // The orchestrator's dataset_len counts the rows as the database holds them, before cleaning.
  sources.correct_wanted =
      std::min(WantedCorrectRows(sources.misclassified_read, settings.correct_ratio), sources.pool);

  std::vector<CleanRow> kept;
  kept.reserve(misclassified.size() + static_cast<size_t>(sources.correct_wanted));
  KeepMisclassified(misclassified, usable, kept, sources);
  // The pass counted every misclassified row read: one left out is made up for with one more
  // correct row, so the dataset has the rows the pass waits for whenever the pool allows.
  const int64_t sample_size = sources.correct_wanted + sources.misclassified_read - sources.misclassified;
  CorrectSample sample(pool, usable, settings.seed);
  std::vector<CleanRow> correct = sample.Draw(rows, static_cast<size_t>(sample_size), sources);
  sources.correct = static_cast<int64_t>(correct.size());
  std::move(correct.begin(), correct.end(), std::back_inserter(kept));
  return kept;
}

}  // namespace

Dataset BuildDataset(TrainingRows& rows, const LabelColumns& columns, LabelMap label_map,
                     const PrepareSettings& settings) {
  Dataset dataset;
  dataset.label = columns.label;
  dataset.sources.correct_ratio = settings.correct_ratio;
  dataset.sources.seed = settings.seed;
  ClassNames classes;
  std::vector<CleanRow> kept = ReadRows(rows, columns, settings, classes, dataset.sources);
  dataset.label_map = std::move(label_map);
  dataset.label_map.AddAll(UsedClassNames(classes, kept));
  AddRows(dataset, kept, classes);
  dataset.splits = StratifiedSplit(dataset.labels, StreamSeed(settings.seed, kSplitStream));
  return dataset;
}

PreparedLabel PrepareLabel(TrainingRows& rows, const LabelColumns& columns, Repository& repository,
                           const std::filesystem::path& scratch_dir, const PrepareSettings& settings,
                           std::chrono::system_clock::time_point now, const std::filesystem::path& legacy_label_map) {
  repository.CreateIfMissing();
  // Main's map; a hub of an earlier release has none yet, and keeps the ids of its labels.json.
  std::optional<LabelMap> published = PublishedLabelMap(repository);
  LabelMap label_map = published                  ? std::move(*published)
                       : legacy_label_map.empty() ? LabelMap::Initial(columns.label)
                                                  : LabelMap::Load(legacy_label_map, columns.label);
  const Dataset dataset = BuildDataset(rows, columns, std::move(label_map), settings);
  const DatasetSources& sources = dataset.sources;
  if (dataset.texts.empty())
    throw WorkerError("nothing to publish for " + columns.label + ": " + std::to_string(sources.misclassified_read) +
                      " reviewed misclassified row(s) and " + std::to_string(sources.pool) +
                      " correct complaint(s) in the database, " + std::to_string(sources.dropped) +
                      " left out for want of text or label");
  return {columns.label, sources, PublishDataset(repository, dataset, scratch_dir, settings.card, now)};
}

PreparedLabel PrepareLocalLabel(TrainingRows& rows, const LabelColumns& columns, const std::filesystem::path& directory,
                                const PrepareSettings& settings, std::chrono::system_clock::time_point now) {
  LabelDirectoryLock lock(directory.parent_path(), directory.filename().string());
  LocalRepository repository(directory);
  return PrepareLabel(rows, columns, repository, directory / ".prepare-staging", settings, now,
                      directory / kLabelMapPath);
}

PreparedLabel PrepareLabel(TrainingRows& rows, const LabelColumns& columns, const std::filesystem::path& hub_dir,
                           const PrepareSettings& settings, std::chrono::system_clock::time_point now) {
  return PrepareLocalLabel(rows, columns, hub_dir / columns.label, settings, now);
}

std::vector<std::string> LabelsDueForPrepare(const Config& config, Database& database) {
  // As a pass decides (Pass::CountAndDecide), so `prepare` and `run` never disagree.
  const std::vector<int64_t> misclassified = CountMisclassified(config, database);
  const std::vector<std::optional<int64_t>> pools = CountPools(config, database, misclassified);
  std::vector<std::string> due;
  for (size_t i = 0; i < config.labels.size(); ++i)
    if (Decide(misclassified[i], pools[i], config.correct_ratio, config.labels[i].threshold).prepare)
      due.push_back(config.labels[i].name);
  return due;
}

}  // namespace orch
