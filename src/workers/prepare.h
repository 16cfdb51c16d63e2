// The reference prepare worker (`orchestrator prepare`): for each label, a new dataset version
// built from the application's database and published into a local dataset hub or onto the Hub.
//
// For one label it reads, in one snapshot of the database, every reviewed misclassified row (with
// the reviewer's corrected label) and the pool of correctly classified complaints, exactly the rows
// the orchestrator counts; samples floor(misclassified × CORRECT_RATIO) of the pool (at most the
// whole pool) with PREPARE_SEED; cleans the texts (workers/text_clean.h) and leaves out rows without
// text or label; encodes the classes with the label's stable map (workers/label_map.h); splits
// 80/10/10 by class (workers/stratified_split.h); and publishes (workers/dataset_publisher.h).
//
// The dataset has the rows the orchestrator counts for it (its dataset_len) whenever the pool allows:
// a sampled correct row that turns out unusable (no text after cleaning, or no label) is replaced by
// the next one the seeded draw gives, and each misclassified row left out is made up for by one more
// correct row. What the pool could not make up for is published as "rows_dropped" in
// dataset_metadata.json (see CountedRowsDropped), so the pass still recognises the dataset.
// A hub directory of an earlier release (a directory per version, no repository) is carried over:
// the first version published into it takes its ids from the HUB/<label>/labels.json it holds.
// Everything is deterministic: the same rows and settings give byte-identical split files.
//
// Rows stream from the database to the split files: each row's cleaned text is written once to a
// scratch file as it is read, and only its rank key stays in memory (8 bytes a row, kept by its
// class: workers/kept_rows.h); the pool is drawn in the order of a seeded key of each complaint, so
// the draw keeps only the candidates it may take, not the pool. The split files are then written
// from the scratch file in their final order, a small part of it at a time (docs/prepare-worker.md,
// "Speed and memory").
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "config/config.h"
#include "db/database.h"
#include "db/training_rows.h"
#include "workers/dataset_publisher.h"
#include "workers/label_map.h"

namespace orch {

struct PrepareSettings {
  double correct_ratio = 0.5;  // CORRECT_RATIO
  int64_t seed = 42;           // PREPARE_SEED
  CardSettings card{};         // DATASET_LANGUAGES
};

// Reads, cleans, samples, encodes and splits one label's rows, which wait in an unnamed scratch
// file in `spool_dir` (workers/row_spool.h) until the dataset is written. `label_map` is the
// label's stored map; the dataset's map adds an id for each class it meets for the first time.
Dataset BuildDataset(TrainingRows& rows, const LabelColumns& columns, LabelMap label_map,
                     const PrepareSettings& settings, const std::filesystem::path& spool_dir);

// What one label's prepare did.
struct PreparedLabel {
  std::string label;
  DatasetSources sources;
  PublishedVersion version;
};

// Builds and publishes one label's dataset into `repository` (local, or on the Hub), the version
// dated `now`; the split files are written in `scratch_dir` and removed after. A repository without
// labels.json on main takes its ids from `legacy_label_map` when that file exists (the labels.json of
// an earlier release's hub directory). Throws WorkerError when no row is left to publish or a file
// cannot be written, DatabaseError when the database cannot be read, HubError (RepositoryError)
// when the repository refuses a step.
PreparedLabel PrepareLabel(TrainingRows& rows, const LabelColumns& columns, Repository& repository,
                           const std::filesystem::path& scratch_dir, const PrepareSettings& settings,
                           std::chrono::system_clock::time_point now,
                           const std::filesystem::path& legacy_label_map = {});

// The same into the local repository `directory`, holding its lock (LabelDirectoryLock, its parent
// must exist) throughout; the split files are written in DIRECTORY/.prepare-staging/ (on the
// repository's file system, so committing them links them), and DIRECTORY/labels.json of an
// earlier release is carried over.
PreparedLabel PrepareLocalLabel(TrainingRows& rows, const LabelColumns& columns, const std::filesystem::path& directory,
                                const PrepareSettings& settings, std::chrono::system_clock::time_point now);

// PrepareLocalLabel into hub_dir/<label>.
PreparedLabel PrepareLabel(TrainingRows& rows, const LabelColumns& columns, const std::filesystem::path& hub_dir,
                           const PrepareSettings& settings, std::chrono::system_clock::time_point now);

// The labels a pass would ask to prepare now: those whose dataset_len reaches their threshold,
// counted exactly as a pass counts (configured queries included, the pool only when it can matter).
// In configuration order.
std::vector<std::string> LabelsDueForPrepare(const Config& config, Database& database);

}  // namespace orch
