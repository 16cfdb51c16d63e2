// Content ids as the Hub and git name them: SHA-1 digests of bytes, git blob ids of files, and the
// SHA-256 that names an LFS object.
//
// A regular file on the Hub is known by its git blob id, sha1("blob <size>\0" + bytes); the local
// repository (hub/local_repository.h) names files and commits the same way. SHA-1 comes from
// OpenSSL's libcrypto, which libcurl loads anyway.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace orch {

// A SHA-1 digest computed in pieces.
class Sha1 {
 public:
  Sha1();
  ~Sha1();
  Sha1(const Sha1&) = delete;
  Sha1& operator=(const Sha1&) = delete;

  void Update(std::string_view bytes);
  // The digest of everything given, as 40 lower-case hex digits; Update may not be called after.
  std::string HexDigest();

 private:
  struct Free {
    void operator()(evp_md_ctx_st* context) const;
  };
  std::unique_ptr<evp_md_ctx_st, Free> context_;
};

std::string Sha1Hex(std::string_view bytes);

// The SHA-256 digest of `bytes` as 64 lower-case hex digits: how the Hub names an LFS object.
std::string Sha256Hex(std::string_view bytes);

// The git blob id of `content`.
std::string GitBlobId(std::string_view content);

// A regular file's git blob id and size, read in pieces. Throws WorkerError naming the file when it
// cannot be read, or changes size while it is.
struct FileId {
  std::string oid;
  uint64_t size = 0;
};
FileId GitBlobIdOfFile(const std::filesystem::path& file);

}  // namespace orch
