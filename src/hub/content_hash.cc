#include "hub/content_hash.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <new>
#include <vector>

#include "util/durable_file.h"
#include "util/error.h"

namespace orch {
namespace {

constexpr size_t kReadChunk = 1 << 20;

std::string Hex(const unsigned char* bytes, unsigned int size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    hex += kDigits[bytes[i] >> 4];
    hex += kDigits[bytes[i] & 0x0f];
  }
  return hex;
}

std::string BlobHeader(uint64_t size) { return "blob " + std::to_string(size) + std::string(1, '\0'); }

}  // namespace

void MessageDigest::Free::operator()(evp_md_ctx_st* context) const { EVP_MD_CTX_free(context); }

MessageDigest::MessageDigest(const evp_md_st* algorithm) : context_(EVP_MD_CTX_new()) {
  if (!context_ || EVP_DigestInit_ex(context_.get(), algorithm, nullptr) != 1) throw std::bad_alloc();
}

MessageDigest::~MessageDigest() = default;

void MessageDigest::Update(std::string_view bytes) {
  if (EVP_DigestUpdate(context_.get(), bytes.data(), bytes.size()) != 1) throw std::bad_alloc();
}

std::string MessageDigest::HexDigest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(context_.get(), digest, &size) != 1) throw std::bad_alloc();
  return Hex(digest, size);
}

Sha1::Sha1() : MessageDigest(EVP_sha1()) {}

Sha256::Sha256() : MessageDigest(EVP_sha256()) {}

std::string Sha1Hex(std::string_view bytes) {
  Sha1 sha1;
  sha1.Update(bytes);
  return sha1.HexDigest();
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr) != 1) throw std::bad_alloc();
  return Hex(digest, size);
}

std::string GitBlobId(std::string_view content) {
  Sha1 sha1;
  sha1.Update(BlobHeader(content.size()));
  sha1.Update(content);
  return sha1.HexDigest();
}

namespace {

// Reads the regular file `file` in pieces, handing each to `take`; returns its size.
uint64_t ReadInPieces(const std::filesystem::path& file, const std::function<void(std::string_view)>& take) {
  FileDescriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.is_open()) ThrowFileError("open", file, errno);
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0) ThrowFileError("examine", file, errno);
  if (!S_ISREG(status.st_mode)) throw WorkerError(file.string() + " is not a regular file");
  const uint64_t size = static_cast<uint64_t>(status.st_size);
  std::vector<char> buffer(kReadChunk);
  uint64_t read_so_far = 0;
  for (;;) {
    const ssize_t got = ::read(fd.get(), buffer.data(), buffer.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) ThrowFileError("read", file, errno);
    if (got == 0) break;
    take(std::string_view(buffer.data(), static_cast<size_t>(got)));
    read_so_far += static_cast<uint64_t>(got);
  }
  if (read_so_far != size) throw WorkerError(file.string() + " changed size while it was read");
  return size;
}

}  // namespace

FileId GitBlobIdOfFile(const std::filesystem::path& file) {
  // The header needs the size first: stat it, then check the read agrees.
  std::error_code error;
  const uintmax_t announced = std::filesystem::file_size(file, error);
  Sha1 sha1;
  sha1.Update(BlobHeader(error ? 0 : announced));
  const uint64_t size = ReadInPieces(file, [&](std::string_view piece) { sha1.Update(piece); });
  if (error || size != announced) throw WorkerError(file.string() + " changed size while it was read");
  return {sha1.HexDigest(), size};
}

FileDigests DigestFile(const std::filesystem::path& file, size_t head_bytes) {
  std::error_code error;
  const uintmax_t announced = std::filesystem::file_size(file, error);
  Sha1 sha1;
  Sha256 sha256;
  sha1.Update(BlobHeader(error ? 0 : announced));
  FileDigests digests;
  digests.size = ReadInPieces(file, [&](std::string_view piece) {
    sha1.Update(piece);
    sha256.Update(piece);
    if (digests.head.size() < head_bytes) digests.head.append(piece.substr(0, head_bytes - digests.head.size()));
  });
  if (error || digests.size != announced) throw WorkerError(file.string() + " changed size while it was read");
  digests.git_oid = sha1.HexDigest();
  digests.sha256 = sha256.HexDigest();
  return digests;
}

}  // namespace orch
