#include "config/target.h"

#include <algorithm>

#include "config/url_policy.h"
#include "util/error.h"
#include "util/strings.h"

namespace orch {
namespace {

constexpr std::string_view kSpacePrefix = "hf-space:";
constexpr std::string_view kCommandPrefix = "command:";
constexpr std::string_view kWebhookPrefix = "webhook:";

bool IsRepoPart(std::string_view part) {
  if (part.empty() || part == "." || part == "..") return false;
  return std::all_of(part.begin(), part.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
}

Target SpaceTarget(std::string_view id) {
  const size_t slash = id.find('/');
  if (slash == std::string_view::npos || !IsRepoPart(id.substr(0, slash)) || !IsRepoPart(id.substr(slash + 1)))
    throw ConfigError(
        "expected a Space as owner/name or hf-space:owner/name (letters, digits, '-', '_' and '.'; not . or ..), "
        "a command:<program and arguments>, or a webhook:https://… URL");
  Target target;
  target.space_id = std::string(id);
  return target;
}

}  // namespace

const char* TargetKindName(Target::Kind kind) {
  switch (kind) {
    case Target::Kind::kHfSpace: return "hf-space";
    case Target::Kind::kCommand: return "command";
    case Target::Kind::kWebhook: return "webhook";
  }
  return "?";
}

std::vector<std::string> SplitCommandLine(std::string_view line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (IsSpace(c)) {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\'') {
      const size_t end = line.find('\'', i + 1);
      if (end == std::string_view::npos) throw ConfigError("the command has an unterminated ' quote");
      word += line.substr(i + 1, end - i - 1);
      i = end;
    } else if (c == '"') {
      size_t j = i + 1;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size() &&
            std::string_view("\"\\$`").find(line[j + 1]) != std::string_view::npos)
          ++j;
        word += line[j];
      }
      if (j >= line.size()) throw ConfigError("the command has an unterminated \" quote");
      i = j;
    } else if (c == '\\' && i + 1 < line.size()) {
      word += line[++i];
    } else {
      word += c;
    }
  }
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) throw ConfigError("the command is empty; write command:<program> [arguments…]");
  return words;
}

Target ParseTarget(std::string_view text) {
  if (text.starts_with(kCommandPrefix)) {
    Target target;
    target.kind = Target::Kind::kCommand;
    target.argv = SplitCommandLine(text.substr(kCommandPrefix.size()));
    return target;
  }
  if (text.starts_with(kWebhookPrefix)) {
    Target target;
    target.kind = Target::Kind::kWebhook;
    target.url = std::string(text.substr(kWebhookPrefix.size()));
    if (const std::string problem = UrlPolicyProblem(target.url, /*allow_file=*/false); !problem.empty())
      throw ConfigError("the webhook URL is not accepted: " + problem);
    return target;
  }
  if (text.starts_with(kSpacePrefix)) text.remove_prefix(kSpacePrefix.size());
  return SpaceTarget(text);
}

}  // namespace orch
