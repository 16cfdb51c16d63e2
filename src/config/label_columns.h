// Where one label's values live in the application's tables, and the rule every column name that
// reaches SQL obeys.
#pragma once

#include <string>
#include <string_view>

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

// True for names safe to splice into SQL as identifiers: [a-z_][a-z0-9_]{0,62}.
bool IsValidIdentifier(std::string_view name);

}  // namespace orch
