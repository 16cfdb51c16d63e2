#include "config/target.h"

#include <algorithm>

#include "config/label_name.h"
#include "config/url_policy.h"
#include "util/error.h"
#include "util/strings.h"

namespace orch {
namespace {

constexpr std::string_view kSpacePrefix = "hf-space:";
constexpr std::string_view kCommandPrefix = "command:";
constexpr std::string_view kWebhookPrefix = "webhook:";
constexpr std::string_view kJobPrefix = "hf-job:";
// How `hf jobs run` (and the Hub's clients) write an image that is a Space's.
constexpr std::string_view kSpaceImagePrefixes[] = {"https://huggingface.co/spaces/", "https://hf.co/spaces/",
                                                    "huggingface.co/spaces/", "hf.co/spaces/"};
// A Docker image reference is at most this long (the registry's name, path, tag and digest).
constexpr size_t kMaxImageBytes = 512;

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
        "an hf-job:IMAGE COMMAND [ARGS...], a command:<program and arguments>, or a webhook:https://… URL");
  Target target;
  target.space_id = std::string(id);
  return target;
}

bool IsRepoId(std::string_view id) {
  const size_t slash = id.find('/');
  return slash != std::string_view::npos && IsRepoPart(id.substr(0, slash)) && IsRepoPart(id.substr(slash + 1));
}

// Registry host, path, tag and digest: letters, digits and . _ - / : @ (no blank, no quote).
bool IsImageReference(std::string_view image) {
  if (image.empty() || image.size() > kMaxImageBytes || image.front() == '-') return false;
  return std::all_of(image.begin(), image.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '/' || c == ':' || c == '@';
  });
}

Target JobTarget(std::string_view line) {
  constexpr std::string_view kExpected =
      "an image and a command, as `hf jobs run` takes them, e.g. hf-job:python:3.12 python -m retrain or "
      "hf-job:hf.co/spaces/owner/name orchestrator retrain";
  if (Trim(line).empty()) throw ConfigError("hf-job: needs " + std::string(kExpected));
  std::vector<std::string> words;
  try {
    words = SplitCommandLine(line);
  } catch (const ConfigError& error) {
    throw ConfigError(std::string("hf-job: ") + error.what() + "; expected " + std::string(kExpected));
  }
  if (words.size() < 2) throw ConfigError("hf-job: needs " + std::string(kExpected));
  Target target;
  target.kind = Target::Kind::kHfJob;
  const std::string& image = words.front();
  for (std::string_view prefix : kSpaceImagePrefixes) {
    if (!image.starts_with(prefix)) continue;
    target.space_id = image.substr(prefix.size());
    if (!IsRepoId(target.space_id))
      throw ConfigError("hf-job: the image " + QuoteForMessage(image) +
                        " names no Space: expected hf.co/spaces/OWNER/NAME (letters, digits, '-', '_' and '.')");
    break;
  }
  if (target.space_id.empty()) {
    if (!IsImageReference(image))
      throw ConfigError("hf-job: " + QuoteForMessage(image) +
                        " is not a Docker image reference (letters, digits and . _ - / : @, at most " +
                        std::to_string(kMaxImageBytes) + " bytes), nor hf.co/spaces/OWNER/NAME");
    target.image = image;
  }
  target.argv.assign(words.begin() + 1, words.end());
  return target;
}

}  // namespace

const char* TargetKindName(Target::Kind kind) {
  switch (kind) {
    case Target::Kind::kHfSpace: return "hf-space";
    case Target::Kind::kCommand: return "command";
    case Target::Kind::kWebhook: return "webhook";
    case Target::Kind::kHfJob: return "hf-job";
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
  if (text.starts_with(kJobPrefix)) return JobTarget(text.substr(kJobPrefix.size()));
  if (text.starts_with(kSpacePrefix)) text.remove_prefix(kSpacePrefix.size());
  return SpaceTarget(text);
}

}  // namespace orch
