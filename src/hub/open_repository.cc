#include "hub/open_repository.h"

#include "hub/hf_repository.h"
#include "hub/local_repository.h"
#include "util/error.h"

namespace orch {

std::unique_ptr<Repository> OpenRepository(const RepositoryUrl& url, const Config& config,
                                           std::function<void(const RetryNotice&)> on_retry) {
  if (url.per_label)
    throw ConfigError(url.text + " names a repository per label ({label}); the repository of one label is opened");
  if (!url.on_hub()) return std::make_unique<LocalRepository>(url.path);
  const HfRepositoryType type =
      url.kind == RepositoryUrl::Kind::kHubDataset ? HfRepositoryType::kDataset : HfRepositoryType::kModel;
  return std::make_unique<HfRepository>(config.http, config.hf_endpoint, config.hf_token, type, url.repo_id,
                                        config.hf_repo_private, std::move(on_retry));
}

}  // namespace orch
