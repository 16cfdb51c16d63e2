#include "workers/text_clean.h"

#include <gtest/gtest.h>

#include <cctype>
#include <random>
#include <string>

namespace orch {
namespace {

// Whether `text` is well-formed UTF-8, checked independently of the cleaner (via std::mbrtowc
// would depend on the locale; this follows Unicode Table 3-7 directly, one rule per lead byte).
bool IndependentlyValidUtf8(const std::string& text) {
  size_t i = 0;
  const auto at = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  while (i < text.size()) {
    const unsigned char lead = at(i);
    size_t length = 1;
    unsigned char low = 0x80, high = 0xBF;
    if (lead < 0x80) {
      ++i;
      continue;
    }
    if (lead >= 0xC2 && lead <= 0xDF)
      length = 2;
    else if (lead == 0xE0)
      length = 3, low = 0xA0;
    else if (lead == 0xED)
      length = 3, high = 0x9F;
    else if (lead >= 0xE1 && lead <= 0xEF)
      length = 3;
    else if (lead == 0xF0)
      length = 4, low = 0x90;
    else if (lead == 0xF4)
      length = 4, high = 0x8F;
    else if (lead >= 0xF1 && lead <= 0xF3)
      length = 4;
    else
      return false;
    if (i + length > text.size() || at(i + 1) < low || at(i + 1) > high) return false;
    for (size_t k = 2; k < length; ++k)
      if ((at(i + k) & 0xC0) != 0x80) return false;
    i += length;
  }
  return true;
}

// The cleaning rules of text_clean.h applied one character at a time, the plain way: what the
// cleaner's fast paths (runs of text, phrases with single spaces) must agree with.
std::string ReferenceClean(const std::string& text) {
  const auto lower_at = [&](size_t i) { return static_cast<char>(std::tolower(static_cast<unsigned char>(text[i]))); };
  const auto starts = [&](size_t i, std::string_view prefix) {
    if (text.size() - i < prefix.size()) return false;
    for (size_t k = 0; k < prefix.size(); ++k)
      if (lower_at(i + k) != prefix[k]) return false;
    return true;
  };
  // Length and whitespace-ness of the character at i; length 0 for a byte that is not UTF-8.
  const auto character = [&](size_t i) -> std::pair<size_t, bool> {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x80) return {1, byte <= 0x20 || byte == 0x7f};
    size_t length = 0;
    while (length < 4 && i + length < text.size()) {
      ++length;
      if (IndependentlyValidUtf8(text.substr(i, length))) {
        const std::string c = text.substr(i, length);
        for (const char* space :
             {"\u0085", "\u00A0", "\u1680", "\u2000", "\u2001", "\u2002", "\u2003", "\u2004", "\u2005", "\u2006",
              "\u2007", "\u2008", "\u2009", "\u200A", "\u2028", "\u2029", "\u202F", "\u205F", "\u3000"})
          if (c == space) return {length, true};
        return {length, false};
      }
    }
    return {0, false};
  };
  std::string out;
  bool gap = false;
  const auto emit = [&](std::string_view piece) {
    if (gap && !out.empty()) out += ' ';
    gap = false;
    out += piece;
  };
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '<' && i + 1 < text.size() &&
        (std::isalpha(static_cast<unsigned char>(text[i + 1])) ||
         std::string_view("/!?").find(text[i + 1]) != std::string_view::npos)) {
      size_t end = i + 2;
      while (end < text.size() && text[end] != '>' && text[end] != '<' && text[end] != '\n') ++end;
      if (end < text.size() && text[end] == '>') {
        gap = true;
        i = end + 1;
        continue;
      }
    }
    if (starts(i, "http://") || starts(i, "https://") || starts(i, "www.")) {
      while (i < text.size() && text[i] != '<' && !(character(i).first > 0 && character(i).second)) ++i;
      gap = true;
      continue;
    }
    const auto [length, space] = character(i);
    if (length == 0) {
      emit("\uFFFD");
      ++i;
    } else if (space) {
      gap = true;
      i += length;
    } else {
      emit(std::string_view(text).substr(i, length));
      i += length;
    }
  }
  return out;
}

