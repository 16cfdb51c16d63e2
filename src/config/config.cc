#include "config/config.h"

#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "config/env_file.h"
#include "config/label_name.h"
#include "config/settings.h"
#include "config/target.h"
#include "util/durable_file.h"
#include "util/error.h"
#include "util/strings.h"

extern char** environ;  // POSIX: the process environment

namespace orch {
namespace {

constexpr std::string_view kDefaultEnvFile = ".env";
constexpr std::string_view kLabelsKey = "labels";

// The values one source holds, by the name used there: the environment variable's name for the
// command line, the environment and .env; the dotted key ("labels.x.threshold") for the file.
struct Source {
  Origin origin = Origin::kDefault;
  std::map<std::string, RawSetting> values;

  const RawSetting* Find(const std::string& name) const {
    auto found = values.find(name);
    return found == values.end() ? nullptr : &found->second;
  }
};

// Every source, strongest first: command line, environment, .env, then the file.
using Sources = std::vector<Source>;

bool KeyedByEnvName(const Source& source) { return source.origin != Origin::kFile; }

// An empty variable in the environment or .env counts as not set, as a CI system's unset
// variable (`${{ vars.X }}`) or a `KEY=` line in .env means "use the default".
Source NamedSource(Origin origin, const std::string& where, const std::map<std::string, std::string>& variables) {
  Source source{origin, {}};
  for (const auto& [name, text] : variables) {
    if (text.empty() && origin != Origin::kCommandLine) continue;
    source.values[name] = RawSetting{text, std::nullopt, name, where, origin, ""};
  }
  return source;
}

// ---- The .env file -------------------------------------------------------------------------

std::optional<Source> ReadDotEnv(const std::optional<std::string>& env_file) {
  std::string path = env_file.value_or(std::string(kDefaultEnvFile));
  if (!std::filesystem::exists(path)) {
    if (!env_file) return std::nullopt;  // ./.env is optional; a named one is not
    throw ConfigError(".env file " + QuoteForMessage(path) + " does not exist");
  }
  return NamedSource(Origin::kDotEnv, "in " + path, ReadEnvFile(path));
}

// ---- The TOML file -------------------------------------------------------------------------

std::string Where(const std::string& path, const toml::node& node) {
  return "in " + path + ":" + std::to_string(node.source().begin.line);
}

std::string KnownKeys() {
  std::string known;
  for (const SettingSpec& spec : Settings())
    if (spec.in_file) known += std::string(known.empty() ? "" : ", ") + std::string(spec.key);
  known += "; in [labels.<name>] tables: ";
  bool first = true;
  for (const SettingSpec& spec : LabelSettings()) {
    known += std::string(first ? "" : ", ") + std::string(spec.key);
    first = false;
  }
  return known;
}

[[noreturn]] void RefuseUnknownKey(const std::string& key, const std::string& path, const toml::node& node) {
  std::string hint;
  std::string lower;
  for (char c : key) lower += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  if (lower != key && FindSetting(lower) != nullptr) hint = " (did you mean " + lower + "?)";
  throw ConfigError("unknown setting " + QuoteForMessage(key) + " " + Where(path, node) + hint +
                    "; known settings: " + KnownKeys());
}

const char* TomlTypeName(toml::node_type type) {
  switch (type) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    case toml::node_type::none: break;
  }
  return "value";
}

bool IsWholeNumberType(SettingType type) {
  return type == SettingType::kInteger || type == SettingType::kPositiveInteger || type == SettingType::kSeconds ||
         type == SettingType::kDuration || type == SettingType::kRatio;
}

bool IsDecimalType(SettingType type) {
  return type == SettingType::kSeconds || type == SettingType::kDuration || type == SettingType::kRatio;
}

bool IsBoolType(SettingType type) { return type == SettingType::kBool || type == SettingType::kTrueFlag; }

std::vector<std::string> TomlStrings(const SettingSpec& spec, const RawSetting& raw, const toml::array& array) {
  std::vector<std::string> items;
  for (const toml::node& item : array) {
    if (!item.is_string())
      throw ConfigError(raw.name + " (" + raw.where + "): expected an array of strings, e.g. " + raw.name + " = [\"" +
                        std::string(spec.example) + "\"]");
    items.push_back(*item.value<std::string>());
  }
  return items;
}

// A TOML value as the text an environment variable would hold, so both go through ParseSetting.
// Strings are accepted for every type; native TOML values only where they fit.
RawSetting FromToml(const SettingSpec& spec, const std::string& name, const toml::node& node, const std::string& path,
                    const std::string& label = "") {
  RawSetting raw{"", std::nullopt, name, Where(path, node), Origin::kFile, label};
  if (node.is_string()) {
    raw.text = *node.value<std::string>();
  } else if (node.is_integer() && IsWholeNumberType(spec.type)) {
    raw.text = std::to_string(node.as_integer()->get());
  } else if (node.is_floating_point() && IsDecimalType(spec.type)) {
    raw.text = FormatNumber(node.as_floating_point()->get());
  } else if (node.is_boolean() && IsBoolType(spec.type)) {
    raw.text = node.as_boolean()->get() ? "true" : "false";
  } else if (node.is_array() && spec.type == SettingType::kList) {
    raw.items = TomlStrings(spec, raw, *node.as_array());
  } else {
    throw ConfigError(name + " (" + raw.where + "): expected a " + SettingTypeName(spec.type) + " value, not a TOML " +
                      TomlTypeName(node.type()));
  }
  return raw;
}

void AddGlobalKey(const std::string& key, const toml::node& node, const std::string& path, Source& file) {
  const SettingSpec* spec = FindSetting(key);
  if (spec == nullptr) RefuseUnknownKey(key, path, node);
  if (!spec->in_file)
    throw ConfigError(key + " " + Where(path, node) + ": secrets are never read from the file; set " +
                      std::string(spec->env) + " in the environment or .env");
  file.values[key] = FromToml(*spec, key, node, path);
  // A password in the file is refused even when the environment's DATABASE_URL wins over it.
  if (key == "database_url" && node.is_string() && !ParseDatabaseUrl(*node.value<std::string>()).password.empty())
    throw ConfigError(key + " (" + file.values[key].where +
                      "): holds a password, and secrets are never read from the "
                      "file; set " +
                      std::string(spec->env) + " in the environment or .env");
}

void AddLabelTable(const std::string& label, const toml::node& node, const std::string& path, Source& file) {
  std::string problem = LabelNameProblem(label);
  if (!problem.empty()) throw ConfigError("[labels.<name>] table " + Where(path, node) + ": " + problem);
  const toml::table* table = node.as_table();
  if (table == nullptr)
    throw ConfigError("labels." + label + " " + Where(path, node) + ": expected a table [labels." + label + "]");
  for (auto&& [key, value] : *table) {
    std::string name = "labels." + label + "." + std::string(key.str());
    const SettingSpec* spec = FindLabelSetting(key.str());
    if (spec == nullptr) RefuseUnknownKey(name, path, value);
    file.values[name] = FromToml(*spec, name, value, path, label);
  }
}

// [labels.<name>] tables; their names, in order, are the label list when nothing stronger sets one.
void AddLabelTables(const toml::table& tables, const std::string& path, Source& file) {
  std::vector<std::string> names;
  for (auto&& [key, node] : tables) {
    names.emplace_back(key.str());
    AddLabelTable(names.back(), node, path, file);
  }
  std::sort(names.begin(), names.end());
  RawSetting list{"", names, std::string(kLabelsKey), Where(path, tables), Origin::kFile, ""};
  file.values[std::string(kLabelsKey)] = list;
}

void AddLabels(const toml::node& node, const std::string& path, Source& file) {
  if (const toml::table* tables = node.as_table()) return AddLabelTables(*tables, path, file);
  AddGlobalKey(std::string(kLabelsKey), node, path, file);
}

toml::table ParseTomlFile(const std::string& path) {
  const std::string text = ReadSettingsFile(path, "config file");
  try {
    return toml::parse(text, path);
  } catch (const toml::parse_error& error) {
    const toml::source_position& at = error.source().begin;
    throw ConfigError(path + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) +
                      ": TOML syntax error: " + std::string(error.description()));
  }
}

