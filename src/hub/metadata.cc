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
  const std::string& text = tag->get_ref<const std::string&>();
  if (text.size() > kMaxVersionTagBytes ||
      std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
    return Invalid("dataset_metadata.json has a \"version_tag\" longer than " + std::to_string(kMaxVersionTagBytes) +
                   " bytes or with a control character");
  auto samples = doc.find("num_samples");
  if (samples == doc.end() || !samples->is_number_integer() || samples->get<int64_t>() < 0)
    return Invalid("dataset_metadata.json has no non-negative integer \"num_samples\"");
  auto dropped = doc.find("rows_dropped");  // optional: the original worker does not write it
  if (dropped != doc.end() && (!dropped->is_number_integer() || dropped->get<int64_t>() < 0))
    return Invalid("dataset_metadata.json has a \"rows_dropped\" that is not a non-negative integer");
  MetadataRead read;
  read.status = MetadataRead::Status::kOk;
  read.metadata = DatasetMetadata{tag->get<std::string>(), samples->get<int64_t>(),
                                  dropped == doc.end() ? 0 : dropped->get<int64_t>()};
  return read;
}

}  // namespace orch
