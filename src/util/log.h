// The event log: one line per thing that happened, on stderr.
//
// The engine reports events with structured fields; a Log decides how they look (plain text,
// one JSON object per line, or GitHub Actions groups and annotations) and removes secrets.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orch {

enum class Level { kInfo, kWarning, kError };

struct Field {
  std::string key;
  nlohmann::json value;
};
using Fields = std::vector<Field>;

class Log {
 public:
  virtual ~Log() = default;
  // `label` is "" for events of the whole pass.
  virtual void Event(Level level, std::string_view label, std::string_view message, const Fields& fields = {}) = 0;
  // The label has reached its outcome; no more events will name it.
  virtual void LabelDone(std::string_view label) { (void)label; }

  void Info(std::string_view label, std::string_view message, const Fields& fields = {}) {
    Event(Level::kInfo, label, message, fields);
  }
  void Warning(std::string_view label, std::string_view message, const Fields& fields = {}) {
    Event(Level::kWarning, label, message, fields);
  }
  void Error(std::string_view label, std::string_view message, const Fields& fields = {}) {
    Event(Level::kError, label, message, fields);
  }
};

}  // namespace orch
