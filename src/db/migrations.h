// The orchestrator's own schema, shared by the PostgreSQL and SQLite stores: the versioned
// migrations that create its tables. How their values are written and read back is state_codec.h.
//
// Every table is named orchestrator_*. Times are TIMESTAMPTZ on PostgreSQL and, on SQLite, TEXT in
// ISO 8601 UTC with milliseconds ('2026-11-26T07:31:02.123Z'), so people can read them in the
// sqlite3 shell.
#pragma once

#include <span>
#include <string_view>

#include "db/sql_dialect.h"

namespace orch {

inline constexpr std::string_view kMigrationsTable = "orchestrator_schema_migrations";
inline constexpr std::string_view kLabelStateTable = "orchestrator_label_state";
inline constexpr std::string_view kRunsTable = "orchestrator_runs";
inline constexpr std::string_view kLockTable = "orchestrator_lock";

// One step of the schema. Applied at most once per database, in its own transaction, and
// recorded in orchestrator_schema_migrations.
struct Migration {
  int version;
  std::string_view description;
  std::string_view postgres_sql;  // one or more statements, no parameters
  std::string_view sqlite_sql;

  std::string_view Sql(SqlDialect dialect) const {
    return dialect == SqlDialect::kPostgres ? postgres_sql : sqlite_sql;
  }
};

// Every migration, in the order they apply; versions are 1, 2, 3, … without gaps.
std::span<const Migration> Migrations();

// The version the last migration brings the schema to.
int LatestSchemaVersion();

// Throws DatabaseError, saying to run `orchestrator migrate`, when the tables exist at `version`
// but an older one than this program reads.
void RequireLatestSchema(int version);

// CREATE TABLE orchestrator_schema_migrations (version INTEGER PRIMARY KEY, applied_at …).
std::string_view MigrationsTableSql(SqlDialect dialect);

}  // namespace orch
