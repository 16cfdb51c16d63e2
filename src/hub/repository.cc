#include "hub/repository.h"

#include <algorithm>
#include <utility>

namespace orch {
namespace {

constexpr size_t kMaxRefNameLength = 100;
constexpr size_t kMaxPathLength = 1000;

bool IsRefCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

bool IsReservedPart(std::string_view part) {
  return part.empty() || part == "." || part == ".." || part == ".git" || part == ".cache" || part == ".repo";
}

}  // namespace

bool IsValidRefName(std::string_view name) {
  if (name.empty() || name.size() > kMaxRefNameLength || name.front() == '.' || name.front() == '-') return false;
  if (name.find("..") != std::string_view::npos) return false;
  return std::all_of(name.begin(), name.end(), IsRefCharacter);
}

bool IsValidRepositoryPath(std::string_view path) {
  if (path.empty() || path.size() > kMaxPathLength) return false;
  for (char c : path)
    if (c == '\\' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  for (size_t start = 0;;) {
    const size_t slash = path.find('/', start);
    if (IsReservedPart(path.substr(start, slash - start))) return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

bool IsCommitId(std::string_view text) {
  return text.size() == 40 &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

FileAddition FileAddition::FromBytes(std::string path, std::string content) {
  FileAddition addition;
  addition.path = std::move(path);
  addition.content = std::move(content);
  return addition;
}

FileAddition FileAddition::FromFile(std::string path, std::filesystem::path local_file) {
  FileAddition addition;
  addition.path = std::move(path);
  addition.local_file = std::move(local_file);
  return addition;
}

}  // namespace orch
