#include "db/count_sql.h"

#include <cctype>
#include <charconv>

#include "util/error.h"

namespace orch {
namespace {

// SQLAlchemy stores booleans as 0/1 on SQLite; hand-made rows may hold 'true' or 't' (any case).
// lower() turns the integer 1 into '1', so one comparison covers all of them. Anything else,
// NULL included, is not reviewed.
constexpr std::string_view kSqliteReviewed = "lower(reviewed) IN ('1', 't', 'true')";

std::string_view ReviewedPredicate(SqlDialect dialect) {
  return dialect == SqlDialect::kPostgres ? "reviewed" : kSqliteReviewed;
}

// NULL-safe "differs": a NULL prediction with a set correction is a misclassification.
std::string_view DistinctOperator(SqlDialect dialect) {
  return dialect == SqlDialect::kPostgres ? " IS DISTINCT FROM " : " IS NOT ";
}

void RequireLabels(std::span<const LabelColumns> labels) {
  if (labels.empty()) throw DatabaseError("a count was asked for no label");
}

std::string MisclassifiedColumn(SqlDialect dialect, const LabelColumns& label) {
  const std::string correct = QuoteIdentifier(label.correct);
  return "count(*) FILTER (WHERE " + correct + " IS NOT NULL AND " + QuoteIdentifier(label.predicted) +
         std::string(DistinctOperator(dialect)) + correct + ")";
}

std::string PoolColumn(const LabelColumns& label) {
  return "count(*) FILTER (WHERE c." + QuoteIdentifier(label.pool) + " IS NOT NULL)";
}

}  // namespace

std::string QuoteIdentifier(std::string_view name) {
  if (!IsValidIdentifier(name))
    throw DatabaseError("column name \"" + std::string(name) + "\" is not a valid identifier ([a-z_][a-z0-9_]*)");
  return "\"" + std::string(name) + "\"";
}

std::string MisclassifiedCountSql(SqlDialect dialect, std::span<const LabelColumns> labels) {
  RequireLabels(labels);
  std::string sql = "SELECT ";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) sql += ", ";
    sql += MisclassifiedColumn(dialect, labels[i]);
  }
  sql += " FROM misclassified_complaints WHERE ";
  sql += ReviewedPredicate(dialect);
  return sql;
}

std::string CorrectPoolCountSql(std::span<const LabelColumns> labels) {
  RequireLabels(labels);
  std::string sql = "SELECT ";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) sql += ", ";
    sql += PoolColumn(labels[i]);
  }
  sql +=
      " FROM complaints c WHERE NOT EXISTS "
      "(SELECT 1 FROM misclassified_complaints m WHERE m.complaint_id = c.id)";
  return sql;
}

std::string QuoteQuery(std::string_view sql) {
  constexpr size_t kLongest = 120;
  std::string quoted;
  for (char c : sql) {
    const bool space = std::isspace(static_cast<unsigned char>(c)) != 0;
    if (space && (quoted.empty() || quoted.back() == ' ')) continue;
    quoted += space ? ' ' : c;
  }
  while (!quoted.empty() && quoted.back() == ' ') quoted.pop_back();
  if (quoted.size() > kLongest) quoted = quoted.substr(0, kLongest) + "...";
  return "\"" + quoted + "\"";
}

int64_t ParseCount(std::string_view text, std::string_view what) {
  int64_t value = 0;
  const char* end = text.data() + text.size();
  const bool whole = !text.empty() && [&] {
    auto [stop, error] = std::from_chars(text.data(), end, value);
    return error == std::errc() && stop == end;
  }();
  if (!whole)
    throw DatabaseError(std::string(what) + " returned \"" + std::string(text) + "\", which is not an integer");
  if (value < 0)
    throw DatabaseError(std::string(what) + " returned " + std::string(text) + "; a count cannot be negative");
  return value;
}

}  // namespace orch
