// Calendar time as the program writes and reads it: UTC, ISO 8601, to the millisecond.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace orch {

using WallTime = std::chrono::system_clock::time_point;

// '2026-11-26T07:31:02.123Z': UTC, the time truncated to the millisecond.
std::string FormatTimestamp(WallTime time);
// FormatTimestamp's form, and the forms people type in the sqlite3 shell: a space instead of the
// 'T' ('2026-11-26 07:31:02', as datetime('now') writes), a fraction of 0 to 9 digits (cut to the
// millisecond), and 'Z', '+HH:MM', '-HH:MM' or no zone at all (UTC). Nothing for anything else,
// and for a time outside the years kFirstYear to kLastYear (UTC): WallTime counts nanoseconds in 64
// bits, so that the difference of two such times, or one plus a year, is always representable.
inline constexpr int kFirstYear = 1970;
inline constexpr int kLastYear = 2200;
std::optional<WallTime> ParseTimestamp(std::string_view text);

}  // namespace orch
