#include "db/sql_dialect.h"

namespace orch {

std::string Placeholder(SqlDialect dialect, int n) {
  return (dialect == SqlDialect::kPostgres ? "$" : "?") + std::to_string(n);
}

std::string BooleanText(bool value, SqlDialect dialect) {
  if (dialect == SqlDialect::kPostgres) return value ? "true" : "false";
  return value ? "1" : "0";
}

}  // namespace orch
