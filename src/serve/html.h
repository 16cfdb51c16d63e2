// Text into HTML: every text the status page shows from outside (label names, versions, errors,
// who started a pass) goes through here, so none of it can become markup.
#pragma once

#include <string>
#include <string_view>

namespace orch {

// Appends `text` with &, <, >, " and ' replaced by their character references: safe in element
// content and in quoted attribute values.
void AppendEscapedHtml(std::string& out, std::string_view text);
std::string EscapeHtml(std::string_view text);

}  // namespace orch
