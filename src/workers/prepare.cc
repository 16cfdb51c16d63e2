#include "workers/prepare.h"

#include <algorithm>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <thread>

#include "engine/counts.h"
#include "engine/decision.h"
#include "hub/local_repository.h"
#include "util/error.h"
#include "workers/kept_rows.h"
#include "workers/pool_draw.h"
#include "workers/text_clean.h"

namespace orch {
namespace {

namespace fs = std::filesystem;

// Pool candidates gathered beyond the rows a draw needs, for the drawn rows that turn out unusable,
// before another pass over the pool is needed: a thirty-second more, and a few.
size_t Spare(size_t needed) { return needed / 32 + 16; }

// Candidates read back per lookup of their texts: bounds the memory of a draw's lookups.
constexpr size_t kTextsPerLookup = 1 << 16;

// A class value a row can be trained with: some text, and valid UTF-8 (it goes into labels.json).
bool IsUsableClass(const std::string& name) { return IsValidUtf8(name) && !CleanText(name).empty(); }

// Whether each class index of a read is usable, worked out once per class as the read meets it.
class UsableClasses {
 public:
  explicit UsableClasses(const ClassNames& classes) : classes_(classes) {}
  bool operator()(uint32_t index) {
    while (usable_.size() <= index) usable_.push_back(IsUsableClass(classes_.names()[usable_.size()]));
    return usable_[index];
  }

 private:
  const ClassNames& classes_;
  std::vector<bool> usable_;
};

enum class LeftOut { kNoText, kNoLabel };

void Count(LeftOut why, DatasetSources& sources) {
  ++sources.dropped;
  if (why == LeftOut::kNoText) ++sources.dropped_no_text;
}

// One label's read, in one snapshot: the misclassified rows, then the draw from the pool. Where
// the database can share the snapshot with a second session (TrainingRows::ShareSnapshot), the
// pool's first pass runs there, on another thread, while the misclassified rows are read.
class LabelRead {
 public:
  LabelRead(TrainingRows& rows, const LabelColumns& columns, const PrepareSettings& settings, KeptRows& kept,
            DatasetSources& sources)
      : rows_(rows), columns_(columns), settings_(settings), kept_(kept), sources_(sources), usable_(classes_) {}

  void Run() {
    SnapshotScope snapshot(rows_);
    PoolPass first;
    if (std::unique_ptr<TrainingRows> companion = rows_.ShareSnapshot()) {
      first = ReadBothAtOnce(*companion);
    } else {
      ReadMisclassified();
      first =
          Candidates(rows_, classes_,
                     FirstCapacity(sources_.misclassified_read, sources_.misclassified_read - sources_.misclassified),
                     std::nullopt);
    }
    sources_.pool = first.pool;
    DrawFromPool(std::move(first));
  }

  const ClassNames& classes() const { return classes_; }

 private:
  // A pass over the pool: the first `capacity` complaints of the draw after the last pass's, in
  // draw order, and the complaints the pool holds.
  struct PoolPass {
    std::vector<PoolCandidate> drawn;
    size_t capacity = 0;
    int64_t pool = 0;
  };

  void ReadMisclassified() {
    rows_.ReadMisclassified(columns_, classes_, [&](const LabeledText& row) {
      ++sources_.misclassified_read;
      if (!usable_(row.label)) {
        Count(LeftOut::kNoLabel, sources_);
      } else if (!kept_.Keep(RowSource::kMisclassified, row.id, row.label, row.text)) {
        Count(LeftOut::kNoText, sources_);
      } else {
        ++sources_.misclassified;
      }
    });
  }

  // The first pass's capacity: the rows the draw needs for `misclassified_read` misclassified rows,
  // `left_out` of them left out, and a spare.
  size_t FirstCapacity(int64_t misclassified_read, int64_t left_out) const {
    const auto needed = static_cast<size_t>(WantedCorrectRows(misclassified_read, settings_.correct_ratio) + left_out);
    return needed + Spare(needed);
  }

  // One pass over the pool through `rows`, its class indices those of `classes`. Touches nothing
  // else of this object but constants: it may run on another thread.
  PoolPass Candidates(TrainingRows& rows, ClassNames& classes, size_t capacity,
                      std::optional<PoolCandidate> after) const {
    PoolCandidates candidates(capacity, after);
    uint32_t seq = 0;
    const RowKeys& keys = kept_.keys();
    rows.ReadCorrectPool(columns_, classes, [&](const PoolEntry& entry) {
      candidates.Offer({keys.Draw(entry.complaint_id), entry.label, seq++});
    });
    return {candidates.TakeInDrawOrder(), capacity, seq};
  }

  // Reads the misclassified rows here while `companion` counts them and makes the pool's first pass
  // on another thread. That pass cannot know how many misclassified rows will be left out: a draw
  // that needs more rows than its spare reads the pool once more.
  PoolPass ReadBothAtOnce(TrainingRows& companion) {
    ClassNames pool_classes;
    PoolPass first;
    std::exception_ptr failure;
    {
      const std::jthread pool_read([&] {
        try {
          first = Candidates(companion, pool_classes, FirstCapacity(companion.CountMisclassified(columns_), 0),
                             std::nullopt);
        } catch (...) {
          failure = std::current_exception();
        }
      });
      ReadMisclassified();
    }  // joins the pool's pass, whether the misclassified read ended or threw
    if (failure) std::rethrow_exception(failure);
    std::vector<uint32_t> index;  // the pool's class indices translated into this read's
    for (const std::string& name : pool_classes.names()) index.push_back(classes_.IndexOf(name));
    for (PoolCandidate& candidate : first.drawn) candidate.label = index[candidate.label];
    return first;
  }

