// Small text helpers shared by the PostgreSQL adapters (counts, state, lock).
#pragma once

#include <libpq-fe.h>

#include <string>
#include <string_view>

namespace orch {

// `text` on one line: runs of blanks and line ends become one space, none at the ends
// (libpq's messages span several lines).
inline std::string OneLine(std::string_view text) {
  std::string line;
  for (char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (space && (line.empty() || line.back() == ' ')) continue;
    line += space ? ' ' : c;
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

// One field of a result's error (PG_DIAG_…), "" when absent.
inline std::string ErrorField(const PGresult* result, int field) {
  const char* value = result == nullptr ? nullptr : PQresultErrorField(result, field);
  return value == nullptr ? "" : value;
}

}  // namespace orch
