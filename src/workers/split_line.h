// The lines of a dataset's split files: {"grievance":"<clean text>","label":<class id>}.
//
// Byte for byte what nlohmann::json writes for that object (compact, UTF-8 as is): the quote, the
// backslash and the control characters escaped, \b \f \n \r \t by name and the others as \u00XX,
// everything else unchanged. Cleaned texts are valid UTF-8 without control characters, so in
// practice only quotes and backslashes are escaped. The prepare worker escapes each text once, as
// it reads it, and the publisher writes the lines.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace orch {

// Appends `text` as the contents of a JSON string (without the quotes around it).
void AppendJsonEscaped(std::string_view text, std::string& out);

// Appends one line, ending in '\n': `escaped_text` as AppendJsonEscaped gives it, and `label`.
void AppendSplitLine(std::string_view escaped_text, int64_t label, std::string& out);

}  // namespace orch
