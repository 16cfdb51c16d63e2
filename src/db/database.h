// The application's database, as the engine needs it: a few counts.
//
// The orchestrator only reads the application's tables (`complaints`, `misclassified_complaints`);
// PostgreSQL and SQLite adapters implement this interface, and the engine never sees libpq or
// sqlite3. Every column name that reaches SQL is a validated identifier (see IsValidIdentifier).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "config/label_columns.h"

namespace orch {

class Database {
 public:
  virtual ~Database() = default;

  // For each label, the rows of misclassified_complaints that are reviewed, have a correction,
  // and whose prediction differs from it (NULL-safe). One scan of the table for all labels.
  // Result i belongs to labels[i].
  virtual std::vector<int64_t> CountMisclassified(std::span<const LabelColumns> labels) = 0;

  // For each label, the complaints with that label set and no row in misclassified_complaints:
  // the pool the prepare worker samples its correct rows from. One anti-join for all labels.
  virtual std::vector<int64_t> CountCorrectPool(std::span<const LabelColumns> labels) = 0;

  // Runs a query from the configuration that must return exactly one row with one integer.
  virtual int64_t CountWithQuery(const std::string& sql) = 0;

  // Whether some index on misclassified_complaints starts with complaint_id (the anti-join needs it).
  virtual bool HasComplaintIdIndex() = 0;

  // "PostgreSQL 15.18" / "SQLite 3.40.1": for logs and `check`.
  virtual std::string ServerVersion() = 0;
};

}  // namespace orch
