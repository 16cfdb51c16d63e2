// YAML written from a JSON value, for the front matter of a dataset card (README.md).
//
// Block style, as the Hub's own cards are written: a mapping is "key: value" lines, a sequence is
// "- item" lines at the indentation of its key, an empty one is {} or []. A string is written
// plain only when no YAML reader can take it for anything else (a letter or '_' first, then
// letters, digits and "_./-", and not a YAML 1.1 boolean or null such as yes, off or null);
// otherwise it is double-quoted, with '"', '\' and every character YAML does not allow in a
// document or would fold (control characters, line breaks, U+2028/U+2029, U+FEFF, U+FFFE/U+FFFF)
// escaped, and bytes that are not UTF-8 written as U+FFFD. Every other character, Devanagari
// included, is written as it is. Keys follow the same rule. Numbers, booleans and null are plain.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace orch {

// The YAML text of `value`, ending in a newline. A mapping or sequence at the top is written as
// lines; a scalar as one line.
std::string ToYaml(const nlohmann::ordered_json& value);

// `text` as a YAML scalar: plain when that is safe, else double-quoted (see above).
std::string YamlScalar(std::string_view text);

}  // namespace orch
