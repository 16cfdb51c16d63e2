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

namespace orch {

// Where one label's values live in the application's tables.
struct LabelColumns {
  std::string label;      // the label's name, e.g. "department"
  std::string predicted;  // misclassified_complaints column the model predicted, e.g. model_predicted_department
  std::string correct;    // misclassified_complaints column the reviewer set, e.g. correct_department
  std::string pool;       // complaints column holding the label, e.g. department

  // The columns of the original schema for `label`.
  static LabelColumns Defaults(const std::string& label);
};

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

// True for names safe to splice into SQL as identifiers: [a-z_][a-z0-9_]{0,62}.
bool IsValidIdentifier(std::string_view name);

}  // namespace orch
