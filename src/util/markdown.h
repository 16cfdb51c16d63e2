// Text put into Markdown that this program writes (dataset and model cards).
#pragma once

#include <string>
#include <string_view>

namespace orch {

// `text` as the content of one cell of a Markdown table: '|' escaped (it would end the cell), line
// breaks turned into spaces (they would end the row).
std::string MarkdownTableCell(std::string_view text);

}  // namespace orch