Source ReadConfigFile(const std::string& path) {
  toml::table document = ParseTomlFile(path);
  Source file{Origin::kFile, {}};
  for (auto&& [key, node] : document) {
    std::string name(key.str());
    if (name == kLabelsKey)
      AddLabels(node, path, file);
    else
      AddGlobalKey(name, node, path, file);
  }
  return file;
}

Sources ReadSources(const ConfigSources& given) {
  Sources sources;
  sources.push_back(NamedSource(Origin::kCommandLine, "command line", given.command_line));
  sources.push_back(NamedSource(Origin::kEnvironment, "environment", given.environment));
  if (std::optional<Source> dot_env = ReadDotEnv(given.env_file)) sources.push_back(std::move(*dot_env));
  if (given.config_file) sources.push_back(ReadConfigFile(*given.config_file));
  return sources;
}

// ---- Resolution ----------------------------------------------------------------------------

RawSetting ResolveGlobal(const SettingSpec& spec, const Sources& sources) {
  for (const Source& source : sources) {
    const RawSetting* found = source.Find(std::string(KeyedByEnvName(source) ? spec.env : spec.key));
    if (found != nullptr) return *found;
  }
  return RawSetting{
      std::string(spec.default_value), std::nullopt, std::string(spec.key), "default", Origin::kDefault, ""};
}

