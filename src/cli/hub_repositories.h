// The repositories the reference workers' options name on the Hugging Face Hub: `prepare --hub`,
// `retrain --dataset` and `--models`, `predict --models`, `rollback --models` given as hf://…
// (config/repository_url.h). A local directory keeps its own handling in each worker.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/repository_url.h"
#include "hub/repository.h"

namespace orch {

// Whether `text` names a repository on the Hub (hf://…).
bool NamesHubRepository(std::string_view text);

// What a command does with the repository, which says whether HF_TOKEN is needed.
enum class HubAccess { kRead, kWrite };

struct HubRepository {
  RepositoryUrl url;  // the label's repository, {label} replaced
  std::unique_ptr<Repository> repository;
};

// Opens `label`'s repository on the Hub that `text` (given as `option`) names. It must be of
// `kind` (a dataset for --dataset and --hub, a model for --models); writing needs HF_TOKEN. Each
// HTTP retry is said on stderr, prefixed with `command` ("orchestrator retrain"). Nothing is
// contacted yet. Throws ConfigError saying what to write instead.
HubRepository OpenHubRepository(const std::string& text, std::string_view option, RepositoryUrl::Kind kind,
                                const std::string& label, const Config& config, HubAccess access,
                                const std::string& command);

}  // namespace orch
