#include "util/private_temp_dir.h"

#include <stdlib.h>

#include <system_error>

#include "util/error.h"

namespace orch {

namespace fs = std::filesystem;

PrivateTempDir::PrivateTempDir(const std::string& prefix, const std::string& purpose) {
  std::error_code error;
  const fs::path base = fs::temp_directory_path(error);
  if (error) throw WorkerError("no directory for temporary files: " + error.message() + " (check TMPDIR)");
  std::string pattern = (base / (prefix + "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr)
    throw WorkerError("cannot create a temporary directory like " + pattern + " for " + purpose + " (set TMPDIR)");
  path_ = pattern;
}

PrivateTempDir::~PrivateTempDir() {
  std::error_code ignored;  // best effort: nothing depends on it
  fs::remove_all(path_, ignored);
}

}  // namespace orch