  // Draws the pool in its seeded order and keeps the first usable rows: floor(misclassified_read x
  // CORRECT_RATIO) of them (at most the pool), and one more for each misclassified row left out, so
  // the dataset has the rows the pass counted whenever the pool allows. A drawn row without a usable
  // label or text is left out and the next one drawn takes its place. `first` is the first pass.
  void DrawFromPool(PoolPass first) {
    const int64_t misclassified_left_out = sources_.misclassified_read - sources_.misclassified;
    // The orchestrator's dataset_len counts the rows as the database holds them, before cleaning.
    sources_.correct_wanted =
        std::min(WantedCorrectRows(sources_.misclassified_read, settings_.correct_ratio), sources_.pool);
    auto needed = static_cast<size_t>(sources_.correct_wanted + misclassified_left_out);
    std::vector<PoolCandidate> drawn = std::move(first.drawn);
    std::optional<PoolCandidate> last = LastOf(drawn);
    bool whole_pool = drawn.size() < first.capacity;  // the pass kept every entry it was offered
    size_t next = 0;
    while (needed > 0) {
      if (next == drawn.size()) {  // more are needed than foreseen: the next ones, from another pass
        if (whole_pool || !last) break;
        const size_t capacity = needed + Spare(needed);
        drawn = Candidates(rows_, classes_, capacity, last).drawn;
        last = LastOf(drawn);
        whole_pool = drawn.size() < capacity;
        next = 0;
        continue;
      }
      // Every one of the next `needed` candidates is drawn: as many rows are needed, and each drawn
      // row is either kept or left out.
      const size_t end = std::min(drawn.size(), next + needed);
      needed -= Take(std::span(drawn).subspan(next, end - next));
      next = end;
    }
  }

  static std::optional<PoolCandidate> LastOf(const std::vector<PoolCandidate>& drawn) {
    return drawn.empty() ? std::nullopt : std::optional(drawn.back());
  }

  // Takes the drawn `batch`: reads the texts of those with a usable label, in complaint id order
  // (the order of a draw's rows does not matter once they are drawn, and the database reads its
  // pages in order), and keeps the rows with text. Returns the rows kept. Reorders `batch`.
  size_t Take(std::span<PoolCandidate> batch) {
    // Their keys become the complaint ids, those without a usable label are left out.
    size_t usable = 0;
    for (const PoolCandidate& candidate : batch) {
      if (usable_(candidate.label)) {
        batch[usable++] = {static_cast<uint64_t>(kept_.keys().DrawnId(candidate.key)), candidate.label, 0};
      } else {
        Count(LeftOut::kNoLabel, sources_);
      }
    }
    const auto id = [](const PoolCandidate& row) { return static_cast<int64_t>(row.key); };
    const std::span<PoolCandidate> to_read = batch.first(usable);
    std::sort(to_read.begin(), to_read.end(), [&](const PoolCandidate& a, const PoolCandidate& b) {
      return id(a) != id(b) ? id(a) < id(b) : a.label < b.label;
    });
    size_t kept = 0;
    std::vector<int64_t> ids;
    for (size_t start = 0; start < to_read.size();) {
      const std::span<PoolCandidate> part = to_read.subspan(start, std::min(kTextsPerLookup, to_read.size() - start));
      start += part.size();
      ids.clear();
      for (const PoolCandidate& row : part)
        if (ids.empty() || ids.back() != id(row)) ids.push_back(id(row));
      size_t k = 0;
      rows_.ReadMessages(ids, [&](size_t i, std::string_view message) {
        for (; k < part.size() && id(part[k]) == ids[i]; ++k) {
          if (kept_.Keep(RowSource::kPool, ids[i], part[k].label, message)) {
            ++kept;
          } else {
            Count(LeftOut::kNoText, sources_);
          }
        }
      });
    }
    sources_.correct += static_cast<int64_t>(kept);
    return kept;
  }

  TrainingRows& rows_;
  const LabelColumns& columns_;
  const PrepareSettings& settings_;
  KeptRows& kept_;
  DatasetSources& sources_;
  ClassNames classes_;
  UsableClasses usable_;
};

}  // namespace

Dataset BuildDataset(TrainingRows& rows, const LabelColumns& columns, LabelMap label_map,
                     const PrepareSettings& settings, const fs::path& spool_dir) {
  Dataset dataset;
  dataset.label = columns.label;
  dataset.sources.correct_ratio = settings.correct_ratio;
  dataset.sources.seed = settings.seed;
  KeptRows kept(settings.seed, spool_dir);
  LabelRead read(rows, columns, settings, kept, dataset.sources);
  read.Run();
  // The classes some row uses get ids; the others stay out of the label map.
  const std::vector<std::string>& names = read.classes().names();
  const StratifiedSplitter& splitter = kept.splitter();
  std::vector<std::string> used;
  for (uint32_t index = 0; index < names.size(); ++index)
    if (splitter.RowsOf(index) > 0) used.push_back(names[index]);
  dataset.label_map = std::move(label_map);
  dataset.label_map.AddAll(used);
  std::vector<int64_t> class_ids;
  for (uint32_t index = 0; index < names.size(); ++index) {
    class_ids.push_back(dataset.label_map.Find(names[index]).value_or(-1));
    if (splitter.RowsOf(index) > 0) dataset.classes[class_ids.back()] = splitter.SizesOf(index);
  }
  dataset.rows = kept.Finish(std::move(class_ids));
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
  // The rows' scratch file goes beside the split files' directory: HUB/<label> for a local hub.
  const Dataset dataset = BuildDataset(rows, columns, std::move(label_map), settings, scratch_dir.parent_path());
  const DatasetSources& sources = dataset.sources;
  if (dataset.size() == 0)
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
