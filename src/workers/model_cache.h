// Where `orchestrator predict` keeps the deployed models it read from model repositories, so that
// a model is read from its repository (downloaded, when the repository is on the Hub) once per
// commit of main, not once per run:
//
//   CACHE/<repository key>/<commit>/model.bin, model.json
//
// The key is the last part of the repository's name and a 64-bit FNV-1a digest of the whole name,
// so two repositories do not share an entry. A commit never changes, so neither does its entry: it is
// written under a hidden name and renamed into place whole. Making the entry of a new commit
// removes the other entries of that repository (readers of an old entry have read it already, and
// one that has not reads its commit again). An entry that does not load is removed, and its
// commit read again.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace orch {

class ModelCache {
 public:
  // The entries of the repository named `repository_name` in the cache directory `directory`.
  ModelCache(const std::filesystem::path& directory, const std::string& repository_name);

  // The entry of `commit`, when there is one.
  std::optional<std::filesystem::path> Find(const std::string& commit) const;
  // An empty hidden directory, made for this process, to put the files of `commit` in. Throws
  // WorkerError when the cache directory cannot be made (saying to give another with --cache).
  std::filesystem::path Stage(const std::string& commit);
  // Puts the filled `staged` in place as the entry of `commit` (keeping instead an entry another
  // process made meanwhile) and removes the other entries; returns the entry.
  std::filesystem::path Keep(const std::filesystem::path& staged, const std::string& commit);
  // Removes `path`, an entry or a staged directory, with what it holds (best effort).
  static void Discard(const std::filesystem::path& path);

 private:
  std::filesystem::path directory_;
};

// "department-1f3a9c0b2d4e6f80": the cache directory of the repository named `repository_name`.
std::string ModelCacheKey(const std::string& repository_name);

// The cache directory predict uses unless told another: $XDG_CACHE_HOME/orchestrator/models, else
// $HOME/.cache/orchestrator/models; empty when neither variable is set (or they are not absolute).
std::filesystem::path DefaultModelCacheDirectory(const char* xdg_cache_home, const char* home);

}  // namespace orch
