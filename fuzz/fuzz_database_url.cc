// Fuzz target for ParseDatabaseUrl: DATABASE_URL in any form must parse into a consistent result or
// be refused with a ConfigError that does not echo the URL's user info; a password must never
// survive redaction.
#include <libpq-fe.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "config/database_url.h"
#include "fuzz_check.h"
#include "util/error.h"

namespace orch::fuzz {
namespace {

constexpr std::string_view kSeparator = "://";
constexpr std::string_view kMask = "****";
constexpr std::string_view kMessagePrefix = "database URL: ";
constexpr std::string_view kAcceptedFormsMarker = "; accepted forms: ";

std::string ToLower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return lower;
}

size_t CountOccurrences(std::string_view text, std::string_view part) {
  size_t count = 0;
  for (size_t at = text.find(part); at != std::string_view::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

struct ConninfoDeleter {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};

// The password libpq itself reads from a postgresql:// URI: an independent opinion on where the
// secret is. nullopt when libpq refuses the URI or it names no password.
std::optional<std::string> LibpqPassword(const std::string& uri) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, ConninfoDeleter> options(PQconninfoParse(uri.c_str(), &error));
  if (error != nullptr) PQfreemem(error);
  if (!options) return std::nullopt;
  for (const PQconninfoOption* option = options.get(); option->keyword != nullptr; ++option)
    if (std::string_view(option->keyword) == "password" && option->val != nullptr && option->val[0] != '\0')
      return std::string(option->val);
  return std::nullopt;
}

// redacted = P + "****" + S where url = P + password + S, for some split of the URL.
bool IsUrlWithPasswordMasked(std::string_view url, std::string_view redacted, std::string_view password) {
  if (redacted.size() + password.size() != url.size() + kMask.size()) return false;
  for (size_t at = url.find(password); at != std::string_view::npos; at = url.find(password, at + 1)) {
    if (redacted.substr(0, at) == url.substr(0, at) && redacted.substr(at, kMask.size()) == kMask &&
        redacted.substr(at + kMask.size()) == url.substr(at + password.size()))
      return true;
  }
  return false;
}

void CheckRedaction(std::string_view url, const DatabaseUrl& parsed) {
  if (parsed.redacted == url) {
    Check(parsed.password.find_first_not_of('*') == std::string::npos,
          "a password was found but the URL was left unredacted");
    return;
  }
  // The password replaced by ****, alone or together with a query `password=` value.
  bool exact = IsUrlWithPasswordMasked(url, parsed.redacted, parsed.password);
  Check(exact || parsed.redacted.find("****") != std::string::npos, "redacted differs but masks nothing");
  // "user:@host" (an empty password, masked all the same), or a password of mask characters.
  if (parsed.password.find_first_not_of('*') == std::string::npos) return;
  bool once = url.find(parsed.password) == url.rfind(parsed.password);
  // Every occurrence of the password left in the redacted URL must overlap a mask (a password of
  // '=' and '*' can be spelled by the masks themselves).
  const std::string& redacted = parsed.redacted;
  for (size_t at = redacted.find(parsed.password); once && at != std::string::npos;
       at = redacted.find(parsed.password, at + 1)) {
    bool overlaps_mask = false;
    for (size_t mask = redacted.find(kMask); mask != std::string::npos && !overlaps_mask;
         mask = redacted.find(kMask, mask + 1))
      overlaps_mask = mask < at + parsed.password.size() && at < mask + kMask.size();
    Check(overlaps_mask, "the password is still in the redacted URL");
  }
  // Where the password's text occurs only once in the URL (and holds no '*' the mask could supply),
  // finding it in the redacted URL means it leaked.
  if (!parsed.password.empty() && parsed.password.find('*') == std::string::npos &&
      CountOccurrences(url, parsed.password) == 1)
    Check(parsed.redacted.find(parsed.password) == std::string::npos, "redacted contains the password");
}

void CheckPostgres(std::string_view url, const DatabaseUrl& parsed, size_t rest_start) {
  std::string scheme = ToLower(url.substr(0, rest_start - kSeparator.size()));
  Check(scheme.starts_with("postgres"), "kPostgres from a scheme that is not postgres*");
  Check(parsed.target == "postgresql://" + std::string(url.substr(rest_start)),
        "a PostgreSQL target is postgresql:// followed by the URL's rest, unchanged");
  // libpq reads C strings; a URL from the environment or a file never holds a NUL byte anyway.
  if (url.find('\0') != std::string_view::npos) return;
  std::optional<std::string> secret = LibpqPassword(parsed.target);
  // A password spelled "****" is indistinguishable from its mask; nothing to find there.
  if (!secret || *secret == kMask) return;
  Check(parsed.redacted != url, "libpq finds a password the redaction missed");
  std::optional<std::string> left = LibpqPassword("postgresql://" + parsed.redacted.substr(rest_start));
  Check(!left || *left == kMask, "libpq still finds a password in the redacted URL");
}

void CheckSqlite(std::string_view url, const DatabaseUrl& parsed, size_t rest_start) {
  Check(ToLower(url.substr(0, rest_start)) == "sqlite://", "kSqlite from a scheme that is not sqlite");
  Check(!parsed.target.empty(), "a SQLite target names a file");
  Check(url.substr(rest_start) == "/" + parsed.target, "a SQLite target is the URL's path after the third '/'");
  Check(parsed.target.find_first_of("?#") == std::string::npos, "a SQLite target holds no query or fragment");
  Check(parsed.password.empty() && parsed.redacted == url, "a SQLite URL has nothing to redact");
}

// A refusal may name the scheme, but never repeats what follows it: that may hold a password.
void CheckRefusal(const ConfigError& error) {
  std::string_view message = error.what();
  size_t forms = message.find(kAcceptedFormsMarker);
  Check(message.starts_with(kMessagePrefix) && forms != std::string_view::npos,
        "a refusal says what was wrong and lists the accepted forms");
  std::string_view reason = message.substr(kMessagePrefix.size(), forms - kMessagePrefix.size());
  // The fixed list of accepted forms holds an example user:password@host, so only the reason is
  // searched: it is built from fixed text and the scheme, and '@' there would be user info.
  Check(reason.find('@') == std::string_view::npos, "a refusal's reason repeats user info");
}

}  // namespace
}  // namespace orch::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace orch;
  std::string_view url(reinterpret_cast<const char*>(data), size);
  DatabaseUrl parsed;
  try {
    parsed = ParseDatabaseUrl(url);
  } catch (const ConfigError& error) {
    fuzz::CheckRefusal(error);
    return 0;
  }
  size_t separator = url.find("://");
  fuzz::Check(separator != std::string_view::npos, "an accepted URL has a scheme://");
  size_t rest_start = separator + 3;
  fuzz::CheckRedaction(url, parsed);
  if (parsed.kind == DatabaseUrl::Kind::kPostgres)
    fuzz::CheckPostgres(url, parsed, rest_start);
  else
    fuzz::CheckSqlite(url, parsed, rest_start);
  return 0;
}
