#include "hub/dataset_card.h"

#include <set>

#include "hub/yaml_writer.h"
#include "util/error.h"

namespace orch {
namespace {

using Json = nlohmann::ordered_json;

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsAlnum(char c) { return IsLower(c) || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

}  // namespace

std::string SizeCategory(uint64_t rows) {
  struct Bucket {
    uint64_t below;
    const char* name;
  };
  static constexpr Bucket kBuckets[] = {{1'000, "n<1K"},
                                        {10'000, "1K<n<10K"},
                                        {100'000, "10K<n<100K"},
                                        {1'000'000, "100K<n<1M"},
                                        {10'000'000, "1M<n<10M"},
                                        {100'000'000, "10M<n<100M"},
                                        {1'000'000'000, "100M<n<1B"},
                                        {10'000'000'000, "1B<n<10B"},
                                        {100'000'000'000, "10B<n<100B"},
                                        {1'000'000'000'000, "100B<n<1T"}};
  for (const Bucket& bucket : kBuckets)
    if (rows < bucket.below) return bucket.name;
  return "n>1T";
}

std::vector<std::string> ClassLabelNames(const std::map<int64_t, std::string>& names_by_id) {
  if (names_by_id.empty()) return {};
  if (names_by_id.begin()->first < 0)
    throw WorkerError("the class id " + std::to_string(names_by_id.begin()->first) +
                      " is negative; a class label's ids run from 0");
  const int64_t largest = names_by_id.rbegin()->first;
  if (largest >= kMaxClassLabelIds)
    throw WorkerError("the class id " + std::to_string(largest) + " is too large: a dataset card's class label names " +
                      "every id from 0, at most " + std::to_string(kMaxClassLabelIds) +
                      "; give the classes smaller ids in the label map");
  std::set<std::string> taken;
  for (const auto& [id, name] : names_by_id) taken.insert(name);
  std::vector<std::string> names;
  names.reserve(static_cast<size_t>(largest) + 1);
  for (int64_t id = 0; id <= largest; ++id) {
    if (auto found = names_by_id.find(id); found != names_by_id.end()) {
      names.push_back(found->second);
      continue;
    }
    std::string placeholder = "unused_id_" + std::to_string(id);
    while (taken.contains(placeholder)) placeholder.insert(0, "_");
    taken.insert(placeholder);
    names.push_back(placeholder);
  }
  return names;
}

bool IsLanguageCode(std::string_view code) {
  size_t i = 0;
  while (i < code.size() && IsLower(code[i])) ++i;
  if (i < 2 || i > 3) return false;
  while (i < code.size()) {
    if (code[i] != '-') return false;
    size_t start = ++i;
    while (i < code.size() && IsAlnum(code[i])) ++i;
    if (i - start < 2 || i - start > 8) return false;
  }
  return true;
}

nlohmann::ordered_json CardMetadataJson(const DatasetCardMetadata& card) {
  Json data_files = Json::array();
  Json splits = Json::array();
  uint64_t rows = 0;
  for (const CardSplit& split : card.splits) {
    rows += split.num_examples;
    if (split.num_examples == 0) continue;
    data_files.push_back({{"split", split.name}, {"path", split.path}});
    splits.push_back({{"name", split.name}, {"num_examples", split.num_examples}});
  }
  Json names = Json::object();
  for (size_t id = 0; id < card.class_names.size(); ++id) names[std::to_string(id)] = card.class_names[id];
  Json metadata = Json::object();
  if (!card.pretty_name.empty()) metadata["pretty_name"] = card.pretty_name;
  if (!card.languages.empty()) metadata["language"] = card.languages;
  if (!card.task_categories.empty()) metadata["task_categories"] = card.task_categories;
  metadata["size_categories"] = Json::array({SizeCategory(rows)});
  metadata["configs"] = Json::array({{{"config_name", "default"}, {"data_files", data_files}}});
  metadata["dataset_info"] = {
      {"config_name", "default"},
      {"features", Json::array({{{"name", card.text_column}, {"dtype", "string"}},
                                {{"name", card.label_column}, {"dtype", {{"class_label", {{"names", names}}}}}}})},
      {"splits", splits}};
  return metadata;
}

std::string CardFrontMatter(const DatasetCardMetadata& card) {
  return "---\n" + ToYaml(CardMetadataJson(card)) + "---\n";
}

}  // namespace orch
