#include "workers/pool_draw.h"

#include <algorithm>

namespace orch {

PoolCandidates::PoolCandidates(size_t capacity, std::optional<PoolCandidate> after)
    : capacity_(capacity), cut_at_(capacity + std::max<size_t>(capacity / 4, 1024)), after_(after) {}

void PoolCandidates::Offer(const PoolCandidate& entry) {
  if (capacity_ == 0 || (after_ && entry <= *after_) || (last_ && entry >= *last_)) return;
  kept_.push_back(entry);
  if (kept_.size() >= cut_at_) CutBack();
}

void PoolCandidates::CutBack() {
  const auto last = kept_.begin() + static_cast<std::ptrdiff_t>(capacity_ - 1);
  std::nth_element(kept_.begin(), last, kept_.end());
  last_ = *last;
  kept_.resize(capacity_);
}

std::vector<PoolCandidate> PoolCandidates::TakeInDrawOrder() {
  if (kept_.size() > capacity_) CutBack();
  std::sort(kept_.begin(), kept_.end());
  return std::move(kept_);
}

}  // namespace orch
