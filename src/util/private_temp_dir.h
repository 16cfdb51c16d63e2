// A directory only this process uses, under the system's directory for temporary files (TMPDIR),
// removed with everything in it when the object goes: where a worker writes a file it needs for a
// moment, such as fastText's training file or a model being published.
#pragma once

#include <filesystem>
#include <string>

namespace orch {

class PrivateTempDir {
 public:
  // Creates <TMPDIR>/<prefix>-XXXXXX (mode 0700). Throws WorkerError when it cannot; `purpose`
  // says in that message what the directory was for ("the training file").
  PrivateTempDir(const std::string& prefix, const std::string& purpose);
  ~PrivateTempDir();
  PrivateTempDir(const PrivateTempDir&) = delete;
  PrivateTempDir& operator=(const PrivateTempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace orch
