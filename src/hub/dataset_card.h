// The YAML a dataset card (README.md) opens with, so that the Hub shows a dataset and
// `datasets.load_dataset` loads it as it is meant: a text column, a class label, named splits.
//
// The conventions are the Hub's and the `datasets` library's (its utils/metadata.py and
// features/features.py):
//   configs            one config, "default", whose data_files name each split's file
//                      ({split, path}), so no file name is left to guess (the library would
//                      take a split named "eval" for "test");
//   dataset_info       the features (the text column a string, the label a class_label whose
//                      names are keyed by the ids as strings, '0', '1', ..., contiguous from 0) and
//                      each split's num_examples, which load_dataset checks;
//   language, task_categories, size_categories (n<1K, 1K<n<10K, ..., n>1T)  for the Hub's search.
// A split without rows is left out of both configs and dataset_info: the library cannot build an
// empty split, and checks that the splits it built are exactly those listed.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace orch {

struct CardSplit {
  std::string name;  // "train", "validation", "test"
  std::string path;  // "data/train.jsonl"
  uint64_t num_examples = 0;
};

struct DatasetCardMetadata {
  std::vector<CardSplit> splits;
  std::string text_column;               // a string feature
  std::string label_column;              // a class_label feature
  std::vector<std::string> class_names;  // class_names[id]: every id from 0, see ClassLabelNames
  std::vector<std::string> languages;    // language codes, e.g. "ne", "en"; none: no `language` key
  std::vector<std::string> task_categories;
  std::string pretty_name;  // "" for none
};

// The Hub's size category of a dataset of `rows` rows: "n<1K", "1K<n<10K", ..., "100B<n<1T", "n>1T".
std::string SizeCategory(uint64_t rows);

// A class_label's names from ids to names: names[id] for every id from 0 to the largest. An id no
// class has (a label map edited by hand, say) gets a name of its own, "unused_id_<id>" (with
// leading '_' added until it differs from every class name), because a class_label's ids must be
// contiguous and its names distinct. Throws WorkerError when the largest id is kMaxClassLabelIds
// or more, or an id is negative.
inline constexpr int64_t kMaxClassLabelIds = 100000;
std::vector<std::string> ClassLabelNames(const std::map<int64_t, std::string>& names_by_id);

// Whether `code` can be a language code of a card: two or three lower-case letters (ISO 639), then
// optionally subtags of 2 to 8 letters or digits after '-' ("en", "ne", "zh-Hans").
bool IsLanguageCode(std::string_view code);

// The card's metadata as the JSON value its YAML is written from, and that YAML between the two
// "---" lines that open a README.md.
nlohmann::ordered_json CardMetadataJson(const DatasetCardMetadata& card);
std::string CardFrontMatter(const DatasetCardMetadata& card);

}  // namespace orch
