// The rows of a dataset on their way from the database to the split files, kept on disk.
//
// Each row's text (as a JSON string's contents, split_line.h) goes into a scratch file with its keys
// and class; the process keeps nothing of it. The file has no name: it is unlinked as soon as it is
// created, so it goes when the spool or the process does, however that ends.
//
// Rows are read back in ascending order key, a bucket at a time: a row goes to one of kBuckets
// buckets by the top bits of its order key (a uniformly spread key, so the buckets fill evenly),
// each bucket gathers its rows in a small buffer that is written to the file as a chunk of
// kChunkBytes whenever it has that much (a row may continue in the bucket's next chunk), and reading
// back takes the buckets in key order, reads each one's chunks (about 1/kBuckets of the file), sorts
// its rows and hands them over. So the memory is the buckets' buffers and one bucket's rows,
// whatever the number of rows, and every text is written once and read once. The file's pages are
// the kernel's cache, not the process's memory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "util/durable_file.h"
#include "workers/row_keys.h"

namespace orch {

struct SpooledRow {
  uint64_t order_key = 0;  // rows come back in ascending (order_key, source, klass, position)
  uint64_t rank_key = 0;
  RowSource source = RowSource::kMisclassified;
  uint32_t klass = 0;  // below 2^31
  uint32_t position = 0;
  std::string_view text;  // valid only until Add returns, or the callback does
};

class RowSpool {
 public:
  // Creates the file in `directory`, which must exist. Throws WorkerError when it cannot.
  explicit RowSpool(const std::filesystem::path& directory);

  // Adds a row. Throws WorkerError when the file cannot be written (a full disk).
  void Add(const SpooledRow& row);

  // Writes out what the buffers hold; Add may not be called after.
  void Finish();

  // Hands over every row in ascending (order_key, source, klass, position). After Finish; may be called
  // again. Throws WorkerError when the file cannot be read.
  void ForEachInOrder(const std::function<void(const SpooledRow&)>& on_row) const;

  uint64_t rows() const { return rows_; }
  uint64_t bytes() const { return end_; }  // the file's size

  static constexpr size_t kBuckets = 512;
  static constexpr size_t kChunkBytes = 8 << 10;

 private:
  struct Chunk {
    uint64_t offset;
    uint64_t size;
  };
  // Moves `bytes` of the bucket's buffer to the file as chunks of kChunkBytes (the last one shorter
  // when `bytes` is not a multiple).
  void WriteChunks(size_t bucket, size_t bytes);
  void FlushFile();

  std::filesystem::path name_;  // for messages: the name it had
  FileDescriptor fd_;
  std::vector<std::string> buffers_;        // per bucket, what is not in a chunk yet
  std::vector<std::vector<Chunk>> chunks_;  // per bucket, in the order written
  std::string pending_;                     // chunks not yet written to the file
  uint64_t written_ = 0;                    // bytes written to the file
  uint64_t end_ = 0;                        // written_ + pending_.size()
  uint64_t rows_ = 0;
  bool finished_ = false;
};

}  // namespace orch
