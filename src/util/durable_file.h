// Writing files so that they survive a crash: the workers' published datasets and models, and the
// records of the command workers a pass starts; and reading such a file back without trusting it.
//
// A published file must never be seen half written: new files are written whole, fsynced and only
// then made visible by a rename, and the directory holding the rename is fsynced too. These are the
// steps both the dataset publisher and the model store build on, plus the lock file that keeps two
// workers of one label apart. Every failure is a WorkerError that names the action, the path and
// the system's reason, e.g. "cannot sync /hub/urgency/v1/train.jsonl: No space left on device".
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace orch {

// An owned file descriptor, closed when the object goes.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd = -1) noexcept : fd_(fd) {}
  ~FileDescriptor() { Close(); }
  FileDescriptor(FileDescriptor&& other) noexcept;
  FileDescriptor& operator=(FileDescriptor&& other) noexcept;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;

  int get() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }
  // Closes now; returns close(2)'s errno, 0 when it succeeded or nothing was open. The destructor
  // ignores that error, so code that commits a file closes it with this first.
  int Close() noexcept;

 private:
  int fd_;
};

// Throws WorkerError("cannot <action> <path>: <the system's text for error_number>").
[[noreturn]] void ThrowFileError(std::string_view action, const std::filesystem::path& path, int error_number);

// Reads the whole of `path` when it is a regular file of at most `max_bytes` bytes; nothing when it
// does not exist (a dangling symlink included), so the caller says what a missing file means. A
// file that is anything else gives a WorkerError instead of a hang, a crash or an unbounded
// allocation: a directory, a FIFO, a socket or a device (checked on the opened file, which is
// opened without blocking), a symlink loop, a file larger than `max_bytes` (or that grows past it
// while it is read), a read error. `what` names the file in messages and `advice`, when not empty,
// follows them: "the model file /m/model.bin is a FIFO (named pipe), not a regular file; <advice>".
std::optional<std::string> ReadRegularFile(const std::filesystem::path& path, uint64_t max_bytes, std::string_view what,
                                           std::string_view advice = {});

// Creates `path` for writing (mode 0644). Throws WorkerError when it exists already or cannot be made.
FileDescriptor CreateNewFile(const std::filesystem::path& path);

// Writes all of `bytes` to `fd`, going on after short writes and interrupts. `path` names the file in errors.
void WriteAll(int fd, std::string_view bytes, const std::filesystem::path& path);

// Makes what was written to `file` durable (fsync), then closes it, checking both.
void SyncAndClose(FileDescriptor& file, const std::filesystem::path& path);

// Makes a file's content, or a directory's entries (creations, renames), durable.
void SyncPath(const std::filesystem::path& path);

// Creates `path` holding `content`, fsynced and closed. Throws WorkerError when `path` exists
// already or a step fails; a file it began is removed then.
void WriteNewFile(const std::filesystem::path& path, std::string_view content);

// Puts the finished `temporary` in place of `target` (both in one directory) with one rename, so
// readers see the old file or the new one, never a part; then fsyncs the directory. `temporary` is
// removed when the rename fails. `on_replaced` runs right after the rename, before the directory
// sync: from that moment readers may see the new file, whatever fails after.
void RenameOver(const std::filesystem::path& temporary, const std::filesystem::path& target,
                const std::function<void()>& on_replaced = {});

// The temporary name ReplaceFileAtomically writes `target` under: .<name>.<pid>.tmp beside it.
std::filesystem::path TemporaryPathFor(const std::filesystem::path& target);

// Replaces (or creates) `target` with `content` atomically: written whole to TemporaryPathFor(target),
// fsynced, then RenameOver. A temporary left by a killed process of the same pid is removed first.
void ReplaceFileAtomically(const std::filesystem::path& target, std::string_view content,
                           const std::function<void()>& on_replaced = {});

// Renames `from` to `to` unless `to` exists; returns false, changing nothing, when it does. Atomic
// where the file system supports RENAME_NOREPLACE; elsewhere the check and the rename are two steps,
// so callers that race with others for `to` hold a LockFile around them. Throws WorkerError on other
// failures.
bool RenameWithoutReplacing(const std::filesystem::path& from, const std::filesystem::path& to);

// An exclusive flock(2) on a lock file, released when the object goes (closing the file releases it).
// The lock belongs to the open file, so it also keeps out a second lock taken in the same process.
class LockFile {
 public:
  // Takes the lock on `path`, creating the file when missing. Nothing when another holder has it;
  // throws WorkerError when the file cannot be opened or locked for another reason.
  static std::optional<LockFile> TryAcquire(const std::filesystem::path& path);

 private:
  explicit LockFile(FileDescriptor fd) : fd_(std::move(fd)) {}
  FileDescriptor fd_;
};

}  // namespace orch