// The label's variable in one source under any of its spellings; refuses two spellings set to
// different values there.
const RawSetting* FindSpelled(const SettingSpec& spec, const std::vector<std::string>& spellings,
                              const Source& source) {
  const RawSetting* chosen = nullptr;
  for (const std::string& spelling : spellings) {
    const RawSetting* found = source.Find(LabelEnvName(spec, spelling));
    if (found == nullptr) continue;
    if (chosen != nullptr && chosen->text != found->text)
      throw ConfigError(chosen->name + " and " + found->name + " (" + found->where +
                        ") are both set, to different values; they name the same setting, set only one");
    if (chosen == nullptr) chosen = found;
  }
  return chosen;
}

[[noreturn]] void RefuseMissing(const SettingSpec& spec, const std::string& label, const std::string& env_name) {
  throw ConfigError(env_name + " is not set: the label " + QuoteForMessage(label) + " has no default " +
                    std::string(spec.key) + "; set it in the environment or .env (e.g. " + env_name + "=" +
                    std::string(spec.example) + "), or as labels." + label + "." + std::string(spec.key) +
                    " in the --config file");
}

RawSetting ResolveLabel(const SettingSpec& spec, const std::string& label, const std::vector<std::string>& spellings,
                        const Sources& sources) {
  std::string key = "labels." + label + "." + std::string(spec.key);
  for (const Source& source : sources) {
    const RawSetting* found = nullptr;
    if (!KeyedByEnvName(source))
      found = source.Find(key);
    else if (!spec.env.empty())
      found = FindSpelled(spec, spellings, source);
    if (found == nullptr) continue;
    RawSetting raw = *found;
    raw.label = label;
    return raw;
  }
  if (!spec.inherits.empty()) {  // the global setting's value, with its origin
    RawSetting raw = ResolveGlobal(*FindSetting(spec.inherits), sources);
    raw.label = label;
    return raw;
  }
  std::optional<std::string> default_value = LabelDefault(spec, label);
  if (!default_value) RefuseMissing(spec, label, LabelEnvName(spec, spellings.front()));
  return RawSetting{*default_value, std::nullopt, key, "default", Origin::kDefault, label};
}

