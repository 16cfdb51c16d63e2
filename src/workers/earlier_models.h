// MODELS/<label> as releases before model repositories kept it, read so that a model deployed then
// is never lost:
//
//   MODELS/<label>/<model_version>/model.bin   a model
//   MODELS/<label>/<model_version>/model.json  its model.json
//   MODELS/<label>/current                     symlink -> <model_version>: the deployed model
//   MODELS/<label>/decisions.jsonl             one decision per line
//
// `orchestrator predict` answers with the model `current` names until the label's first retrain or
// rollback imports it: the deployed model becomes the repository's first commit on main (model.bin,
// model.json, a README.md card, and decisions.jsonl holding the earlier lines and an "imported"
// one), tagged with the dataset version it was trained on, and then `current` goes. The version
// directories are not read any more; they stay until someone deletes them.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "workers/model_card.h"
#include "workers/model_repository.h"

namespace orch {

// Whether `label_dir` holds the layout of an earlier release: a `current` symlink.
bool HasEarlierLayout(const std::filesystem::path& label_dir);

struct EarlierDeployment {
  std::string model_version;         // what `current` points to
  std::filesystem::path model_file;  // its model.bin
  ModelCard card;                    // its model.json
};

// The deployed model `current` names. Throws WorkerError saying what is wrong and what to do when
// `current` does not point to a version directory or its model.json cannot be read.
EarlierDeployment ReadEarlierDeployment(const std::filesystem::path& label_dir, const std::string& label);

// Imports the earlier layout in `label_dir` into `models` (the repository of that directory), as
// the top of this file says; the caller holds the label's lock (workers/models_lock.h). Returns a
// sentence saying what it did, nothing when `label_dir` holds no earlier layout. Throws WorkerError
// (changing nothing) when the deployed model cannot be read, or the earlier decisions.jsonl is not
// a regular file. A run stopped halfway is finished by the next: `current` goes only once main
// holds the model it names.
std::optional<std::string> ImportEarlierLayout(ModelRepository& models, const std::filesystem::path& label_dir,
                                               std::chrono::system_clock::time_point now);

}  // namespace orch
