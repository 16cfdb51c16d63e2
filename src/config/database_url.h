// DATABASE_URL, in every form users of the original set it.
#pragma once

#include <string>
#include <string_view>

namespace orch {

struct DatabaseUrl {
  enum class Kind { kPostgres, kSqlite };
  Kind kind = Kind::kSqlite;
  // PostgreSQL: a URI libpq accepts (postgresql://…). SQLite: the database file's path.
  std::string target;
  // The URL as given with any password replaced by "****": safe for messages and logs.
  std::string redacted;
  // The password in the URL ("" when none): a secret, only for removing it from messages.
  std::string password;
};

// Accepts postgresql+<driver>://…, postgresql://…, postgres://…, sqlite:///relative/path.db and
// sqlite:////absolute/path.db. Throws ConfigError naming the accepted forms otherwise.
DatabaseUrl ParseDatabaseUrl(std::string_view url);

}  // namespace orch