// Each label's spellings in variable names. An alias ("DEPT" for department) is dropped when
// another configured label is called by that name, so one variable never sets two labels.
std::map<std::string, std::vector<std::string>> EnvSpellings(const std::vector<LabelConfig>& labels) {
  std::set<std::string> canonical;
  for (const LabelConfig& label : labels) canonical.insert(LabelEnvSpellings(label.name).front());
  std::map<std::string, std::vector<std::string>> spellings;
  for (const LabelConfig& label : labels) {
    std::vector<std::string> all = LabelEnvSpellings(label.name);
    std::vector<std::string>& kept = spellings[label.name];
    kept.push_back(all.front());
    for (size_t i = 1; i < all.size(); ++i)
      if (!canonical.count(all[i])) kept.push_back(all[i]);
  }
  return spellings;
}

// Settings a `command:` worker does not get even when they are set: credentials only the pass and
// the server use, and the files of the pass's own GitHub step.
bool KeptFromWorkers(const SettingSpec& spec) {
  return spec.key == "alert_webhook_url" || spec.key == "serve_token" || spec.key == "github_step_summary" ||
         spec.key == "github_output";
}

// A setting given by name (command line, environment, .env), for the workers' environment.
void PassToWorkers(const SettingSpec& spec, const RawSetting& raw, Config& config) {
  if (spec.env.empty() || KeptFromWorkers(spec)) return;
  if (raw.origin != Origin::kCommandLine && raw.origin != Origin::kEnvironment && raw.origin != Origin::kDotEnv) return;
  // A label's setting inherited from the global one is passed once, as the global one.
  if (!spec.inherits.empty() && raw.name == FindSetting(spec.inherits)->env) return;
  config.worker_environment.push_back(raw.name + "=" + raw.text);
}

void LoadGlobals(const Sources& sources, Config& config) {
  for (const SettingSpec& spec : Settings()) {
    RawSetting raw = ResolveGlobal(spec, sources);
    PassToWorkers(spec, raw, config);
    SettingValue value = ParseSetting(spec, raw);
    spec.store(config, value);
    config.values.push_back({std::string(spec.key), std::string(spec.env), DisplaySetting(spec, value), raw.origin});
  }
}

void LoadLabels(const Sources& sources, Config& config) {
  std::map<std::string, std::vector<std::string>> spellings = EnvSpellings(config.labels);
  for (LabelConfig& label : config.labels) {
    const std::vector<std::string>& names = spellings[label.name];
    for (const SettingSpec& spec : LabelSettings()) {
      RawSetting raw = ResolveLabel(spec, label.name, names, sources);
      PassToWorkers(spec, raw, config);
      SettingValue value = ParseSetting(spec, raw);
      spec.store_label(label, value);
      bool named = raw.origin != Origin::kFile && raw.origin != Origin::kDefault;
      std::string env = named ? raw.name : LabelEnvName(spec, names.front());
      config.values.push_back(
          {"labels." + label.name + "." + std::string(spec.key), env, DisplaySetting(spec, value), raw.origin});
    }
  }
}

// Options are passed by variable name; one that names no setting is a mistake in the caller.
void RefuseUnknownCommandLineNames(const std::map<std::string, std::string>& command_line, const Config& config) {
  std::set<std::string> known;
  for (const SettingSpec& spec : Settings()) known.emplace(spec.env);
  for (const auto& [label, names] : EnvSpellings(config.labels))
    for (const SettingSpec& spec : LabelSettings())
      for (const std::string& spelling : names)
        if (!spec.env.empty()) known.insert(LabelEnvName(spec, spelling));
  for (const auto& [name, value] : command_line)
    if (!known.count(name)) throw ConfigError("unknown setting " + QuoteForMessage(name) + " on the command line");
}

