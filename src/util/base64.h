// Base64 (RFC 4648): the standard alphabet, as the Hub's commit API takes a file's content and its
// preupload a file's first bytes, and the URL and filename safe one, as a Pushgateway path takes a
// value. Both padded.
#pragma once

#include <string>
#include <string_view>

namespace orch {

std::string Base64(std::string_view bytes);     // section 4: A-Z a-z 0-9 + /
std::string Base64Url(std::string_view bytes);  // section 5: A-Z a-z 0-9 - _

}  // namespace orch
