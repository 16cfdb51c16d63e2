#include "hub/response_headers.h"

#include <charconv>

#include "util/strings.h"

namespace orch {
namespace {

// The value of `line` when it is the header `name` (with its colon), trimmed; nothing otherwise.
std::optional<std::string_view> ValueOf(std::string_view line, std::string_view name) {
  if (!StartsWithIgnoringCase(line, name)) return std::nullopt;
  return Trim(line.substr(name.size()));
}

// Whether `value` may be kept: at most `limit` bytes, none of them a control byte. A header value
// may hold spaces and tabs (obs-text bytes above 0x7f are left as they are).
bool Usable(std::string_view value, size_t limit) {
  if (value.size() > limit) return false;
  for (char c : value)
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) return false;
  return true;
}

std::optional<uint64_t> ContentLength(std::string_view value) {
  uint64_t length = 0;
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), length);
  if (value.empty() || error != std::errc() || end != value.data() + value.size()) return std::nullopt;
  return length;
}

}  // namespace

bool ResponseHeaders::Take(std::string_view line) {
  if (StartsWithIgnoringCase(line, "HTTP/")) Clear();
  bytes_ += line.size();
  if (bytes_ > kMaxHeaderBytes) return false;
  if (auto value = ValueOf(line, "etag:")) {
    etag_ = Usable(*value, kMaxEtagBytes) && value->find_first_of(" \t") == std::string_view::npos ? *value : "";
  } else if (auto value = ValueOf(line, "location:")) {
    location_ = Usable(*value, kMaxLocationBytes) ? *value : "";
  } else if (auto value = ValueOf(line, "retry-after:")) {
    retry_after_ = Usable(*value, 64) ? *value : "";
  } else if (auto value = ValueOf(line, "content-length:")) {
    content_length_ = ContentLength(*value);
  } else {
    for (const char* name : kKeptHeaders) {
      const std::string_view wanted(name);
      if (line.size() <= wanted.size() || line[wanted.size()] != ':' || !StartsWithIgnoringCase(line, wanted)) continue;
      const std::string_view kept = Trim(line.substr(wanted.size() + 1));
      if (Usable(kept, kMaxKeptBytes)) {
        kept_[std::string(wanted)] = kept;
      } else {
        kept_.erase(std::string(wanted));
      }
      break;
    }
  }
  return true;
}

void ResponseHeaders::Clear() {
  etag_.clear();
  location_.clear();
  retry_after_.clear();
  content_length_.reset();
  kept_.clear();
  bytes_ = 0;
}

}  // namespace orch
