// Small text helpers on ASCII, the one copy of each for the whole program.
//
// Every helper here treats bytes above 0x7f as ordinary characters: the program's own keywords,
// schemes and header names are ASCII, and the texts it only passes through (UTF-8) stay as they are.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace orch {

// ' ', '\t', '\n' or '\r'.
constexpr bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
// ' ' or '\t': the space inside one line.
constexpr bool IsLineSpace(char c) { return c == ' ' || c == '\t'; }

// `text` without leading and trailing IsSpace characters.
std::string_view Trim(std::string_view text);

// `text` with A-Z turned into a-z.
std::string ToLower(std::string_view text);

// Whether `text` starts with `prefix`, A-Z and a-z taken as equal.
bool StartsWithIgnoringCase(std::string_view text, std::string_view prefix);

// A whole decimal integer and nothing else ("-5"; not "5.0", " 5", "" or one out of range).
std::optional<int64_t> ParseInteger(std::string_view text);

// Whether `a` becomes `b` with at most `limit` insertions, deletions or substitutions of one byte
// (Levenshtein). Gives up as soon as every path costs more, so far-apart texts cost a few steps.
bool WithinEditDistance(std::string_view a, std::string_view b, size_t limit);

// Shortest text that reads back as `number` ("60", "0.5").
std::string FormatNumber(double number);

// `number` with exactly `decimals` digits after the point ("0.8125", "1.50"): scores and seconds
// in columns that line up.
std::string FormatFixed(double number, int decimals);

}  // namespace orch
