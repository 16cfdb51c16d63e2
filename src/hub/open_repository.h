// Opens the repository a RepositoryUrl (config/repository_url.h) names: the local transport for a
// directory, the Hub's HTTP API for hf://, with the settings the Hub client of a pass uses
// (HF_ENDPOINT, HF_TOKEN, HTTP_TIMEOUT, HTTP_RETRIES, HTTP_CA_BUNDLE, ...).
#pragma once

#include <functional>
#include <memory>

#include "config/config.h"
#include "config/repository_url.h"
#include "hub/http_client.h"
#include "hub/repository.h"

namespace orch {

// `url` names one repository (see RepositoryUrl::ForLabel): a LocalRepository of url.path, or an
// HfRepository of url.repo_id on config.hf_endpoint, created private (or public when
// config.hf_repo_private is false) when it must be created.
// `on_retry` hears of each HTTP retry. Nothing is contacted yet. Throws ConfigError for a URL that
// still holds {label}.
std::unique_ptr<Repository> OpenRepository(const RepositoryUrl& url, const Config& config,
                                           std::function<void(const RetryNotice&)> on_retry = {});

}  // namespace orch
