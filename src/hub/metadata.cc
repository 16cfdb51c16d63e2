#include <algorithm>
#include <nlohmann/json.hpp>

#include "hub/hub.h"

namespace orch {

const char* MetadataStatusName(MetadataRead::Status status) {
  switch (status) {
    case MetadataRead::Status::kOk: return "ok";
    case MetadataRead::Status::kNotFound: return "not_found";
    case MetadataRead::Status::kRefused: return "refused";
    case MetadataRead::Status::kInvalid: return "invalid";
    case MetadataRead::Status::kUnavailable: return "unavailable";
  }
  return "unknown";
}

namespace {

MetadataRead Invalid(std::string detail) {
  MetadataRead read;
  read.status = MetadataRead::Status::kInvalid;
  read.detail = std::move(detail);
  return read;
}

}  // namespace

MetadataRead ParseMetadata(std::string_view body) {
  if (body.size() > kMaxMetadataBytes)
    return Invalid("dataset_metadata.json is larger than 1 MiB (" + std::to_string(body.size()) + " bytes)");
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Invalid("dataset_metadata.json is not valid JSON");
  if (!doc.is_object()) return Invalid("dataset_metadata.json is not a JSON object");
  auto tag = doc.find("version_tag");
  if (tag == doc.end() || !tag->is_string() || tag->get_ref<const std::string&>().empty())
    return Invalid("dataset_metadata.json has no string \"version_tag\"");
  const std::string& version = tag->get_ref<const std::string&>();
  if (version.size() > kMaxVersionTagBytes)
    return Invalid("dataset_metadata.json has a \"version_tag\" of " + std::to_string(version.size()) +
                   " bytes; at most " + std::to_string(kMaxVersionTagBytes) + " are accepted");
  if (std::any_of(version.begin(), version.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
    return Invalid("dataset_metadata.json has a \"version_tag\" with a control character");
  const auto is_count = [](const nlohmann::json& value) {
    return value.is_number_unsigned() && value.get<uint64_t>() <= static_cast<uint64_t>(kMaxDatasetRows);
  };
  const std::string at_most = " from 0 to " + std::to_string(kMaxDatasetRows);
  auto samples = doc.find("num_samples");
  if (samples == doc.end() || !is_count(*samples))
    return Invalid("dataset_metadata.json has no \"num_samples\" that is a whole number" + at_most);
  auto dropped = doc.find("rows_dropped");  // optional: the original worker does not write it
  if (dropped != doc.end() && !is_count(*dropped))
    return Invalid("dataset_metadata.json has a \"rows_dropped\" that is not a whole number" + at_most);
  MetadataRead read;
  read.status = MetadataRead::Status::kOk;
  read.metadata = DatasetMetadata{tag->get<std::string>(), samples->get<int64_t>(),
                                  dropped == doc.end() ? 0 : dropped->get<int64_t>()};
  return read;
}

}  // namespace orch