// "RETRAIN_DEPARTMENT_REPO (or RETRAIN_DEPT_REPO)".
std::string EnvNamesForMessage(std::string_view key, const std::string& label) {
  const SettingSpec* spec = FindLabelSetting(key);
  std::vector<std::string> spellings = LabelEnvSpellings(label);
  std::string names = LabelEnvName(*spec, spellings.front());
  for (size_t i = 1; i < spellings.size(); ++i) names += " (or " + LabelEnvName(*spec, spellings[i]) + ")";
  return names;
}

// Control characters would break the one-line-per-setting layout (SQL may span lines).
std::string OneLine(const std::string& value) {
  std::string line;
  for (char c : value) {
    if (c == '\n')
      line += "\\n";
    else if (c == '\r')
      line += "\\r";
    else if (c == '\t')
      line += "\\t";
    else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      line += "?";
    else
      line += c;
  }
  return line;
}

// A setting left unset whose value follows from others is shown with that value and where it comes
// from, e.g. stale_after = 3600 (2 x poll_timeout), not as an empty string.
void ShowDerivedValues(Config& config) {
  for (ConfigValue& value : config.values)
    if (value.key == "stale_after" && config.stale_after <= 0)
      value.value = FormatNumber(StaleAfter(config)) + " (2 x poll_timeout)";
}

// The webhook token goes to every webhook: WEBHOOK_TOKEN_ENV may not name a credential the
// orchestrator holds for someone else.
void RefuseSharedWebhookToken(const Config& config) {
  for (const SettingSpec& spec : Settings()) {
    const bool credential = spec.type == SettingType::kSecret || spec.type == SettingType::kSecretUrl ||
                            spec.type == SettingType::kDatabaseUrl;
    if (credential && spec.env == config.webhook_token_env)
      throw ConfigError("WEBHOOK_TOKEN_ENV=" + QuoteForMessage(config.webhook_token_env) + " names " +
                        std::string(spec.env) +
                        ", a credential for another service: every webhook worker would receive it. Put the "
                        "webhooks' token in a variable of its own, e.g. WEBHOOK_TOKEN");
  }
}

// Names of the environment and .env that look like a setting but are none: a near miss of a known
// name ("POLL_TIMOUT"), or a label's setting for a label that is not configured ("THRESHOLD_TOPIC").
// GitHub's and the runner's own variables are theirs, whatever they look like.
// libcurl reads HTTP_CA_BUNDLE itself, with no bound: a FIFO would hold every request, a device never end.
void RefuseUnreadableCaBundle(const Config& config) {
  if (config.http.ca_bundle.empty()) return;
  constexpr uint64_t kMaxCaBundleBytes = 16 << 20;
  try {
    if (!ReadRegularFile(config.http.ca_bundle, kMaxCaBundleBytes, "HTTP_CA_BUNDLE"))
      throw ConfigError("HTTP_CA_BUNDLE " + QuoteForMessage(config.http.ca_bundle) +
                        " does not exist; name a PEM file of CA certificates, or unset it to use the system's");
  } catch (const WorkerError& error) {
    throw ConfigError(std::string(error.what()) + "; name a PEM file of CA certificates");
  }
}

