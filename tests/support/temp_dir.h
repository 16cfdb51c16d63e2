// A directory that exists for the lifetime of the object, removed with everything in it after.
#pragma once

#include <filesystem>
#include <string>

namespace orch::testing {

class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "orch-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Writes `content` to `path`, replacing it.
void WriteFile(const std::string& path, const std::string& content);
// Reads a whole file ("" when it does not exist).
std::string ReadFile(const std::string& path);

}  // namespace orch::testing
