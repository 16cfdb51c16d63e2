#include "config/label_columns.h"

namespace orch {

LabelColumns LabelColumns::Defaults(const std::string& label) {
  return {label, "model_predicted_" + label, "correct_" + label, label};
}

bool IsValidIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!lower(name[0]) && name[0] != '_') return false;
  for (char c : name)
    if (!lower(c) && !digit(c) && c != '_') return false;
  return true;
}

}  // namespace orch
