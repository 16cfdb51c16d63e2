// How much heap a piece of code holds, so a test can bound what a streaming read or write keeps.
//
// glibc's mallinfo2: the bytes allocated and not freed yet (mmap'ed blocks included), of the main
// arena, where a single-threaded test's allocations go. Samples are taken where the test can:
// in the callbacks of the code under test.
#pragma once

#include <malloc.h>

#include <algorithm>
#include <cstddef>

namespace orch::testing {

inline size_t HeapInUse() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

// The most heap in use seen by Sample() since construction, above what was in use then.
class HeapPeak {
 public:
  HeapPeak() : base_(HeapInUse()), peak_(base_) {}
  void Sample() { peak_ = std::max(peak_, HeapInUse()); }
  size_t growth() const { return peak_ - base_; }

 private:
  size_t base_;
  size_t peak_;
};

}  // namespace orch::testing
