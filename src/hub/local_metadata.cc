#include "hub/local_metadata.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "util/durable_file.h"
#include "util/error.h"

namespace orch {
namespace {

constexpr std::string_view kFileScheme = "file://";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecoded(std::string_view text) {
  std::string decoded;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 && HexValue(text[i + 2]) >= 0) {
      decoded += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      decoded += text[i];
    }
  }
  return decoded;
}

MetadataRead Failed(MetadataRead::Status status, std::string detail) {
  MetadataRead read;
  read.status = status;
  read.detail = std::move(detail);
  return read;
}

}  // namespace

std::string FileUrlPath(std::string_view url) {
  if (!url.starts_with(kFileScheme)) return "";
  std::string_view rest = url.substr(kFileScheme.size());
  if (rest.starts_with("localhost/")) rest.remove_prefix(std::string_view("localhost").size());
  if (!rest.starts_with('/')) return "";  // another host: not a local file
  return PercentDecoded(rest);
}

MetadataRead ReadMetadataFile(const std::string& path) {
  // A FIFO, a device or a huge file in its place is refused without blocking or reading it all.
  std::optional<std::string> body;
  try {
    body = ReadRegularFile(path, kMaxMetadataBytes, "the dataset metadata");
  } catch (const Error& error) {
    // Too large is what the content says (as for a body from the Hub); anything else, the file.
    std::error_code ignored;
    const bool too_large = std::filesystem::is_regular_file(path, ignored) &&
                           std::filesystem::file_size(path, ignored) > kMaxMetadataBytes;
    return Failed(too_large ? MetadataRead::Status::kInvalid : MetadataRead::Status::kRefused, error.what());
  }
  if (!body) return Failed(MetadataRead::Status::kNotFound, path + " does not exist (nothing published yet)");
  MetadataRead read = ParseMetadata(*body);
  if (read.status != MetadataRead::Status::kOk) read.detail = path + ": " + read.detail;
  return read;
}

std::vector<MetadataRead> MetadataSources::ReadMetadata(std::span<const std::string> urls, TimeBudget budget) {
  std::vector<MetadataRead> reads(urls.size());
  std::vector<std::string> remote_urls;
  std::vector<size_t> remote_places;
  for (size_t i = 0; i < urls.size(); ++i) {
    if (std::string path = FileUrlPath(urls[i]); !path.empty()) {
      reads[i] = ReadMetadataFile(path);
    } else {
      remote_urls.push_back(urls[i]);
      remote_places.push_back(i);
    }
  }
  if (remote_urls.empty()) return reads;
  std::vector<MetadataRead> remote = remote_.ReadMetadata(remote_urls, budget);
  for (size_t k = 0; k < remote.size(); ++k) reads[remote_places[k]] = std::move(remote[k]);
  return reads;
}

}  // namespace orch