TEST(TextClean, KeepsPlainTextAsItIs) {
  EXPECT_EQ(CleanText("The street light near ward 5 is broken."), "The street light near ward 5 is broken.");
  EXPECT_EQ(CleanText("which where who How"), "which where who How");
  EXPECT_EQ(CleanText("a < b and c > d"), "a < b and c > d");
  EXPECT_EQ(CleanText("<3 and 1<2"), "<3 and 1<2");
}

TEST(TextClean, RemovesUrlsOfEveryForm) {
  EXPECT_EQ(CleanText("see http://example.com/a?b=1 now"), "see now");
  EXPECT_EQ(CleanText("see https://x.org/path#frag"), "see");
  EXPECT_EQ(CleanText("www.ward5.gov.np is down"), "is down");
  EXPECT_EQ(CleanText("HTTPS://EXAMPLE.COM and WWW.Example.com"), "and");
  EXPECT_EQ(CleanText("photo:https://x.y/z.jpg"), "photo:");
  EXPECT_EQ(CleanText("http://a.b<br>next"), "next");
  // Not URLs: the scheme or the dot is missing.
  EXPECT_EQ(CleanText("http is a protocol, www is the web"), "http is a protocol, www is the web");
  EXPECT_EQ(CleanText("http:/broken"), "http:/broken");
}

TEST(TextClean, RemovesHtmlTagsAsGaps) {
  EXPECT_EQ(CleanText("<p>Water</p><p>supply</p>"), "Water supply");
  EXPECT_EQ(CleanText("<a href=\"http://x\">link</a> text"), "link text");
  EXPECT_EQ(CleanText("x <!-- note --> y <?xml?> z"), "x y z");
  EXPECT_EQ(CleanText("<br/>"), "");
  // A '<' whose '>' is on another line, or after another '<', does not open a tag.
  EXPECT_EQ(CleanText("<b\n>bold"), "<b >bold");
  EXPECT_EQ(CleanText("<b <i>x"), "<b x");
  EXPECT_EQ(CleanText("<unclosed"), "<unclosed");
}

TEST(TextClean, TurnsLineBreaksAndWhitespaceRunsIntoOneSpaceAndTrims) {
  EXPECT_EQ(CleanText("  line one\r\nline two\n\n\tline three  "), "line one line two line three");
  EXPECT_EQ(CleanText("a\x01\x1f\x7f"
                      "b"),
            "a b");
  EXPECT_EQ(CleanText(std::string("a\0b", 3)), "a b");
  EXPECT_EQ(CleanText(" \n\t "), "");
  EXPECT_EQ(CleanText(""), "");
}

TEST(TextClean, KeepsDevanagariWithItsJoinersIntact) {
  // क्‍ष: KA, VIRAMA, ZERO WIDTH JOINER, SSA. The joiner is not whitespace and must survive.
  const std::string nepali = "सडकमा ठूलो खाल्डो छ। क्\u200Dष \u200Cक";
  EXPECT_EQ(CleanText(nepali), nepali);
  EXPECT_EQ(CleanText("<p>पानी  आएन</p>\nकृपया https://ward.gov.np/x हेर्नुहोस्"), "पानी आएन कृपया हेर्नुहोस्");
}

TEST(TextClean, TreatsUnicodeWhitespaceAsWhitespace) {
  EXPECT_EQ(CleanText("a\u00A0\u00A0b\u3000c\u2003d\u2028e\u0085f\u202Fg\u205Fh\u1680i"), "a b c d e f g h i");
  EXPECT_EQ(CleanText("\u00A0पानी\u3000"), "पानी");
  // A URL ends at Unicode whitespace too.
  EXPECT_EQ(CleanText("x www.a.np\u00A0पानी"), "x पानी");
  // Zero-width space and the byte-order mark are not whitespace for Python either.
  EXPECT_EQ(CleanText("a\u200Bb\uFEFFc"), "a\u200Bb\uFEFFc");
}

