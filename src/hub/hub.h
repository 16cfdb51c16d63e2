// Where published datasets announce themselves: each label's dataset_metadata.json.
//
// The engine reads metadata only through this interface; HfHub implements it over HTTP (with
// conditional requests, retries and a bounded number of connections), tests with a fake.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace orch {

// The fields of dataset_metadata.json the orchestrator relies on.
struct DatasetMetadata {
  std::string version_tag;
  int64_t num_samples = 0;
  // Rows the worker counted (as the orchestrator counts them) but could not put in the dataset
  // and could not make up for: optional in the file (0 when absent, as the original worker
  // writes it). num_samples + rows_dropped is the dataset_len the worker's rows count as.
  int64_t rows_dropped = 0;
};

struct MetadataRead {
  enum class Status {
    kOk,           // metadata is set
    kNotFound,     // 404: no dataset published yet
    kRefused,      // 401/403: the token is not accepted for this URL; waiting will not help
    kInvalid,      // the body is not valid metadata (too large, not JSON, missing fields)
    kUnavailable,  // network error or 5xx/429 after every retry; may work later
  };
  Status status = Status::kUnavailable;
  std::optional<DatasetMetadata> metadata;
  std::string detail;  // what went wrong, for the log (never contains a secret)
};

const char* MetadataStatusName(MetadataRead::Status status);

class Hub {
 public:
  virtual ~Hub() = default;
  // Reads every URL, concurrently. Result i belongs to urls[i].
  virtual std::vector<MetadataRead> ReadMetadata(std::span<const std::string> urls) = 0;
};

// Parses a dataset_metadata.json body (at most kMaxMetadataBytes). Returns kOk with the metadata,
// or kInvalid with a detail saying what is wrong: a missing or malformed version_tag (empty, longer
// than kMaxVersionTagBytes, or with a control character) or num_samples, or a rows_dropped present
// but not a non-negative integer.
inline constexpr size_t kMaxMetadataBytes = 1 << 20;
inline constexpr size_t kMaxVersionTagBytes = 256;
MetadataRead ParseMetadata(std::string_view body);

}  // namespace orch
