#include "util/duration.h"

#include <charconv>
#include <cmath>

#include "util/strings.h"

namespace orch {
namespace {

constexpr double kMaxSeconds = 365.0 * 24 * 3600;  // as for every setting in seconds (config/settings.cc)

struct Unit {
  char suffix;
  double seconds;
};
constexpr Unit kUnits[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};

}  // namespace

std::optional<double> ParseInterval(std::string_view text) {
  text = Trim(text);
  double scale = 1;
  if (!text.empty()) {
    const char last = static_cast<char>(ToLower(text.substr(text.size() - 1)).front());
    for (const Unit& unit : kUnits)
      if (last == unit.suffix) {
        scale = unit.seconds;
        text.remove_suffix(1);
      }
  }
  double number = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || !std::isfinite(number))
    return std::nullopt;
  const double seconds = number * scale;
  if (seconds <= 0 || seconds > kMaxSeconds) return std::nullopt;
  return seconds;
}

std::string FormatInterval(double seconds) {
  for (const Unit& unit : kUnits) {
    const double count = seconds / unit.seconds;
    if (count >= 1 && count == std::floor(count)) return FormatNumber(count) + unit.suffix;
  }
  return FormatNumber(seconds) + "s";
}

std::string FormatDuration(double seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 1) return std::to_string(static_cast<int64_t>(seconds * 1000)) + " ms";
  if (seconds < 10) return FormatNumber(std::floor(seconds * 10) / 10) + " s";
  if (seconds < 120) return std::to_string(static_cast<int64_t>(seconds)) + " s";
  if (seconds < 2 * 3600) return std::to_string(static_cast<int64_t>(seconds / 60)) + " min";
  if (seconds < 2 * 86400) return std::to_string(static_cast<int64_t>(seconds / 3600)) + " h";
  return std::to_string(static_cast<int64_t>(seconds / 86400)) + " d";
}

}  // namespace orch