TEST(TextClean, ReplacesInvalidUtf8ByteByByte) {
  EXPECT_EQ(CleanText("ok\xFFok"), "ok\uFFFDok");
  EXPECT_EQ(CleanText("\xC0\xAF"), "\uFFFD\uFFFD");                      // overlong '/'
  EXPECT_EQ(CleanText("\xED\xA0\x80"), "\uFFFD\uFFFD\uFFFD");            // a surrogate
  EXPECT_EQ(CleanText("\xF4\x90\x80\x80"), "\uFFFD\uFFFD\uFFFD\uFFFD");  // above U+10FFFF
  EXPECT_EQ(CleanText("end\xE0\xA4"), "end\uFFFD\uFFFD");                // truncated at the end
  EXPECT_EQ(CleanText("\xF0\x9F\x98\x80"), "\U0001F600");                // a valid 4-byte sequence stays
}

TEST(TextClean, AgreesWithTheRulesAppliedOneCharacterAtATime) {
  std::mt19937_64 random(7);
  const std::string pieces[] = {"a",
                                "b ",
                                " ",
                                "  ",
                                "\n",
                                "\t",
                                "<p>",
                                "</p>",
                                "<",
                                ">",
                                "<x\n>",
                                "http://u.v/w",
                                "HTTPS://A",
                                "www.",
                                "ww",
                                "h",
                                "w",
                                "पानी",
                                "\u0915\u094D\u200D",
                                "\u00A0",
                                "\u3000",
                                "\u2028",
                                "\xE0\xA4",
                                "\xFF",
                                "\xC2",
                                "\u0085",
                                "\U0001F600",
                                "x y",
                                " z "};
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    const int count = static_cast<int>(random() % 10);
    for (int k = 0; k < count; ++k) text += pieces[random() % std::size(pieces)];
    ASSERT_EQ(CleanText(text), ReferenceClean(text)) << ::testing::PrintToString(text);
  }
}

TEST(TextClean, IsValidUtf8FollowsTheUnicodeRules) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("सुरक्षा \U0001F600"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));
  EXPECT_FALSE(IsValidUtf8("abc\xE0\xA4"));
  EXPECT_FALSE(IsValidUtf8("\x80"));
}

TEST(TextClean, IntoReusesTheBufferAndReplacesItsContent) {
  std::string buffer = "old content that is long";
  CleanTextInto(" new\n", buffer);
  EXPECT_EQ(buffer, "new");
  CleanTextInto("", buffer);
  EXPECT_EQ(buffer, "");
}

// Whatever the input, the output is valid UTF-8 without a space at either end, without two spaces
// in a row, without a control character and without a URL. (Cleaning twice may remove more: "<b\n>"
// becomes "<b >", a tag, as with the original worker's regular expressions.)
TEST(TextClean, AnyBytesGiveValidUtf8WithSingleInnerSpaces) {
  std::mt19937_64 random(20261126);
  const std::string pieces[] = {"<p>", "</b>", "http://x.y", "www.", "\n",       " ",    "\u00A0", "पानी", "\u200D",
                                "<",   ">",    "h",          "w",    "\xE0\xA4", "\xFF", "ab",     "\t\t", "\u3000"};
  for (int round = 0; round < 5000; ++round) {
    std::string text;
    const int count = static_cast<int>(random() % 12);
    for (int k = 0; k < count; ++k) {
      if (random() % 4 == 0) {
        text += static_cast<char>(random() % 256);
      } else {
        text += pieces[random() % std::size(pieces)];
      }
    }
    const std::string clean = CleanText(text);
    ASSERT_TRUE(IndependentlyValidUtf8(clean)) << "input: " << ::testing::PrintToString(text);
    ASSERT_EQ(IsValidUtf8(clean), true);
    ASSERT_EQ(IsValidUtf8(text), IndependentlyValidUtf8(text)) << ::testing::PrintToString(text);
    ASSERT_EQ(clean.find("  "), std::string::npos) << ::testing::PrintToString(text);
    if (!clean.empty()) {
      ASSERT_NE(clean.front(), ' ') << ::testing::PrintToString(text);
      ASSERT_NE(clean.back(), ' ') << ::testing::PrintToString(text);
    }
    for (char c : clean) ASSERT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f);
    ASSERT_EQ(clean.find("http://"), std::string::npos) << ::testing::PrintToString(text);
    ASSERT_EQ(clean.find("www."), std::string::npos) << ::testing::PrintToString(text);
  }
}

}  // namespace
}  // namespace orch
