#include "config/database_url.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "config/label_name.h"
#include "util/error.h"
#include "util/strings.h"

namespace orch {
namespace {

constexpr std::string_view kSchemeSeparator = "://";
constexpr std::string_view kMask = "****";
constexpr std::string_view kAcceptedForms =
    "accepted forms: postgresql://user:password@host:5432/dbname (also postgres:// and "
    "postgresql+driver://, e.g. postgresql+psycopg2://), sqlite:///relative/path.db, "
    "sqlite:////absolute/path.db";

[[noreturn]] void Refuse(const std::string& why) {
  throw ConfigError("database URL: " + why + "; " + std::string(kAcceptedForms));
}

// RFC 3986 scheme characters; anything else means "://" was not the scheme separator, and the
// text before it must not be echoed (it may hold a password).
bool IsSchemeText(std::string_view scheme) {
  if (scheme.empty()) return false;
  for (char c : scheme) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && c != '+' && c != '-' && c != '.') return false;
  }
  return true;
}

// postgresql, postgres, and either with a SQLAlchemy "+driver" suffix.
bool IsPostgresScheme(std::string_view scheme) {
  std::string_view base = scheme.substr(0, scheme.find('+'));
  if (base != "postgresql" && base != "postgres") return false;
  return base.size() == scheme.size() || base.size() + 1 < scheme.size();
}

// Where a password sits in `url`: [begin, end) offsets, or nothing.
using Span = std::pair<size_t, size_t>;

// The user-info password: between the first ':' of the user info and its '@'. When the end of the
// user info is ambiguous (an unencoded '/', '?' or '#' before an '@'), everything up to the last
// '@' counts: masking too much beats showing a password.
std::optional<Span> UserInfoPassword(std::string_view url, size_t rest_start) {
  std::string_view rest = url.substr(rest_start);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    size_t colon = authority.substr(0, at).find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    return Span{rest_start + colon + 1, rest_start + at};
  }
  at = rest.rfind('@');
  if (at == std::string_view::npos) return std::nullopt;
  return Span{rest_start, rest_start + at};
}

// The `password=` parameters of the query string, which libpq reads as well (the last one
// wins; libpq knows no fragment: a '#' is part of the query to it).
std::vector<Span> QueryPasswords(std::string_view url, size_t rest_start) {
  std::vector<Span> found;
  size_t query = url.find('?', rest_start);
  if (query == std::string_view::npos) return found;
  for (size_t at = query + 1; at < url.size();) {
    size_t next = std::min(url.size(), url.find('&', at));
    if (url.substr(at, next - at).starts_with("password=")) found.push_back(Span{at + 9, next});
    at = next + 1;
  }
  return found;
}

// `url` with each span replaced by the mask (spans in order, not overlapping).
std::string Mask(std::string_view url, const std::vector<Span>& spans) {
  std::string masked;
  size_t copied = 0;
  for (const Span& span : spans) {
    masked += url.substr(copied, span.first - copied);
    masked += kMask;
    copied = span.second;
  }
  return masked + std::string(url.substr(copied));
}

// A user info whose end libpq would find elsewhere than at the password's last character (an
// unencoded '@', '/', '?' or '#' in the password) would hand part of the password to libpq as a
// host name, which its error messages then quote: such a URL is refused before libpq sees it.
void RefuseAmbiguousUserInfo(std::string_view url, size_t rest_start) {
  const std::string_view rest = url.substr(rest_start);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  const size_t ats_in_authority = std::count(authority.begin(), authority.end(), '@');
  const bool at_after_authority = rest.find('@', authority.size()) != std::string_view::npos;
  if (ats_in_authority > 1 || (ats_in_authority == 0 && at_after_authority))
    Refuse(
        "the user name or password holds an unencoded at sign, slash, question mark or number sign (the URL "
        "is not shown: it holds a password); percent-encode them as %40, %2F, %3F and %23");
}

DatabaseUrl ParsePostgres(std::string_view url, size_t rest_start) {
  RefuseAmbiguousUserInfo(url, rest_start);
  DatabaseUrl parsed;
  parsed.kind = DatabaseUrl::Kind::kPostgres;
  parsed.target = "postgresql://" + std::string(url.substr(rest_start));
  std::vector<Span> spans;
  if (std::optional<Span> user = UserInfoPassword(url, rest_start)) spans.push_back(*user);
  std::vector<Span> queries = QueryPasswords(url, rest_start);
  for (const Span& query : queries) {
    if (!spans.empty() && query.first <= spans.back().second) {
      spans.back().second = std::max(spans.back().second, query.second);  // overlapping: one mask
    } else {
      spans.push_back(query);
    }
  }
  parsed.redacted = Mask(url, spans);
  // Masking can move where libpq sees the query start (an ambiguous '@' swallowed a '?'); mask
  // whatever password parameters the redacted text still shows.
  for (int round = 0; round < 4; ++round) {
    std::vector<Span> left;
    for (const Span& query : QueryPasswords(parsed.redacted, rest_start))
      if (parsed.redacted.substr(query.first, query.second - query.first) != kMask) left.push_back(query);
    if (left.empty()) break;
    parsed.redacted = Mask(parsed.redacted, left);
  }
  // libpq takes the last query password over the user-info one: the secret to keep out of texts.
  Span secret = !queries.empty() ? queries.back() : spans.empty() ? Span{0, 0} : spans.front();
  parsed.password = std::string(url.substr(secret.first, secret.second - secret.first));
  return parsed;
}

DatabaseUrl ParseSqlite(std::string_view url, std::string_view rest) {
  if (rest.empty()) Refuse("sqlite:// names no database file");
  if (rest.front() != '/') Refuse("a sqlite URL has no host part (note the third '/')");
  std::string_view path = rest.substr(1);
  if (path.empty()) Refuse("sqlite:/// names no database file");
  if (path == ":memory:") Refuse("sqlite:///:memory: is an empty in-memory database, with nothing to count");
  if (path.find_first_of("?#") != std::string_view::npos) Refuse("query parameters are not supported for sqlite URLs");
  DatabaseUrl parsed;
  parsed.kind = DatabaseUrl::Kind::kSqlite;
  parsed.target = std::string(path);
  parsed.redacted = std::string(url);
  return parsed;
}

}  // namespace

DatabaseUrl ParseDatabaseUrl(std::string_view url) {
  if (url.empty()) Refuse("it is empty");
  size_t separator = url.find(kSchemeSeparator);
  std::string scheme = ToLower(url.substr(0, separator));
  if (separator == std::string_view::npos || !IsSchemeText(scheme)) Refuse("it does not start with scheme://");
  size_t rest_start = separator + kSchemeSeparator.size();
  if (IsPostgresScheme(scheme)) return ParsePostgres(url, rest_start);
  if (scheme == "sqlite") return ParseSqlite(url, url.substr(rest_start));
  Refuse("the scheme " + QuoteForMessage(scheme) + " is not supported");
}

}  // namespace orch
