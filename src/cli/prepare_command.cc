// `orchestrator prepare`: the reference prepare worker (see workers/prepare.h), publishing into a
// local hub directory or into repositories on the Hugging Face Hub (--hub hf://datasets/...).
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/hub_repositories.h"
#include "cli/sources.h"
#include "config/repository_url.h"
#include "db/open_database.h"
#include "db/training_rows.h"
#include "util/error.h"
#include "workers/prepare.h"

namespace orch {
namespace {

using Json = nlohmann::ordered_json;
// A path is bytes, not necessarily UTF-8: print what cannot be encoded as U+FFFD rather than fail.
constexpr auto kReplace = nlohmann::json::error_handler_t::replace;

const LabelConfig* FindLabel(const Config& config, const std::string& name) {
  for (const LabelConfig& label : config.labels)
    if (label.name == name) return &label;
  return nullptr;
}

std::vector<const LabelConfig*> LabelsAtThreshold(const Config& config) {
  std::unique_ptr<Database> database = OpenDatabase(config.database);
  std::vector<const LabelConfig*> due;
  for (const std::string& name : LabelsDueForPrepare(config, *database)) due.push_back(FindLabel(config, name));
  return due;
}

Json ToJson(const PreparedLabel& prepared) {
  const PublishedVersion& version = prepared.version;
  return {{"label", prepared.label},
          {"version_tag", version.version_tag},
          {"repository", version.repository},
          {"commit", version.commit},
          {"num_samples", version.num_samples},
          {"splits",
           {{"train", version.splits.train}, {"validation", version.splits.validation}, {"test", version.splits.test}}},
          {"misclassified", prepared.sources.misclassified},
          {"correct", prepared.sources.correct},
          {"dropped", prepared.sources.dropped},
          {"rows_dropped", CountedRowsDropped(prepared.sources)},
          {"created_at", version.created_at}};
}

void PrintText(const PreparedLabel& prepared) {
  const PublishedVersion& version = prepared.version;
  const DatasetSources& sources = prepared.sources;
  std::cout << prepared.label << ": published " << version.version_tag << " with " << version.num_samples
            << " rows (train " << version.splits.train << ", validation " << version.splits.validation << ", test "
            << version.splits.test << "): " << sources.misclassified << " misclassified + " << sources.correct
            << " correct, " << sources.dropped << " left out";
  if (sources.dropped > 0)
    std::cout << " (" << RowsReplaced(sources) << " made up for with other correct rows, rows_dropped "
              << CountedRowsDropped(sources) << ")";
  std::cout << "\n  " << version.repository << "@" << version.version_tag << " (commit " << version.commit << ")"
            << std::endl;
}

// A directory as given, absolute, without "." parts or a trailing slash.
std::filesystem::path Directory(const std::string& path) {
  std::filesystem::path directory = std::filesystem::absolute(path).lexically_normal();
  if (!directory.has_filename()) directory = directory.parent_path();
  return directory;
}

// The --hub URL, checked before anything is read: no revision (prepare publishes onto main), one
// repository per label, the token a Hub repository needs, an existing hub directory.
RepositoryUrl ParseHub(const std::string& text, const Config& config) {
  RepositoryUrl hub = ParseRepositoryUrl(text, "--hub");
  if (hub.revision)
    throw ConfigError("--hub: \"" + text + "\" names the revision @" + *hub.revision +
                      ", but prepare publishes onto main and tags each version; leave out @" + *hub.revision);
  std::vector<std::string> labels;
  for (const LabelConfig& label : config.labels) labels.push_back(label.name);
  RequireOneRepositoryPerLabel(hub, labels, "--hub");
  if (hub.on_hub() && config.hf_token.empty())
    throw ConfigError("--hub " + hub.Name() +
                      " is a repository on the Hub: set HF_TOKEN to a token with write access to " +
                      hub.repo_id.substr(0, hub.repo_id.find('/')));
  if (!hub.on_hub() && !hub.per_label) RequireHubDirectory(Directory(hub.path));
  return hub;
}

PreparedLabel Prepare(const RepositoryUrl& hub, const Config& config, TrainingRows& rows, const LabelConfig& label,
                      const PrepareSettings& settings) {
  const RepositoryUrl target = hub.ForLabel(label.name);
  const auto now = std::chrono::system_clock::now();
  if (!target.on_hub()) return PrepareLocalLabel(rows, label.columns, Directory(target.path), settings, now);
  HubRepository opened = OpenHubRepository(hub.text, "--hub", RepositoryUrl::Kind::kHubDataset, label.name, config,
                                           HubAccess::kWrite, "orchestrator prepare");
  Repository& repository = *opened.repository;
  const std::filesystem::path scratch = std::filesystem::temp_directory_path() /
                                        ("orchestrator-prepare-" + std::to_string(::getpid()) + "-" + label.name);
  return PrepareLabel(rows, label.columns, repository, scratch, settings, now);
}

}  // namespace

int PrepareCommand(const CommonOptions& common, const PrepareOptions& options) {
  Config config = LoadConfigAndWarn(SourcesFrom(common));
  if (!options.labels.empty()) KeepOnlyLabels(config, options.labels);
  const RepositoryUrl hub = ParseHub(options.hub_dir, config);
  const CardSettings card{ParseLanguages(config.dataset_languages)};  // a bad code stops before anything is read
  std::vector<const LabelConfig*> labels;
  if (options.labels.empty()) {
    labels = LabelsAtThreshold(config);
  } else {
    for (const LabelConfig& label : config.labels) labels.push_back(&label);
  }

  Json report = {{"labels", Json::array()}};
  if (labels.empty() && !options.json) std::cout << "no label has reached its threshold: nothing to prepare\n";
  try {
    if (!labels.empty()) {
      std::unique_ptr<TrainingRows> rows = OpenTrainingRows(config.database);
      const PrepareSettings settings{config.correct_ratio, config.prepare_seed, card};
      for (const LabelConfig* label : labels) {
        const PreparedLabel prepared = Prepare(hub, config, *rows, *label, settings);
        if (options.json) {
          report["labels"].push_back(ToJson(prepared));
        } else {
          PrintText(prepared);
        }
      }
    }
  } catch (const Error& error) {
    // The labels published before the failure stay published: say which, then fail.
    if (options.json) {
      report["error"] = error.what();
      std::cout << report.dump(-1, ' ', false, kReplace) << "\n";
    }
    throw;
  }
  if (options.json) std::cout << report.dump(-1, ' ', false, kReplace) << "\n";
  return kExitOk;
}

}  // namespace orch
