// Fuzz target for ParseMetadata: any body from a metadata URL must be classified as valid
// metadata or as invalid with a reason; the parser reports problems as a status, so any exception
// here is a finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.h"
#include "hub/hub.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using orch::MetadataRead;
  using orch::fuzz::Check;
  MetadataRead read = orch::ParseMetadata(std::string_view(reinterpret_cast<const char*>(data), size));
  if (read.status == MetadataRead::Status::kOk) {
    Check(read.metadata.has_value(), "kOk carries the metadata");
    Check(!read.metadata->version_tag.empty(), "kOk implies a non-empty version_tag");
    Check(read.metadata->num_samples >= 0, "kOk implies num_samples >= 0");
    return 0;
  }
  Check(read.status == MetadataRead::Status::kInvalid, "a body is either kOk or kInvalid");
  Check(!read.metadata.has_value(), "invalid metadata carries no values");
  Check(!read.detail.empty() && !orch::fuzz::HasControlByte(read.detail), "invalid metadata says why, on one line");
  return 0;
}
