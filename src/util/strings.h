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

// The Levenshtein distance between `a` and `b` (insertions, deletions, substitutions of one byte).
size_t EditDistance(std::string_view a, std::string_view b);

// Shortest text that reads back as `number` ("60", "0.5").
std::string FormatNumber(double number);

}  // namespace orch
