// Logs written to a stream (stderr): plain text, JSON lines, or GitHub Actions.
//
// Every line passes through the redactor, so a secret that slipped into an error text from a
// library is still never printed. GitHub Actions mode groups each label's lines under
// ::group::, emitted when the label is done (labels are polled concurrently, so their events
// interleave), and raises ::warning:: / ::error:: annotations at once.
#pragma once

#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "util/clock.h"
#include "util/log.h"

namespace orch {

enum class LogFormat { kText, kJson, kGithub };

class StreamLog : public Log {
 public:
  StreamLog(std::ostream& out, LogFormat format, Clock& clock, std::vector<std::string> secrets);
  ~StreamLog() override;

  void Event(Level level, std::string_view label, std::string_view message, const Fields& fields) override;
  void LabelDone(std::string_view label) override;

 private:
  std::string TextLine(Level level, std::string_view label, std::string_view message, const Fields& fields);
  std::string JsonLine(Level level, std::string_view label, std::string_view message, const Fields& fields);
  void Write(const std::string& line);
  void FlushGroup(const std::string& label);

  std::ostream& out_;
  LogFormat format_;
  Clock& clock_;
  std::vector<std::string> secrets_;
  std::map<std::string, std::vector<std::string>> groups_;  // GitHub mode: lines waiting per label
};

// Renders a field value for a text line: strings as they are (quoted when they contain spaces).
std::string FieldText(const nlohmann::json& value);

// Escapes a message for a GitHub Actions workflow command (%, CR, LF).
std::string EscapeWorkflowData(std::string_view text);

}  // namespace orch