void WarnAboutUnknownVariables(const Sources& sources, Config& config) {
  std::set<std::string> known = {"ORCHESTRATOR_CONFIG", config.webhook_token_env};
  for (const SettingSpec& spec : Settings()) known.emplace(spec.env);
  for (const auto& [label, names] : EnvSpellings(config.labels))
    for (const SettingSpec& spec : LabelSettings())
      for (const std::string& spelling : names)
        if (!spec.env.empty()) known.insert(LabelEnvName(spec, spelling));
  std::set<std::string> seen;
  for (const Source& source : sources) {
    if (source.origin != Origin::kEnvironment && source.origin != Origin::kDotEnv) continue;
    for (const auto& [name, raw] : source.values) {
      if (known.count(name) || !seen.insert(name).second || name.starts_with("GITHUB_") || name.starts_with("RUNNER_"))
        continue;
      const std::string& where = raw.where;
      std::string warning;
      for (const SettingSpec& spec : LabelSettings()) {
        const std::string_view pattern = spec.env;
        const size_t at = pattern.find("{LABEL}");
        if (at == std::string_view::npos) continue;
        const std::string_view prefix = pattern.substr(0, at), suffix = pattern.substr(at + 7);
        if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) || !name.ends_with(suffix))
          continue;
        const std::string label =
            ToLower(std::string_view(name).substr(prefix.size(), name.size() - prefix.size() - suffix.size()));
        if (!IsValidLabelName(label)) continue;
        warning = name + " (" + where + ") sets " + std::string(spec.key) + " for the label " + QuoteForMessage(label) +
                  ", which is not configured: add it to LABELS, or remove the variable";
        break;
      }
      if (warning.empty() && name.size() >= 5) {
        const size_t allowed = name.size() >= 8 ? 2 : 1;
        for (const std::string& candidate : known)
          if (!candidate.empty() && WithinEditDistance(name, candidate, allowed)) {
            warning = name + " (" + where + ") is not a setting; did you mean " + candidate + "?";
            break;
          }
      }
      if (!warning.empty()) config.warnings.push_back(std::move(warning));
    }
  }
}

// What a `command:` worker gets besides the settings (already in config.worker_environment): the
// system's variables, those WORKER_ENV names (from the environment, else .env), and the --config
// file as ORCHESTRATOR_CONFIG.
void AddWorkerEnvironment(const ConfigSources& given, const std::optional<std::string>& config_file, Config& config) {
  std::vector<std::string>& environment = config.worker_environment;
  for (const auto& [name, value] : given.environment)
    if (IsWorkerSystemVariable(name)) environment.push_back(name + "=" + value);
  if (!Trim(config.worker_env).empty()) {
    std::map<std::string, std::string> dot_env;
    if (given.env_file || std::filesystem::exists(kDefaultEnvFile))
      dot_env = ReadEnvFile(given.env_file.value_or(std::string(kDefaultEnvFile)));
    size_t start = 0;
    while (start <= config.worker_env.size()) {
      const size_t comma = std::min(config.worker_env.find(',', start), config.worker_env.size());
      const std::string name(Trim(std::string_view(config.worker_env).substr(start, comma - start)));
      start = comma + 1;
      if (name.empty()) continue;
      if (!IsVariableName(name))
        throw ConfigError("WORKER_ENV names " + QuoteForMessage(name) +
                          ", which is not a variable name; expected names like AWS_PROFILE, separated by commas");
      if (auto found = given.environment.find(name); found != given.environment.end())
        environment.push_back(name + "=" + found->second);
      else if (auto in_file = dot_env.find(name); in_file != dot_env.end())
        environment.push_back(name + "=" + in_file->second);
    }
  }
  if (config_file) environment.push_back("ORCHESTRATOR_CONFIG=" + std::filesystem::absolute(*config_file).string());
}

}  // namespace

const char* OriginName(Origin origin) {
  switch (origin) {
    case Origin::kDefault: return "default";
    case Origin::kFile: return "file";
    case Origin::kDotEnv: return ".env";
    case Origin::kEnvironment: return "environment";
    case Origin::kCommandLine: return "command line";
  }
  return "default";
}

bool IsWorkerSystemVariable(std::string_view name) {
  for (std::string_view system : {"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TZ", "TMPDIR"})
    if (name == system) return true;
  return name.starts_with("LC_");
}

