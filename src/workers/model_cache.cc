#include "workers/model_cache.h"

#include <unistd.h>

#include <cstdio>
#include <system_error>

#include "hub/repository.h"
#include "util/durable_file.h"
#include "util/error.h"
#include "util/fnv.h"

namespace orch {

namespace fs = std::filesystem;

namespace {

constexpr size_t kKeyDigits = 16;
constexpr size_t kMostNameCharacters = 64;

bool IsKeyCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

}  // namespace

std::string ModelCacheKey(const std::string& repository_name) {
  std::string last = repository_name;
  while (!last.empty() && last.back() == '/') last.pop_back();
  if (const size_t slash = last.rfind('/'); slash != std::string::npos) last = last.substr(slash + 1);
  std::string readable;
  for (char c : last.substr(0, kMostNameCharacters)) readable += IsKeyCharacter(c) ? c : '_';
  if (readable.empty() || readable.front() == '.') readable.insert(0, "repository");
  char digest[kKeyDigits + 1];
  std::snprintf(digest, sizeof digest, "%016llx", static_cast<unsigned long long>(Fnv1a64(repository_name)));
  return readable + "-" + digest;
}

fs::path DefaultModelCacheDirectory(const char* xdg_cache_home, const char* home) {
  if (xdg_cache_home != nullptr && fs::path(xdg_cache_home).is_absolute())
    return fs::path(xdg_cache_home) / "orchestrator" / "models";
  if (home != nullptr && fs::path(home).is_absolute()) return fs::path(home) / ".cache" / "orchestrator" / "models";
  return {};
}

ModelCache::ModelCache(const fs::path& directory, const std::string& repository_name)
    : directory_(directory / ModelCacheKey(repository_name)) {}

std::optional<fs::path> ModelCache::Find(const std::string& commit) const {
  if (!IsCommitId(commit)) return std::nullopt;
  std::error_code error;
  const fs::path entry = directory_ / commit;
  if (fs::is_directory(entry, error)) return entry;
  return std::nullopt;
}

fs::path ModelCache::Stage(const std::string& commit) {
  if (!IsCommitId(commit)) throw WorkerError("\"" + commit + "\" is not a commit id to cache a model by");
  std::error_code error;
  fs::create_directories(directory_, error);
  if (error)
    throw WorkerError("cannot create the model cache " + directory_.string() + ": " + error.message() +
                      "; give predict another with --cache DIR");
  const fs::path staged = directory_ / ("." + commit + "." + std::to_string(::getpid()) + ".tmp");
  fs::remove_all(staged, error);  // what a killed process of the same pid left
  if (!fs::create_directory(staged, error) || error)
    throw WorkerError("cannot create " + staged.string() + ": " + error.message() +
                      "; give predict another cache with --cache DIR");
  return staged;
}

fs::path ModelCache::Keep(const fs::path& staged, const std::string& commit) {
  const fs::path entry = directory_ / commit;
  if (!RenameWithoutReplacing(staged, entry)) Discard(staged);  // made meanwhile by another predict: the same files
  std::error_code error;
  for (fs::directory_iterator other(directory_, error), end; !error && other != end; other.increment(error)) {
    const std::string name = other->path().filename().string();
    if (name != commit && IsCommitId(name)) Discard(other->path());
  }
  return entry;
}

void ModelCache::Discard(const fs::path& path) {
  std::error_code ignored;  // best effort: a leftover is read again or removed next time
  fs::remove_all(path, ignored);
}

}  // namespace orch
