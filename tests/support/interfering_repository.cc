#include "support/interfering_repository.h"

#include <utility>

namespace orch::testing {

void InterferingRepository::InterfereWithCommits(std::string branch, int times, std::function<void()> interfere) {
  branch_ = std::move(branch);
  times_ = times;
  interfere_ = std::move(interfere);
}

int InterferingRepository::commits_to(const std::string& branch) const {
  auto found = commits_.find(branch);
  return found == commits_.end() ? 0 : found->second;
}

std::string InterferingRepository::Commit(const CommitRequest& request) {
  ++commits_[request.branch];
  if (request.branch == branch_ && times_ > 0) {
    --times_;
    interfere_();
  }
  return real_.Commit(request);
}

}  // namespace orch::testing
