// The .env file: KEY=VALUE lines, read the way python-dotenv reads them, so the .env files users
// of the original program already have keep working.
//
// Accepted: blank lines, `# comments`, an optional `export ` prefix, values unquoted (trimmed; an
// inline ` # comment` is dropped), 'single-quoted' (literal) or "double-quoted" (backslash escapes
// \n, \t, \" and \\; may span lines). A line holding only a name sets nothing, as in python-dotenv.
// Anything else is an error naming file:line. Variables are not expanded ($VAR stays as is).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace orch {

// Parses .env text; `path` is only used in messages. A later line overrides an earlier one.
// Throws ConfigError("path:line: ...") on a malformed line; messages never quote values.
std::map<std::string, std::string> ParseEnvFile(std::string_view text, std::string_view path);

// Reads and parses the file at `path`. Throws ConfigError when it cannot be read.
std::map<std::string, std::string> ReadEnvFile(const std::string& path);

// A file of settings (a .env file, the TOML config) read whole: `what` names it in errors. Throws
// ConfigError when it is missing, not a regular file (a FIFO would block, a device never end) or
// larger than kMaxSettingsFileBytes.
inline constexpr uint64_t kMaxSettingsFileBytes = 1 << 20;
std::string ReadSettingsFile(const std::string& path, std::string_view what);

// Whether `name` is a portable environment variable name: [A-Za-z_][A-Za-z0-9_]*.
bool IsVariableName(std::string_view name);

}  // namespace orch
