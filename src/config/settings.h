// Every setting the orchestrator reads, described once as data.
//
// Each row says the setting's key (TOML file and `orchestrator config`), its environment variable,
// its type, its default, one line of documentation, and which field of Config it fills. LoadConfig,
// `orchestrator config`, --help and the documentation all read these tables, so adding a setting is
// adding a row. The type decides what a value may look like; ParseSetting enforces it.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.h"

namespace orch {

enum class SettingType {
  kString,           // free text
  kSecret,           // free text, never displayed, never read from the TOML file
  kBool,             // 1/true/yes/on or 0/false/no/off/"" in any case
  kTrueFlag,         // true only for exactly "true" (what GitHub Actions sets), false otherwise
  kInteger,          // a whole number within [min, max]
  kPositiveInteger,  // a whole number within [1, max]
  kSeconds,          // a decimal number of seconds, > 0
  kDuration,         // seconds, or a number then s, m, h or d ("24h"); "" for none (0)
  kRatio,            // a decimal number within [0, 100]
  kUrl,              // https://, or http:// towards a loopback host; trailing '/' dropped
  kSecretUrl,        // a kUrl that is its own credential (a webhook): masked, never read from the file
  kMetadataUrl,      // like kUrl, or file://
  kDatabaseUrl,      // see ParseDatabaseUrl; a password is a secret
  kTarget,           // a worker (config/target.h); "" when not configured
  kChoice,           // one of `choices`
  kList,             // comma-separated label names (a TOML array in the file)
  kIdentifier,       // an SQL identifier (IsValidIdentifier)
  kSql,              // an SQL query returning one integer
  kPath,             // a file path
  kHubName,          // a Hub user, organization or hardware flavor: letters, digits, - _ . ("" when optional)
};

// "string", "secret", "bool", "positive integer", "seconds", ...: for --help and documentation.
const char* SettingTypeName(SettingType type);

// A parsed value; which alternative depends on the type (see ParseSetting).
using SettingValue = std::variant<std::string, bool, int64_t, double, std::vector<std::string>, DatabaseUrl>;

struct SettingSpec {
  std::string_view key;  // global: "poll_interval"; per label: "threshold" (labels.<name>.threshold)
  std::string_view env;  // "POLL_INTERVAL"; per label "THRESHOLD_{LABEL}"; "" when file-only
  SettingType type = SettingType::kString;
  std::string_view default_value;  // per label, "{label}" stands for the label's name
  std::string_view doc;            // one line
  std::string_view example = "";   // a valid value, quoted in error messages
  std::string_view unit = "";      // what a number counts, e.g. "rows"
  int64_t min = 0;                 // bounds of kInteger and kPositiveInteger
  int64_t max = std::numeric_limits<int32_t>::max();
  std::string_view choices = "";                          // kChoice: the accepted values, separated by '|'
  bool in_file = true;                                    // whether the TOML file may set it (secrets may not)
  void (*store)(Config&, const SettingValue&) = nullptr;  // global settings
  void (*store_label)(LabelConfig&, const SettingValue&) = nullptr;  // per-label settings
  // Per label: the global setting whose value is the default (MIN_NEW_ROWS for
  // MIN_NEW_ROWS_<LABEL>); "" when `default_value` is.
  std::string_view inherits = "";
};

// The global settings, in the order `orchestrator config` shows them.
std::span<const SettingSpec> Settings();

// The settings every label has, in display order; keys are relative to labels.<name>.
std::span<const SettingSpec> LabelSettings();

// The row for a key, or nullptr.
const SettingSpec* FindSetting(std::string_view key);
const SettingSpec* FindLabelSetting(std::string_view key);

// A per-label setting's default for `label` ("{label}" filled in); nullopt when the setting has
// no default for that label and must be given (the threshold of a label other than the
// original's department and urgency).
std::optional<std::string> LabelDefault(const SettingSpec& spec, std::string_view label);

// A per-label setting's environment variable for one spelling of the label:
// ("THRESHOLD_{LABEL}", "DEPT") -> "THRESHOLD_DEPT". "" for file-only settings.
std::string LabelEnvName(const SettingSpec& spec, std::string_view label_spelling);

// A value as found in one source, before parsing.
struct RawSetting {
  std::string text;
  std::optional<std::vector<std::string>> items;  // a TOML array, for kList
  std::string name;                               // as spelled there: "THRESHOLD_DEPT", "labels.x.threshold"
  std::string where;                              // "environment", ".env PATH", "file PATH:LINE", "default"
  Origin origin = Origin::kDefault;
  std::string label;  // per-label settings: the label's name
};

// Checks and converts a raw value. Throws ConfigError naming the variable or key, where the
// value came from, what was expected and an example. Secrets are never quoted.
SettingValue ParseSetting(const SettingSpec& spec, const RawSetting& raw);

// The value as `orchestrator config` shows it: secrets masked, database passwords redacted.
std::string DisplaySetting(const SettingSpec& spec, const SettingValue& value);

}  // namespace orch
