// Keeps the writers of one label's local model repository apart: a retrain and a rollback of a label
// hold MODELS/<label>/.retrain.lock (flock) from the moment they read main until their decision is
// committed, so two of them never decide on one main. Writers of different labels do not wait for
// each other. (The repository itself refuses a commit whose parent is stale whatever the transport:
// the lock only spares a second retrain its training.)
#pragma once

#include <filesystem>
#include <string>

#include "util/durable_file.h"

namespace orch {

class LabelModelsLock {
 public:
  // Takes the lock of the label whose models are in `label_dir` (created when missing). Throws
  // WorkerError when another retrain or rollback of `label` holds it.
  LabelModelsLock(const std::filesystem::path& label_dir, const std::string& label);

 private:
  static LockFile Acquire(const std::filesystem::path& label_dir, const std::string& label);

  LockFile lock_;
};

}  // namespace orch
