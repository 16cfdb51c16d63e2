#include "workers/label_map.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "config/label_name.h"
#include "db/application_schema.h"
#include "util/durable_file.h"
#include "util/error.h"
#include "workers/json_text.h"

namespace orch {
namespace {

[[noreturn]] void Refuse(const std::string& where, const std::string& problem) {
  throw WorkerError("label map " + where + " " + problem +
                    "; it must be a JSON object of class names to distinct non-negative integer ids, "
                    "e.g. {\"NORMAL\": 0, \"URGENT\": 1}");
}

// Ids stay within 32 bits: plenty of classes, and the next free id can never overflow.
int64_t IdOf(const nlohmann::json& value, const std::string& name, const std::string& where) {
  constexpr int64_t kLargestId = std::numeric_limits<int32_t>::max();
  const bool fits = value.is_number_unsigned()
                        ? value.get<uint64_t>() <= static_cast<uint64_t>(kLargestId)
                        : value.is_number_integer() && value.get<int64_t>() >= 0 && value.get<int64_t>() <= kLargestId;
  if (!fits) {
    // A number, true, false or null is short; a string, an array or an object may be as long, and
    // hold what, as the file likes.
    const std::string shown = value.is_string()       ? QuoteForMessage(value.get_ref<const std::string&>())
                              : value.is_structured() ? QuoteForMessage(value.dump())
                                                      : value.dump();
    Refuse(where, "gives " + QuoteForMessage(name) + " the id " + shown + ", not an integer from 0 to " +
                      std::to_string(kLargestId));
  }
  return value.get<int64_t>();
}

}  // namespace

LabelMap LabelMap::Initial(std::string_view label) {
  LabelMap map;
  std::span<const std::string_view> classes;
  // The ids the original workers trained with: the schema's values in order.
  if (label == "department") classes = kSchemaDepartments;
  if (label == "urgency") classes = kSchemaUrgencies;
  for (size_t id = 0; id < classes.size(); ++id) map.Add(std::string(classes[id]), static_cast<int64_t>(id));
  return map;
}

LabelMap LabelMap::Parse(std::string_view json_text, const std::string& where) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& error) {
    Refuse(where, "is not valid JSON (" + JsonSyntaxErrorIn(json_text, error).Describe() + ")");
  }
  if (!doc.is_object()) Refuse(where, "is not a JSON object");
  LabelMap map;
  std::set<int64_t> seen;
  for (const auto& [name, value] : doc.items()) {
    if (name.empty()) Refuse(where, "has an empty class name");
    const int64_t id = IdOf(value, name, where);
    if (!seen.insert(id).second) Refuse(where, "gives the id " + std::to_string(id) + " to two classes");
    map.Add(name, id);
  }
  return map;
}

LabelMap LabelMap::Load(const std::filesystem::path& file, std::string_view label) {
  const std::optional<std::string> text =
      ReadRegularFile(file, kMaxJsonDocumentBytes, "the label map",
                      "put back the label map, e.g. a copy of the newest version's labels.json, so that ids keep "
                      "their meaning");
  if (!text) return Initial(label);
  return Parse(*text, file.string());
}

std::optional<int64_t> LabelMap::Find(std::string_view name) const {
  auto found = ids_.find(name);
  if (found == ids_.end()) return std::nullopt;
  return found->second;
}

size_t LabelMap::AddAll(std::span<const std::string> names) {
  std::vector<std::string> fresh;
  for (const std::string& name : names)
    if (!ids_.contains(name)) fresh.push_back(name);
  std::sort(fresh.begin(), fresh.end());
  fresh.erase(std::unique(fresh.begin(), fresh.end()), fresh.end());
  for (const std::string& name : fresh) Add(name, next_id_);
  return fresh.size();
}

std::string LabelMap::ToJson() const {
  std::vector<std::pair<int64_t, std::string>> by_id;
  for (const auto& [name, id] : ids_) by_id.emplace_back(id, name);
  std::sort(by_id.begin(), by_id.end());
  nlohmann::ordered_json doc = nlohmann::ordered_json::object();
  for (const auto& [id, name] : by_id) doc[name] = id;
  return doc.dump(2) + "\n";
}

void LabelMap::Add(const std::string& name, int64_t id) {
  ids_[name] = id;
  next_id_ = std::max(next_id_, id + 1);
}

}  // namespace orch
