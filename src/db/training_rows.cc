#include "db/training_rows.h"

#include <stdexcept>

namespace orch {
namespace {

// The predicates of MisclassifiedCountSql (count_sql.cc), on the aliased table: SQLAlchemy stores
// booleans as 0/1 on SQLite and hand-made rows may hold 't' or 'true'; NULL is not reviewed.
std::string_view Reviewed(SqlDialect dialect) {
  return dialect == SqlDialect::kPostgres ? "m.reviewed" : "lower(m.reviewed) IN ('1', 't', 'true')";
}

std::string_view Distinct(SqlDialect dialect) {
  return dialect == SqlDialect::kPostgres ? " IS DISTINCT FROM " : " IS NOT ";
}

}  // namespace

void RequireAscendingIds(std::span<const int64_t> ids) {
  for (size_t i = 1; i < ids.size(); ++i)
    if (ids[i - 1] >= ids[i])
      throw std::invalid_argument("complaint ids to read messages of must be strictly ascending; id " +
                                  std::to_string(ids[i]) + " follows " + std::to_string(ids[i - 1]));
}

bool DenseIds(std::span<const int64_t> ids) {
  if (ids.empty()) return false;
  // In unsigned arithmetic the difference is exact for any two ascending int64 values.
  const uint64_t span = static_cast<uint64_t>(ids.back()) - static_cast<uint64_t>(ids.front());
  return span / 4 < ids.size();
}

uint32_t ClassNames::IndexOf(std::string_view name) {
  if (last_ < names_.size() && names_[last_] == name) return last_;
  auto found = index_.find(name);
  if (found == index_.end()) {
    const auto index = static_cast<uint32_t>(names_.size());
    names_.emplace_back(name);
    found = index_.emplace(std::string(name), index).first;
  }
  last_ = found->second;
  return last_;
}

std::string MisclassifiedRowsSql(SqlDialect dialect, const LabelColumns& columns) {
  const std::string correct = "m." + QuoteIdentifier(columns.correct);
  const std::string predicted = "m." + QuoteIdentifier(columns.predicted);
  return "SELECT m.id, " + correct +
         ", c.message FROM misclassified_complaints m"
         " LEFT JOIN complaints c ON c.id = m.complaint_id WHERE " +
         std::string(Reviewed(dialect)) + " AND " + correct + " IS NOT NULL AND " + predicted +
         std::string(Distinct(dialect)) + correct;
}

std::string CorrectPoolRowsSql(const LabelColumns& columns) {
  const std::string pool = "c." + QuoteIdentifier(columns.pool);
  return "SELECT c.id, " + pool + " FROM complaints c WHERE " + pool +
         " IS NOT NULL AND NOT EXISTS (SELECT 1 FROM misclassified_complaints m WHERE m.complaint_id = c.id)";
}

}  // namespace orch
