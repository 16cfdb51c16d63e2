#include "support/dataset_repository.h"

#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "hub/local_repository.h"

namespace orch::testing {
namespace {

int64_t Lines(const std::string& text) {
  int64_t lines = 0;
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n' || i + 1 == text.size()) ++lines;
  return lines;
}

}  // namespace

std::string DepartmentSplitJsonl(size_t count, uint32_t seed, bool shuffle_labels) {
  const std::vector<std::vector<std::string>> own = {{"road", "pothole", "bridge", "सडक", "पुल"},
                                                     {"school", "teacher", "hospital", "विद्यालय", "अस्पताल"},
                                                     {"police", "theft", "fight", "प्रहरी", "चोरी"}};
  const std::vector<std::string> shared = {"please", "ward", "our", "हाम्रो", "समस्या", "help", "since", "days"};
  std::mt19937 random(seed);
  std::string jsonl;
  for (size_t i = 0; i < count; ++i) {
    const int label = static_cast<int>(i % 3);
    std::string text;
    for (int word = 0; word < 6; ++word) {
      const std::vector<std::string>& pool = word % 2 == 0 ? own[label] : shared;
      text += (text.empty() ? "" : " ") + pool[random() % pool.size()];
    }
    const int written = shuffle_labels ? static_cast<int>(random() % 3) : label;
    jsonl += nlohmann::json({{"grievance", text}, {"label", written}}).dump() + "\n";
  }
  return jsonl;
}

std::string PublishVersion(const std::filesystem::path& dir, const std::string& version, const VersionFiles& files) {
  std::filesystem::create_directories(dir);
  LocalRepository repository(dir);
  repository.CreateIfMissing();
  CommitRequest data;
  data.summary = "Add " + version;
  data.additions = {FileAddition::FromBytes("labels.json", files.labels_json),
                    FileAddition::FromBytes("data/train.jsonl", files.train),
                    FileAddition::FromBytes("data/validation.jsonl", files.validation),
                    FileAddition::FromBytes("data/test.jsonl", files.test)};
  repository.Commit(data);
  const int64_t train = Lines(files.train), validation = Lines(files.validation), test = Lines(files.test);
  const std::string metadata = files.metadata_json.value_or(
      nlohmann::json({{"dataset_name", dir.filename().string()},
                      {"version_tag", version},
                      {"label_column", "label"},
                      {"num_samples", train + validation + test},
                      {"splits", {{"train", train}, {"validation", validation}, {"test", test}}}})
          .dump(2));
  CommitRequest publish;
  publish.summary = "Publish " + version;
  publish.additions = {FileAddition::FromBytes("dataset_metadata.json", metadata)};
  const std::string commit = repository.Commit(publish);
  if (files.tag) repository.CreateTag(version, commit);
  return commit;
}

}  // namespace orch::testing
