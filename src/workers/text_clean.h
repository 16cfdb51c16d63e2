// Cleaning a grievance's text before it goes into a training dataset.
//
// The prepare worker cleans every message the way the original worker did: URLs, HTML tags and line
// breaks go, runs of whitespace become one space, and the ends are trimmed. Everything else is kept
// as written, in full Unicode: the grievances are in Nepali (Devanagari) and English, and the
// zero-width joiners that Devanagari spelling relies on are not whitespace.
//
// The cleaner is one pass over the UTF-8 bytes (no regular expressions: it runs on every row of
// every dataset). Precisely:
//   - a URL starts at "http://", "https://" or "www." (ASCII letters in any case) and runs up to the
//     next whitespace or '<'; it is replaced by a space;
//   - an HTML tag is '<' followed by an ASCII letter, '/', '!' or '?', up to the first '>' on the
//     same line with no other '<' in between; it is replaced by a space ("a < b > c" is text);
//   - whitespace is what Python's str.split() splits on (ASCII blanks and line ends, U+0085, U+00A0,
//     U+1680, U+2000..U+200A, U+2028, U+2029, U+202F, U+205F, U+3000), plus the other ASCII control
//     characters; any run of it becomes one space, none at either end;
//   - a byte that is not part of valid UTF-8 (overlong forms and surrogates included) becomes
//     U+FFFD, so the result is always valid UTF-8 and can be written as JSON.
#pragma once

#include <string>
#include <string_view>

namespace orch {

// `text` cleaned as described above; "" when nothing but URLs, tags and whitespace was there.
std::string CleanText(std::string_view text);

// The same, into `out` (replacing its content and reusing its capacity): the form for loops.
void CleanTextInto(std::string_view text, std::string& out);

// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool IsValidUtf8(std::string_view text);

}  // namespace orch
