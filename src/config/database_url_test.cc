#include "config/database_url.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace orch {
namespace {

std::string ErrorOf(std::string_view url) {
  try {
    ParseDatabaseUrl(url);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "<no ConfigError>";
}

TEST(DatabaseUrlTest, SqlAlchemyDriverSuffixIsRewrittenForLibpq) {
  DatabaseUrl url = ParseDatabaseUrl("postgresql+psycopg2://demo_user:demo_pass@db.example.com:5432/project_db");
  EXPECT_EQ(url.kind, DatabaseUrl::Kind::kPostgres);
  EXPECT_EQ(url.target, "postgresql://demo_user:demo_pass@db.example.com:5432/project_db");
  EXPECT_EQ(url.redacted, "postgresql+psycopg2://demo_user:****@db.example.com:5432/project_db");
}

TEST(DatabaseUrlTest, AnyDriverAndBothSchemeSpellingsAreAccepted) {
  EXPECT_EQ(ParseDatabaseUrl("postgresql+asyncpg://u@h/db").target, "postgresql://u@h/db");
  EXPECT_EQ(ParseDatabaseUrl("postgres+pg8000://u@h/db").target, "postgresql://u@h/db");
  EXPECT_EQ(ParseDatabaseUrl("postgres://u:p@h/db").target, "postgresql://u:p@h/db");
  EXPECT_EQ(ParseDatabaseUrl("PostgreSQL://h/db").kind, DatabaseUrl::Kind::kPostgres);
}

TEST(DatabaseUrlTest, QueryParametersAreKept) {
  DatabaseUrl url = ParseDatabaseUrl("postgresql://u:s3cret@h:5433/db?sslmode=require&connect_timeout=5");
  EXPECT_EQ(url.target, "postgresql://u:s3cret@h:5433/db?sslmode=require&connect_timeout=5");
  EXPECT_EQ(url.redacted, "postgresql://u:****@h:5433/db?sslmode=require&connect_timeout=5");
}

TEST(DatabaseUrlTest, UrlsWithoutPasswordStayAsGiven) {
  for (std::string_view text : {"postgresql://h/db", "postgresql://user@h/db", "postgresql://", "postgres://h?x=a:b"})
    EXPECT_EQ(ParseDatabaseUrl(text).redacted, text);
}

TEST(DatabaseUrlTest, RedactionCoversEncodedAndEmptyPasswords) {
  EXPECT_EQ(ParseDatabaseUrl("postgresql://u:p%40ss@h/db").redacted, "postgresql://u:****@h/db");
  EXPECT_EQ(ParseDatabaseUrl("postgresql://u:@h/db").redacted, "postgresql://u:****@h/db");
  EXPECT_EQ(ParseDatabaseUrl("postgresql://u:a:b@h/db").redacted, "postgresql://u:****@h/db");
}

// libpq would take part of such a password for the host and quote it in its errors.
TEST(DatabaseUrlTest, AmbiguousUserInfoIsRefusedWithoutShowingIt) {
  for (std::string_view text : {"postgresql://u:pa/zq9@h/db", "postgresql://u:pa@zq9@h/db", "postgresql://u:p?zq9@h/db",
                                "postgres://u:p#zq9@h:5432/db?sslmode=require"}) {
    try {
      ParseDatabaseUrl(text);
      ADD_FAILURE() << text << " was accepted";
    } catch (const ConfigError& error) {
      const std::string message = error.what();
      EXPECT_NE(message.find("percent-encode them as %40, %2F, %3F and %23"), std::string::npos) << message;
      EXPECT_EQ(message.find("zq9"), std::string::npos) << message;
    }
  }
  EXPECT_EQ(ParseDatabaseUrl("postgresql://u:pa%40ss@h/db").redacted, "postgresql://u:****@h/db");
}

TEST(DatabaseUrlTest, SqlitePaths) {
  DatabaseUrl relative = ParseDatabaseUrl("sqlite:///relative/path.db");
  EXPECT_EQ(relative.kind, DatabaseUrl::Kind::kSqlite);
  EXPECT_EQ(relative.target, "relative/path.db");
  EXPECT_EQ(relative.redacted, "sqlite:///relative/path.db");
  DatabaseUrl absolute = ParseDatabaseUrl("sqlite:////abs/path.db");
  EXPECT_EQ(absolute.target, "/abs/path.db");
  EXPECT_EQ(ParseDatabaseUrl("SQLITE:///x.db").target, "x.db");
}

TEST(DatabaseUrlTest, RefusedFormsListTheAcceptedOnes) {
  const std::pair<std::string_view, std::string_view> refused[] = {
      {"sqlite:///:memory:", "in-memory"},
      {"sqlite://", "names no database file"},
      {"sqlite:///", "names no database file"},
      {"sqlite://host/x.db", "no host part"},
      {"sqlite:///x.db?mode=ro", "query parameters"},
      {"mysql://u@h/db", "\"mysql\" is not supported"},
      {"postgresql+://h/db", "\"postgresql+\" is not supported"},
      {"", "it is empty"},
      {"orchestrator.db", "does not start with scheme://"},
  };
  for (const auto& [url, why] : refused) {
    std::string message = ErrorOf(url);
    EXPECT_NE(message.find(why), std::string::npos) << url << " -> " << message;
    EXPECT_NE(message.find("accepted forms: postgresql://"), std::string::npos) << message;
    EXPECT_NE(message.find("sqlite:////absolute/path.db"), std::string::npos) << message;
  }
}

TEST(DatabaseUrlTest, ErrorsNeverShowThePassword) {
  for (std::string_view url : {"mysql://u:hunter2@h/db", "u:hunter2@h/x?a=b://c", "sqlite://u:hunter2@h/x"}) {
    std::string message = ErrorOf(url);
    EXPECT_NE(message, "<no ConfigError>") << url;
    EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace orch

namespace orch {
namespace {

TEST(DatabaseUrlTest, KeepsThePasswordApartForRedaction) {
  EXPECT_EQ(ParseDatabaseUrl("postgresql+psycopg2://demo_user:demo_pass@db.example.com:5432/project_db").password,
            "demo_pass");
  EXPECT_EQ(ParseDatabaseUrl("postgres://u:p%40ss@h/db").password, "p%40ss");
  EXPECT_EQ(ParseDatabaseUrl("postgresql://u@h/db").password, "");
  EXPECT_EQ(ParseDatabaseUrl("postgresql://h/db").password, "");
  EXPECT_EQ(ParseDatabaseUrl("sqlite:///x.db").password, "");
  EXPECT_EQ(ParseDatabaseUrl("postgresql://u:**pw@db.example.com/app").password, "**pw");
  EXPECT_EQ(ParseDatabaseUrl("postgresql://u:*****@h/db").password, "*****");
}

TEST(DatabaseUrlTest, APasswordInTheQueryStringIsASecretToo) {
  DatabaseUrl url =
      ParseDatabaseUrl("postgresql:///db?host=/var/run/postgresql&user=u&password=hunter2&sslmode=require");
  EXPECT_EQ(url.password, "hunter2");
  EXPECT_EQ(url.redacted, "postgresql:///db?host=/var/run/postgresql&user=u&password=****&sslmode=require");
  EXPECT_EQ(ParseDatabaseUrl("postgres://h/db?password=p&sslmode=require").redacted,
            "postgres://h/db?password=****&sslmode=require");
  EXPECT_EQ(ParseDatabaseUrl("postgres://h/db?a=#b&password=p").redacted, "postgres://h/db?a=#b&password=****")
      << "libpq knows no fragment";
}

}  // namespace
}  // namespace orch
