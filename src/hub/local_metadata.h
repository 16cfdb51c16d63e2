// Metadata sources of every kind: file:// paths into a local dataset hub directory, and URLs
// served over HTTP(S) by the Hugging Face Hub or any web server.
//
// The engine sees one Hub; this one reads file:// sources from disk and hands every other URL to
// the remote Hub, keeping each result in its request's place.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hub/hub.h"

namespace orch {

// Reads one dataset_metadata.json from disk: kNotFound when the file is absent (nothing
// published yet), kRefused when it cannot be read, kInvalid when it is not valid metadata or is
// larger than kMaxMetadataBytes. Never throws.
MetadataRead ReadMetadataFile(const std::string& path);

// "file:///srv/hub/x.json" or "file://localhost/srv/hub/x.json" -> "/srv/hub/x.json" (percent
// escapes decoded); "" for anything else.
std::string FileUrlPath(std::string_view url);

class MetadataSources final : public Hub {
 public:
  // `remote` reads every URL that is not file://.
  explicit MetadataSources(Hub& remote) : remote_(remote) {}

  std::vector<MetadataRead> ReadMetadata(std::span<const std::string> urls, TimeBudget budget) override;

 private:
  Hub& remote_;
};

}  // namespace orch
