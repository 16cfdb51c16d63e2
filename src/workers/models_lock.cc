#include "workers/models_lock.h"

#include <optional>
#include <system_error>

#include "util/error.h"

namespace orch {

namespace fs = std::filesystem;

LabelModelsLock::LabelModelsLock(const fs::path& label_dir, const std::string& label)
    : lock_(Acquire(label_dir, label)) {}

LockFile LabelModelsLock::Acquire(const fs::path& label_dir, const std::string& label) {
  std::error_code error;
  fs::create_directories(label_dir, error);
  if (error) throw WorkerError("cannot create the models directory " + label_dir.string() + ": " + error.message());
  const fs::path path = label_dir / ".retrain.lock";
  std::optional<LockFile> held = LockFile::TryAcquire(path);
  if (!held)
    throw WorkerError("another retrain or rollback of " + label + " is running (it holds " + path.string() +
                      "); run this one again when it has finished");
  return std::move(*held);
}

}  // namespace orch
