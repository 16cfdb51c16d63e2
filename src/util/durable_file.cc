#include "util/durable_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <new>
#include <string>
#include <system_error>
#include <utility>

#include "util/error.h"

namespace orch {

namespace fs = std::filesystem;

FileDescriptor::FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
  if (this != &other) {
    Close();
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

int FileDescriptor::Close() noexcept {
  if (fd_ < 0) return 0;
  // Linux frees the descriptor even when close fails (EINTR included), so it is never retried.
  const int status = ::close(std::exchange(fd_, -1));
  return status == 0 ? 0 : errno;
}

void ThrowFileError(std::string_view action, const fs::path& path, int error_number) {
  // system_category's text is strerror's, without strerror's shared buffer.
  throw WorkerError("cannot " + std::string(action) + " " + path.string() + ": " +
                    std::system_category().message(error_number));
}

namespace {

// What a file that is not a regular file is, in words.
const char* FileKind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

}  // namespace

std::optional<std::string> ReadRegularFile(const fs::path& path, uint64_t max_bytes, std::string_view what,
                                           std::string_view advice) {
  const std::string named = std::string(what) + " " + path.string();
  const std::string then = advice.empty() ? "" : "; " + std::string(advice);
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it does nothing to a regular file's reads.
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.is_open()) {
    const int error = errno;
    if (error == ENOENT) return std::nullopt;
    if (error == ELOOP) throw WorkerError(named + " is a loop of symlinks, not a regular file" + then);
    throw WorkerError("cannot open " + named + ": " + std::system_category().message(error) + then);
  }
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0)
    throw WorkerError("cannot examine " + named + ": " + std::system_category().message(errno) + then);
  if (!S_ISREG(status.st_mode))
    throw WorkerError(named + " is " + FileKind(status.st_mode) + ", not a regular file" + then);
  const auto too_large = [&](const std::string& size) {
    return WorkerError(named + " is " + size + ", more than the " + std::to_string(max_bytes) +
                       " bytes such a file can have" + then);
  };
  const uint64_t size = static_cast<uint64_t>(status.st_size);
  if (size > max_bytes) throw too_large(std::to_string(size) + " bytes");
  std::string content;
  try {
    // One byte more than the limit allows is read to notice a file that grew meanwhile.
    content.resize(static_cast<size_t>(size) + 1);
  } catch (const std::bad_alloc&) {
    throw WorkerError("not enough memory to read " + named + " (" + std::to_string(size) + " bytes)");
  }
  size_t filled = 0;
  for (;;) {
    if (filled == content.size()) {
      if (content.size() > max_bytes) throw too_large("more than " + std::to_string(max_bytes) + " bytes");
      content.resize(std::min<size_t>(static_cast<size_t>(max_bytes) + 1, content.size() + 65536));
    }
    const ssize_t got = ::read(fd.get(), content.data() + filled, content.size() - filled);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw WorkerError("cannot read " + named + ": " + std::system_category().message(errno) + then);
    if (got == 0) break;
    filled += static_cast<size_t>(got);
  }
  content.resize(filled);
  return content;
}

FileDescriptor CreateNewFile(const fs::path& path) {
  FileDescriptor fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.is_open()) ThrowFileError("create", path, errno);
  return fd;
}

void WriteAll(int fd, std::string_view bytes, const fs::path& path) {
  while (!bytes.empty()) {
    const ssize_t wrote = ::write(fd, bytes.data(), bytes.size());
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote < 0) ThrowFileError("write", path, errno);
    // A write that makes no progress sets no errno; going on would loop forever.
    if (wrote == 0) ThrowFileError("write", path, EIO);
    bytes.remove_prefix(static_cast<size_t>(wrote));
  }
}

void SyncAndClose(FileDescriptor& file, const fs::path& path) {
  if (::fsync(file.get()) != 0) ThrowFileError("sync", path, errno);
  // NFS and some FUSE file systems report a failed write-back only at close.
  if (const int error = file.Close(); error != 0) ThrowFileError("close", path, error);
}

void SyncPath(const fs::path& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.is_open()) ThrowFileError("open", path, errno);
  if (::fsync(fd.get()) != 0) ThrowFileError("sync", path, errno);
}

void WriteNewFile(const fs::path& path, std::string_view content) {
  FileDescriptor file = CreateNewFile(path);
  try {
    WriteAll(file.get(), content, path);
    SyncAndClose(file, path);
  } catch (...) {
    ::unlink(path.c_str());  // best effort: the write's failure is the one to report
    throw;
  }
}

void RenameOver(const fs::path& temporary, const fs::path& target, const std::function<void()>& on_replaced) {
  if (::rename(temporary.c_str(), target.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    ThrowFileError("replace", target, error);
  }
  if (on_replaced) on_replaced();
  SyncPath(target.has_parent_path() ? target.parent_path() : fs::path("."));
}

fs::path TemporaryPathFor(const fs::path& target) {
  return target.parent_path() / ("." + target.filename().string() + "." + std::to_string(::getpid()) + ".tmp");
}

void ReplaceFileAtomically(const fs::path& target, std::string_view content, const std::function<void()>& on_replaced) {
  const fs::path temporary = TemporaryPathFor(target);
  struct stat status {};
  // Only a plain file is taken for a leftover: anything else at that name is not ours to remove.
  if (::lstat(temporary.c_str(), &status) == 0 && S_ISREG(status.st_mode)) ::unlink(temporary.c_str());
  WriteNewFile(temporary, content);
  RenameOver(temporary, target, on_replaced);
}

bool RenameWithoutReplacing(const fs::path& from, const fs::path& to) {
  const std::string action = "rename " + from.string() + " to";
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return true;
  if (errno == EEXIST) return false;
  // EINVAL: the file system does not support the flag; ENOSYS: the kernel lacks renameat2.
  if (errno != EINVAL && errno != ENOSYS) ThrowFileError(action, to, errno);
  struct stat status {};
  if (::lstat(to.c_str(), &status) == 0) return false;
  if (errno != ENOENT) ThrowFileError(action, to, errno);
  if (::rename(from.c_str(), to.c_str()) != 0) ThrowFileError(action, to, errno);
  return true;
}

std::optional<LockFile> LockFile::TryAcquire(const fs::path& path) {
  FileDescriptor fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.is_open()) ThrowFileError("open the lock file", path, errno);
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return LockFile(std::move(fd));
  if (errno == EWOULDBLOCK) return std::nullopt;
  ThrowFileError("lock", path, errno);
}

}  // namespace orch
