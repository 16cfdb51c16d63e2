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
struct evp_md_st;

namespace orch {

// A digest computed in pieces: SHA-1 (git's ids) or SHA-256 (LFS object ids).
class MessageDigest {
 public:
  ~MessageDigest();
  MessageDigest(const MessageDigest&) = delete;
  MessageDigest& operator=(const MessageDigest&) = delete;

  void Update(std::string_view bytes);
  // The digest of everything given, as lower-case hex digits; Update may not be called after.
  std::string HexDigest();

 protected:
  explicit MessageDigest(const evp_md_st* algorithm);

 private:
  struct Free {
    void operator()(evp_md_ctx_st* context) const;
  };
  std::unique_ptr<evp_md_ctx_st, Free> context_;
};

// 40 hex digits.
class Sha1 : public MessageDigest {
 public:
  Sha1();
};

// 64 hex digits.
class Sha256 : public MessageDigest {
 public:
  Sha256();
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

// What uploading a file to the Hub needs to know of it, read once in pieces: its size, git blob
// id, SHA-256 (its LFS object id) and first `head_bytes` bytes (the sample the Hub's preupload
// takes). Throws as GitBlobIdOfFile.
struct FileDigests {
  uint64_t size = 0;
  std::string git_oid;
  std::string sha256;
  std::string head;
};
FileDigests DigestFile(const std::filesystem::path& file, size_t head_bytes);

}  // namespace orch
