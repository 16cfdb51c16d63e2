#include "util/time.h"

#include <cstdio>

namespace orch {
namespace {

// Reads `digits` decimal digits at `at`, moving past them; nothing when they are not all digits.
std::optional<int> Digits(std::string_view text, size_t& at, size_t digits) {
  if (at + digits > text.size()) return std::nullopt;
  int value = 0;
  for (size_t i = 0; i < digits; ++i) {
    const char c = text[at + i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  at += digits;
  return value;
}

bool Skip(std::string_view text, size_t& at, std::string_view choices) {
  if (at >= text.size() || choices.find(text[at]) == std::string_view::npos) return false;
  ++at;
  return true;
}

// ".123456" → 123 ms; moves past the whole fraction. Zero when there is none, nothing when malformed.
std::optional<std::chrono::milliseconds> Fraction(std::string_view text, size_t& at) {
  if (!Skip(text, at, ".")) return std::chrono::milliseconds(0);
  const size_t start = at;
  int millis = 0;
  while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
    if (at - start < 3) millis = millis * 10 + (text[at] - '0');
    ++at;
  }
  const size_t digits = at - start;
  if (digits == 0 || digits > 9) return std::nullopt;
  for (size_t i = digits; i < 3; ++i) millis *= 10;
  return std::chrono::milliseconds(millis);
}

// "Z", "+HH:MM", "-HH:MM" or nothing → the offset from UTC; nothing when malformed.
std::optional<std::chrono::minutes> ZoneOffset(std::string_view text, size_t& at) {
  if (at == text.size() || Skip(text, at, "Z")) return std::chrono::minutes(0);
  const bool negative = at < text.size() && text[at] == '-';
  if (!Skip(text, at, "+-")) return std::nullopt;
  const std::optional<int> hours = Digits(text, at, 2);
  if (!hours || !Skip(text, at, ":")) return std::nullopt;
  const std::optional<int> minutes = Digits(text, at, 2);
  if (!minutes || *hours > 23 || *minutes > 59) return std::nullopt;
  const std::chrono::minutes offset(*hours * 60 + *minutes);
  return negative ? -offset : offset;
}

}  // namespace

std::string FormatTimestamp(WallTime time) {
  using namespace std::chrono;
  const auto millis = floor<milliseconds>(time);
  const auto day = floor<days>(millis);
  const year_month_day date(day);
  const hh_mm_ss clock(millis - day);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()), static_cast<int>(clock.subseconds().count()));
  return text;
}

std::optional<WallTime> ParseTimestamp(std::string_view text) {
  using namespace std::chrono;
  size_t at = 0;
  const std::optional<int> y = Digits(text, at, 4);
  if (!y || !Skip(text, at, "-")) return std::nullopt;
  const std::optional<int> mo = Digits(text, at, 2);
  if (!mo || !Skip(text, at, "-")) return std::nullopt;
  const std::optional<int> d = Digits(text, at, 2);
  if (!d || !Skip(text, at, "T ")) return std::nullopt;
  const std::optional<int> h = Digits(text, at, 2);
  if (!h || !Skip(text, at, ":")) return std::nullopt;
  const std::optional<int> mi = Digits(text, at, 2);
  if (!mi || !Skip(text, at, ":")) return std::nullopt;
  const std::optional<int> s = Digits(text, at, 2);
  if (!s) return std::nullopt;
  const std::optional<milliseconds> fraction = Fraction(text, at);
  if (!fraction) return std::nullopt;
  const std::optional<minutes> offset = ZoneOffset(text, at);
  if (!offset || at != text.size()) return std::nullopt;
  const year_month_day date{year(*y), month(static_cast<unsigned>(*mo)), day(static_cast<unsigned>(*d))};
  if (!date.ok() || *h > 23 || *mi > 59 || *s > 59) return std::nullopt;
  const sys_time<milliseconds> time = sys_days(date) + hours(*h) + minutes(*mi) + seconds(*s) + *fraction - *offset;
  static constexpr sys_days kFirst = year_month_day{year(kFirstYear), January, day(1)};
  static constexpr sys_days kAfterLast = year_month_day{year(kLastYear + 1), January, day(1)};
  if (time < kFirst || time >= kAfterLast) return std::nullopt;
  return time;
}

}  // namespace orch
