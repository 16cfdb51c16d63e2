// A label's stable map from class names to the integer ids a dataset's `label` column holds.
//
// It lives in HUB/<label>/labels.json ({"<class name>": id, ...}) and only grows: an id, once given,
// never changes, and a class name met for the first time gets the next free id (one more than the
// largest id given so far), so models trained on older versions keep meaning the same thing. A
// label without the file starts from the original workers' ids for department and urgency, and
// empty otherwise.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace orch {

class LabelMap {
 public:
  LabelMap() = default;

  // The map `label` starts with: the original workers' ids for department and urgency, else empty.
  static LabelMap Initial(std::string_view label);

  // Parses labels.json text. Throws WorkerError naming `where` (and, for a syntax error, the line)
  // unless it is a JSON object of class names to distinct non-negative integer ids.
  static LabelMap Parse(std::string_view json_text, const std::string& where);

  // Reads `file`, or returns Initial(label) when it does not exist. Throws WorkerError when it
  // cannot be read or parsed, or is not a regular file of at most kMaxJsonDocumentBytes.
  static LabelMap Load(const std::filesystem::path& file, std::string_view label);

  // The id of `name`, or nothing when it has none yet.
  std::optional<int64_t> Find(std::string_view name) const;

  // Gives every name without an id the next free one, new names in byte order (so the ids do not
  // depend on the order rows were read in). Returns how many were added.
  size_t AddAll(std::span<const std::string> names);

  // {"<name>": id, ...} ordered by id, two-space indented, ending in a newline.
  std::string ToJson() const;

  // Class name -> id.
  const std::map<std::string, int64_t, std::less<>>& ids() const { return ids_; }
  size_t size() const { return ids_.size(); }

 private:
  void Add(const std::string& name, int64_t id);

  std::map<std::string, int64_t, std::less<>> ids_;
  int64_t next_id_ = 0;
};

}  // namespace orch
