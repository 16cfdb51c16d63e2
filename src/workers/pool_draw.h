// The first complaints of the correct pool in the seeded draw order, kept while the pool streams by.
//
// The pool is drawn in ascending order of its complaints' draw keys (workers/row_keys.h), so the
// first n of the draw are the n entries with the lowest keys, which one pass over the pool finds
// keeping only about n entries (never the whole pool): entries are gathered while below the lowest
// n seen so far, and the surplus is cut back to n now and then. A later pass can go on after the
// last candidate of an earlier one, for the rare draw that needs more rows than it foresaw.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace orch {

// An entry of the pool as the draw knows it. The draw order is ascending (key, label, seq): the key
// alone for distinct complaint ids; the rest makes it total.
struct PoolCandidate {
  uint64_t key = 0;    // RowKeys::Draw of the complaint id, which RowKeys::DrawnId gives back
  uint32_t label = 0;  // the class index
  uint32_t seq = 0;    // its place in the pool as read
  friend auto operator<=>(const PoolCandidate&, const PoolCandidate&) = default;
};

class PoolCandidates {
 public:
  // Keeps the first `capacity` entries offered that come after `after` in the draw order (all of
  // them, when not given).
  PoolCandidates(size_t capacity, std::optional<PoolCandidate> after);

  void Offer(const PoolCandidate& entry);

  // The entries kept, in draw order: the first `capacity` after `after`, or all of those offered
  // when they were fewer.
  std::vector<PoolCandidate> TakeInDrawOrder();

 private:
  void CutBack();

  size_t capacity_;
  size_t cut_at_;  // kept_.size() that triggers CutBack
  std::optional<PoolCandidate> after_;
  std::optional<PoolCandidate> last_;  // the last of the first `capacity`, once that many were kept
  std::vector<PoolCandidate> kept_;
};

}  // namespace orch
