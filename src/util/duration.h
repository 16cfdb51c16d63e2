// Durations as people write them: "6h", "30m", "90s", "1d", or plain seconds (SERVE_SCHEDULE,
// RETRAIN_COOLDOWN), and as people read them (the status page, messages).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace orch {

// The seconds in `text`: a decimal number greater than 0, then s, m, h or d (none: seconds), with
// no space between, e.g. "6h", "1.5h", "90s", "45". Nothing for anything else or beyond a year.
std::optional<double> ParseInterval(std::string_view text);

// The shortest of "2d", "6h", "30m", "90s" that is exact; seconds with decimals otherwise.
std::string FormatInterval(double seconds);

// A duration for people, rounded down to one unit: "40 ms", "2.5 s", "12 s", "4 min", "3 h", "2 d".
std::string FormatDuration(double seconds);

}  // namespace orch
