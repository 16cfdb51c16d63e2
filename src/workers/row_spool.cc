#include "workers/row_spool.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "util/error.h"

namespace orch {
namespace {

namespace fs = std::filesystem;

// Order key, rank key, class and source (its top bit), position, text length.
constexpr size_t kHeaderBytes = 8 + 8 + 4 + 4 + 4;
constexpr uint32_t kPoolBit = uint32_t{1} << 31;
constexpr size_t kFileWriteBytes = 1 << 20;  // chunks gathered before a write(2)
constexpr int kBucketBits = 9;
static_assert(RowSpool::kBuckets == size_t{1} << kBucketBits);

template <typename T>
void Put(std::string& out, T value) {
  char bytes[sizeof value];
  std::memcpy(bytes, &value, sizeof value);
  out.append(bytes, sizeof value);
}

template <typename T>
T Get(const char* at) {
  T value;
  std::memcpy(&value, at, sizeof value);
  return value;
}

// A new file in `directory`, already unlinked.
FileDescriptor CreateUnnamedFile(const fs::path& directory, fs::path& name) {
  std::string pattern = (directory / ".prepare-spool-XXXXXX").string();
  const int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd < 0) ThrowFileError("create the scratch file in", directory, errno);
  FileDescriptor file(fd);
  name = pattern;
  if (::unlink(pattern.c_str()) != 0) ThrowFileError("unlink the scratch file", name, errno);
  return file;
}

void ReadAt(int fd, char* into, uint64_t size, uint64_t offset, const fs::path& name) {
  while (size > 0) {
    const ssize_t got = ::pread(fd, into, size, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) ThrowFileError("read the scratch file", name, errno);
    if (got == 0) ThrowFileError("read the scratch file", name, EIO);  // shorter than written: cannot be
    into += got;
    size -= static_cast<uint64_t>(got);
    offset += static_cast<uint64_t>(got);
  }
}

}  // namespace

RowSpool::RowSpool(const fs::path& directory)
    : fd_(CreateUnnamedFile(directory, name_)), buffers_(kBuckets), chunks_(kBuckets) {}

void RowSpool::Add(const SpooledRow& row) {
  if (finished_) throw std::logic_error("RowSpool::Add after Finish");
  if (row.text.size() > UINT32_MAX) throw WorkerError("a text of more than 4 GiB cannot be spooled");
  if (row.klass >= kPoolBit) throw std::length_error("more than 2^31 classes");
  const size_t bucket = static_cast<size_t>(row.order_key >> (64 - kBucketBits));
  std::string& buffer = buffers_[bucket];
  if (buffer.capacity() < kChunkBytes) buffer.reserve(kChunkBytes + 512);
  Put(buffer, row.order_key);
  Put(buffer, row.rank_key);
  Put(buffer, row.klass | (row.source == RowSource::kPool ? kPoolBit : 0));
  Put(buffer, row.position);
  Put(buffer, static_cast<uint32_t>(row.text.size()));
  buffer += row.text;
  ++rows_;
  if (buffer.size() >= kChunkBytes) WriteChunks(bucket, buffer.size() / kChunkBytes * kChunkBytes);
}

void RowSpool::WriteChunks(size_t bucket, size_t bytes) {
  std::string& buffer = buffers_[bucket];
  for (size_t at = 0; at < bytes; at += kChunkBytes)
    chunks_[bucket].push_back({end_ + at, std::min<uint64_t>(kChunkBytes, bytes - at)});
  pending_.append(buffer, 0, bytes);
  end_ += bytes;
  buffer.erase(0, bytes);
  if (buffer.capacity() > 4 * kChunkBytes) buffer.shrink_to_fit();  // after a very long text
  if (pending_.size() >= kFileWriteBytes) FlushFile();
}

void RowSpool::FlushFile() {
  WriteAll(fd_.get(), pending_, name_);
  written_ += pending_.size();
  pending_.clear();
}

void RowSpool::Finish() {
  if (finished_) return;
  for (size_t bucket = 0; bucket < kBuckets; ++bucket)
    if (!buffers_[bucket].empty()) WriteChunks(bucket, buffers_[bucket].size());
  FlushFile();
  std::vector<std::string>().swap(buffers_);
  std::string().swap(pending_);
  finished_ = true;
}

void RowSpool::ForEachInOrder(const std::function<void(const SpooledRow&)>& on_row) const {
  if (!finished_) throw std::logic_error("RowSpool::ForEachInOrder before Finish");
  std::string bytes;
  std::vector<SpooledRow> rows;
  for (size_t bucket = 0; bucket < kBuckets; ++bucket) {
    uint64_t size = 0;
    for (const Chunk& chunk : chunks_[bucket]) size += chunk.size;
    bytes.resize(size);
    uint64_t at = 0;
    for (const Chunk& chunk : chunks_[bucket]) {
      ReadAt(fd_.get(), bytes.data() + at, chunk.size, chunk.offset, name_);
      at += chunk.size;
    }
    rows.clear();
    for (const char* p = bytes.data(); p < bytes.data() + bytes.size();) {
      SpooledRow& row = rows.emplace_back();
      row.order_key = Get<uint64_t>(p);
      row.rank_key = Get<uint64_t>(p + 8);
      const auto klass = Get<uint32_t>(p + 16);
      row.source = (klass & kPoolBit) != 0 ? RowSource::kPool : RowSource::kMisclassified;
      row.klass = klass & ~kPoolBit;
      row.position = Get<uint32_t>(p + 20);
      const auto length = Get<uint32_t>(p + 24);
      row.text = std::string_view(p + kHeaderBytes, length);
      p += kHeaderBytes + length;
    }
    std::sort(rows.begin(), rows.end(), [](const SpooledRow& a, const SpooledRow& b) {
      if (a.order_key != b.order_key) return a.order_key < b.order_key;
      if (a.source != b.source) return a.source < b.source;
      if (a.klass != b.klass) return a.klass < b.klass;
      return a.position < b.position;
    });
    for (const SpooledRow& row : rows) on_row(row);
    if (bytes.capacity() > 4 * size + (1 << 20)) std::string().swap(bytes);  // after a bucket of very long texts
  }
}

}  // namespace orch
