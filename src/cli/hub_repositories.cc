#include "cli/hub_repositories.h"

#include <iostream>

#include "hub/open_repository.h"
#include "util/error.h"

namespace orch {
namespace {

const char* KindName(RepositoryUrl::Kind kind) {
  return kind == RepositoryUrl::Kind::kHubDataset ? "a dataset repository (hf://datasets/OWNER/NAME)"
                                                  : "a model repository (hf://OWNER/NAME)";
}

}  // namespace

bool NamesHubRepository(std::string_view text) { return text.starts_with("hf://"); }

HubRepository OpenHubRepository(const std::string& text, std::string_view option, RepositoryUrl::Kind kind,
                                const std::string& label, const Config& config, HubAccess access,
                                const std::string& command) {
  const RepositoryUrl url = ParseRepositoryUrl(text, option);
  if (url.kind != kind)
    throw ConfigError(std::string(option) + " " + url.Name() + " is " + KindName(url.kind) + ", but " +
                      std::string(option) + " takes " + KindName(kind));
  if (access == HubAccess::kWrite && config.hf_token.empty())
    throw ConfigError(std::string(option) + " " + url.Name() +
                      " is a repository on the Hub: set HF_TOKEN to a token with write access to " +
                      url.repo_id.substr(0, url.repo_id.find('/')));
  HubRepository opened{url.ForLabel(label), nullptr};
  // The URL without its query, which for an upload is a signature.
  opened.repository = OpenRepository(opened.url, config, [command](const RetryNotice& retry) {
    std::cerr << command << ": " << retry.method << " " << retry.url.substr(0, retry.url.find('?')) << " failed ("
              << retry.reason << "), retry in " << retry.wait.count() << " ms" << std::endl;
  });
  return opened;
}

}  // namespace orch