Config LoadConfig(const ConfigSources& given) {
  ConfigSources sources = given;
  if (!sources.config_file) {
    auto named = sources.environment.find("ORCHESTRATOR_CONFIG");
    if (named != sources.environment.end() && !named->second.empty()) sources.config_file = named->second;
  }
  Sources all = ReadSources(sources);
  Config config;
  LoadGlobals(all, config);
  LoadLabels(all, config);
  RefuseUnknownCommandLineNames(sources.command_line, config);
  RefuseSharedWebhookToken(config);
  RefuseUnreadableCaBundle(config);
  WarnAboutUnknownVariables(all, config);
  ShowDerivedValues(config);
  AddWorkerEnvironment(sources, sources.config_file, config);
  return config;
}

bool UsesHuggingFace(const Config& config) {
  // A worker not configured yet is most likely a Space, as in the original set-up; a Job is the Hub's too.
  auto is_space = [](const std::string& target) {
    if (target.empty()) return true;
    const Target::Kind kind = ParseTarget(target).kind;
    return kind == Target::Kind::kHfSpace || kind == Target::Kind::kHfJob;
  };
  if (is_space(config.prepare_target)) return true;
  for (const LabelConfig& label : config.labels)
    if (is_space(label.retrain_target) || label.metadata_url.starts_with(config.hf_endpoint + "/")) return true;
  return false;
}

void RequireForRun(const Config& config) {
  if (config.dry_run) return;
  std::vector<std::string> missing;
  if (config.hf_token.empty() && UsesHuggingFace(config)) missing.emplace_back("HF_TOKEN");
  if (config.prepare_target.empty()) missing.emplace_back("PREPARE_DATASET_REPO");
  for (const LabelConfig& label : config.labels) {
    if (label.retrain_target.empty()) missing.push_back(EnvNamesForMessage("retrain", label.name));
    if (label.metadata_url.empty()) missing.push_back(EnvNamesForMessage("metadata_url", label.name));
  }
  if (missing.empty()) return;
  std::string list;
  for (const std::string& name : missing) list += (list.empty() ? "" : ", ") + name;
  throw ConfigError("missing: " + list + "; set them in the environment or .env");
}

std::string FormatConfig(const Config& config) {
  std::string text;
  for (const ConfigValue& value : config.values)
    text += "(" + std::string(OriginName(value.origin)) + ") " + value.key + " = " + OneLine(value.value) + "\n";
  return text;
}

std::string ConfigToJson(const Config& config) {
  nlohmann::json settings = nlohmann::json::array();
  for (const ConfigValue& value : config.values)
    settings.push_back(
        {{"key", value.key}, {"env", value.env}, {"value", value.value}, {"origin", OriginName(value.origin)}});
  nlohmann::json document = {{"settings", settings}};
  return document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

void KeepOnlyLabels(Config& config, const std::vector<std::string>& names) {
  std::string configured;
  for (const LabelConfig& label : config.labels) configured += (configured.empty() ? "" : ", ") + label.name;
  for (const std::string& name : names)
    if (std::none_of(config.labels.begin(), config.labels.end(), [&](const LabelConfig& l) { return l.name == name; }))
      throw ConfigError("label " + QuoteForMessage(name) + " is not a configured label; the configured labels are " +
                        configured + " (LABELS)");
  std::erase_if(config.labels, [&](const LabelConfig& label) {
    return std::find(names.begin(), names.end(), label.name) == names.end();
  });
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> environment;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    size_t equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    environment.emplace(text.substr(0, equals), text.substr(equals + 1));
  }
  return environment;
}

std::vector<std::string> Secrets(const Config& config, const std::map<std::string, std::string>& environment) {
  std::vector<std::string> secrets;
  for (const std::string& secret :
       {config.hf_token, config.database.password, config.alert_webhook_url, config.serve_token})
    if (!secret.empty()) secrets.push_back(secret);
  if (auto token = environment.find(config.webhook_token_env); token != environment.end() && !token->second.empty())
    secrets.push_back(token->second);
  return secrets;
}

}  // namespace orch
