// Fuzz target for LoadConfig: environment variables, command-line settings and a TOML file together
// must give either a valid Config or a ConfigError.
//
// Input layout: lines KEY=VALUE (environment; a line +KEY=VALUE is a command-line setting) up to a
// line "---"; everything after that line is the TOML file. Without a "---" line there is no file.
// LoadConfig reads files only, so the TOML text goes to a file in a private directory made once.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <string_view>
#include <system_error>

#include "config/config.h"
#include "config/label_name.h"
#include "config/url_policy.h"
#include "db/database.h"
#include "fuzz_check.h"
#include "util/error.h"

namespace orch::fuzz {
namespace {

constexpr std::string_view kFileMarker = "---";
constexpr double kMaxSeconds = 365.0 * 24 * 3600;

// A private directory holding the TOML file and an empty .env file (so ./.env of wherever the
// fuzzer runs is never read); removed when the process ends.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "orch-fuzz-config.XXXXXX").string();
    Check(mkdtemp(pattern.data()) != nullptr, "a scratch directory can be created");
    path_ = pattern;
    std::ofstream(EnvFile()).flush();
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  std::string ConfigFile() const { return (path_ / "config.toml").string(); }
  std::string EnvFile() const { return (path_ / "empty.env").string(); }

 private:
  std::filesystem::path path_;
};

const ScratchDir& Scratch() {
  static const ScratchDir scratch;
  return scratch;
}

// The environment cannot hold NUL bytes, and a name never holds '='; such lines are skipped.
void AddVariable(std::string_view line, ConfigSources& sources) {
  bool command_line = line.starts_with('+');
  if (command_line) line.remove_prefix(1);
  size_t equals = line.find('=');
  if (equals == std::string_view::npos || equals == 0 || line.find('\0') != std::string_view::npos) return;
  auto& target = command_line ? sources.command_line : sources.environment;
  target[std::string(line.substr(0, equals))] = std::string(line.substr(equals + 1));
}

ConfigSources SourcesFrom(std::string_view input) {
  ConfigSources sources;
  sources.env_file = Scratch().EnvFile();
  while (!input.empty()) {
    size_t end = input.find('\n');
    std::string_view line = input.substr(0, end);
    input = end == std::string_view::npos ? std::string_view() : input.substr(end + 1);
    if (line == kFileMarker) {
      std::ofstream(Scratch().ConfigFile(), std::ios::binary | std::ios::trunc)
          .write(input.data(), static_cast<std::streamsize>(input.size()));
      sources.config_file = Scratch().ConfigFile();
      break;
    }
    AddVariable(line, sources);
  }
  return sources;
}

void CheckLabels(const Config& config) {
  Check(!config.labels.empty(), "at least one label");
  std::set<std::string> names;
  for (const LabelConfig& label : config.labels) {
    Check(IsValidLabelName(label.name), "label names are valid");
    Check(names.insert(label.name).second, "label names are unique");
    Check(label.threshold > 0, "thresholds are positive");
    Check(IsValidIdentifier(label.columns.predicted) && IsValidIdentifier(label.columns.correct) &&
              IsValidIdentifier(label.columns.pool),
          "column names are valid identifiers");
    Check(label.metadata_url.empty() || UrlPolicyProblem(label.metadata_url, true).empty(),
          "metadata URLs follow the URL policy");
  }
}

void CheckNumbers(const Config& config) {
  Check(config.correct_ratio >= 0 && config.correct_ratio <= 100, "correct_ratio is within [0, 100]");
  for (double seconds : {config.poll_interval, config.poll_timeout, config.http.connect_timeout,
                         config.http.request_timeout, config.http.retry_base, config.http.retry_max})
    Check(seconds > 0 && seconds <= kMaxSeconds, "durations are within (0, one year]");
  Check(config.http.max_retries >= 0, "retries are not negative");
  Check(config.http.max_connections >= 1 && config.http.max_connections <= 256, "connections within [1, 256]");
}

void CheckSecrets(const Config& config) {
  for (const ConfigValue& value : config.values) {
    if (value.key == "hf_token") Check(value.value.empty() || value.value == "********", "the token is masked");
    if (value.key == "database_url") {
      Check(value.value == config.database.redacted, "the database URL is shown redacted");
      if (value.origin == Origin::kFile) Check(config.database.password.empty(), "no password from the file");
    }
  }
}

// `orchestrator config` output: one line per value, no stray control characters.
void CheckDisplay(const Config& config) {
  std::string text = FormatConfig(config);
  size_t lines = 0;
  for (char c : text) lines += c == '\n';
  Check(lines == config.values.size(), "FormatConfig prints one line per value");
  for (char c : text)
    if (c != '\n') Check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f, "FormatConfig prints no control byte");
  // nlohmann::json escapes by construction, so parsing the document back would test only the library.
  Check(ConfigToJson(config).starts_with('{'), "ConfigToJson writes an object");
}

void CheckConfig(const Config& config) {
  CheckLabels(config);
  CheckNumbers(config);
  Check(UrlPolicyProblem(config.hf_endpoint, false).empty() && !config.hf_endpoint.ends_with('/'),
        "HF_ENDPOINT follows the URL policy, without a trailing '/'");
  Check(config.log_format == "text" || config.log_format == "json", "log_format is text or json");
  CheckSecrets(config);
  CheckDisplay(config);
  try {
    RequireForRun(config);
  } catch (const ConfigError&) {
    Check(!config.dry_run, "a dry run requires nothing more");
  }
}

}  // namespace
}  // namespace orch::fuzz

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  orch::fuzz::Scratch();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  orch::ConfigSources sources = orch::fuzz::SourcesFrom(std::string_view(reinterpret_cast<const char*>(data), size));
  orch::Config config;
  try {
    config = orch::LoadConfig(sources);
  } catch (const orch::ConfigError&) {
    return 0;
  }
  orch::fuzz::CheckConfig(config);
  return 0;
}
