// The two SQL engines the orchestrator speaks, the small differences in how each is written to, and
// the row of text values both hand over.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace orch {

enum class SqlDialect { kPostgres, kSqlite };

// One row as both engines hand it over: every value as text, NULL as nothing.
using SqlRow = std::vector<std::optional<std::string>>;

// "$3" on PostgreSQL, "?3" on SQLite: the n-th (1-based) bound parameter.
std::string Placeholder(SqlDialect dialect, int n);

// true/false as each engine's BOOLEAN column takes it as text ("true"/"false", 1/0).
std::string BooleanText(bool value, SqlDialect dialect);

}  // namespace orch
