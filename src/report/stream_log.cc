#include "report/stream_log.h"

#include "util/redact.h"
#include "util/time.h"

namespace orch {

std::string FieldText(const nlohmann::json& value) {
  constexpr auto kReplaceInvalidUtf8 = nlohmann::json::error_handler_t::replace;
  if (!value.is_string()) return value.dump(-1, ' ', false, kReplaceInvalidUtf8);
  const std::string& text = value.get_ref<const std::string&>();
  if (text.empty() || text.find_first_of(" \t\"=") != std::string::npos)
    return nlohmann::json(text).dump(-1, ' ', false, kReplaceInvalidUtf8);
  return text;
}

std::string EscapeWorkflowData(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '%')
      out += "%25";
    else if (c == '\r')
      out += "%0D";
    else if (c == '\n')
      out += "%0A";
    else
      out += c;
  }
  return out;
}

namespace {

const char* LevelName(Level level) {
  switch (level) {
    case Level::kInfo: return "info";
    case Level::kWarning: return "warning";
    case Level::kError: return "error";
  }
  return "info";
}

}  // namespace

StreamLog::StreamLog(std::ostream& out, LogFormat format, Clock& clock, std::vector<std::string> secrets)
    : out_(out), format_(format), clock_(clock), secrets_(std::move(secrets)) {}

StreamLog::~StreamLog() {
  // Labels that never reached an outcome (an interrupted pass) still show their lines.
  while (!groups_.empty()) FlushGroup(groups_.begin()->first);
}

std::string StreamLog::TextLine(Level level, std::string_view label, std::string_view message, const Fields& fields) {
  std::string line = FormatTimestamp(clock_.WallNow()) + " " + LevelName(level);
  if (!label.empty()) line += " [" + std::string(label) + "]";
  line += " " + std::string(message);
  for (const Field& field : fields) line += " " + field.key + "=" + FieldText(field.value);
  return Printable(line);
}

std::string StreamLog::JsonLine(Level level, std::string_view label, std::string_view message, const Fields& fields) {
  nlohmann::json line = {{"time", FormatTimestamp(clock_.WallNow())}, {"level", LevelName(level)}};
  if (!label.empty()) line["label"] = label;
  line["event"] = message;
  for (const Field& field : fields) line[field.key] = field.value;
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void StreamLog::Event(Level level, std::string_view label, std::string_view message, const Fields& fields) {
  if (format_ == LogFormat::kJson) {
    Write(JsonLine(level, label, message, fields));
    return;
  }
  std::string line = TextLine(level, label, message, fields);
  if (format_ != LogFormat::kGithub) {
    Write(line);
    return;
  }
  if (level != Level::kInfo) {
    std::string title = label.empty() ? "orchestrator" : "orchestrator: " + std::string(label);
    Write(std::string(level == Level::kError ? "::error" : "::warning") + " title=" + EscapeWorkflowData(title) +
          "::" + EscapeWorkflowData(line));
  }
  if (label.empty()) {
    Write(line);
  } else {
    groups_[std::string(label)].push_back(line);
  }
}

void StreamLog::LabelDone(std::string_view label) {
  if (format_ == LogFormat::kGithub) FlushGroup(std::string(label));
}

void StreamLog::FlushGroup(const std::string& label) {
  auto group = groups_.find(label);
  if (group == groups_.end()) return;
  Write("::group::" + EscapeWorkflowData(label));
  for (const std::string& line : group->second) Write(line);
  Write("::endgroup::");
  groups_.erase(group);
}

void StreamLog::Write(const std::string& line) { out_ << Redact(line, secrets_) << '\n' << std::flush; }

}  // namespace orch
