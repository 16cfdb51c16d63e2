#include "workers/pool_draw.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "workers/row_keys.h"

namespace orch {
namespace {

// `count` entries with well-spread keys, in the order a pool would be read.
std::vector<PoolCandidate> Entries(size_t count) {
  std::vector<PoolCandidate> entries;
  for (uint32_t i = 0; i < count; ++i) entries.push_back({Mix64(i), i % 3, i});
  return entries;
}

std::vector<PoolCandidate> Sorted(std::vector<PoolCandidate> entries) {
  std::sort(entries.begin(), entries.end());
  return entries;
}

TEST(PoolDraw, KeepsTheFirstEntriesOfTheDrawOrderWhateverTheReadOrder) {
  const std::vector<PoolCandidate> entries = Entries(20000);
  const std::vector<PoolCandidate> all = Sorted(entries);
  for (size_t capacity : {size_t{0}, size_t{1}, size_t{700}, size_t{5000}, size_t{19999}, size_t{20000}}) {
    PoolCandidates candidates(capacity, std::nullopt);
    for (const PoolCandidate& entry : entries) candidates.Offer(entry);
    EXPECT_EQ(candidates.TakeInDrawOrder(),
              std::vector<PoolCandidate>(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(capacity)))
        << capacity;
  }
  PoolCandidates more(30000, std::nullopt);
  for (const PoolCandidate& entry : entries) more.Offer(entry);
  EXPECT_EQ(more.TakeInDrawOrder(), all) << "a pool smaller than the capacity is kept whole";
}

TEST(PoolDraw, ALaterPassGoesOnAfterTheLastCandidate) {
  const std::vector<PoolCandidate> entries = Entries(5000);
  const std::vector<PoolCandidate> all = Sorted(entries);
  PoolCandidates first(1000, std::nullopt);
  for (const PoolCandidate& entry : entries) first.Offer(entry);
  const std::vector<PoolCandidate> head = first.TakeInDrawOrder();
  PoolCandidates next(1500, head.back());
  for (const PoolCandidate& entry : entries) next.Offer(entry);
  EXPECT_EQ(next.TakeInDrawOrder(), std::vector<PoolCandidate>(all.begin() + 1000, all.begin() + 2500));
}

TEST(PoolDraw, EqualKeysAreOrderedByLabelThenPlace) {
  PoolCandidates candidates(2, std::nullopt);
  for (const PoolCandidate& entry : std::vector<PoolCandidate>{{5, 1, 0}, {5, 0, 1}, {5, 0, 0}, {4, 9, 9}})
    candidates.Offer(entry);
  EXPECT_EQ(candidates.TakeInDrawOrder(), (std::vector<PoolCandidate>{{4, 9, 9}, {5, 0, 0}}));
}

}  // namespace
}  // namespace orch
