#include "db/open_database.h"

#include "db/postgres_database.h"
#include "db/sqlite_database.h"

namespace orch {

std::unique_ptr<Database> OpenDatabase(const DatabaseUrl& url) {
  if (url.kind == DatabaseUrl::Kind::kPostgres) return std::make_unique<PostgresDatabase>(url);
  return std::make_unique<SqliteDatabase>(url.target);
}

}  // namespace orch
