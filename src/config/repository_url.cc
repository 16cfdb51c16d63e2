#include "config/repository_url.h"

#include <algorithm>
#include <cctype>

#include "util/error.h"
#include "util/redact.h"

namespace orch {
namespace {

constexpr size_t kMaxRepoPartLength = 96;  // as huggingface_hub's validate_repo_id
constexpr size_t kMaxRevisionLength = 256;
constexpr const char* kForms =
    "give a directory, file://DIR, hf://datasets/OWNER/NAME (a dataset) or hf://OWNER/NAME (a model), each with an "
    "optional @REVISION, e.g. hf://datasets/acme/grievances-{label}";

[[noreturn]] void Refuse(std::string_view setting, std::string_view text, const std::string& what) {
  throw ConfigError(std::string(setting) + ": \"" + Excerpt(text, 200) + "\" is not a repository: " + what + "; " +
                    kForms);
}

// `text` with each {label} replaced by `label`.
std::string Expand(std::string text, const std::string& label) {
  const std::string placeholder = kLabelPlaceholder;
  for (size_t at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder, at + label.size()))
    text.replace(at, placeholder.size(), label);
  return text;
}

bool IsNameCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

// "" when `part` (an owner or a repository name, {label} standing for a label's name) is one the
// Hub accepts; otherwise what is wrong with it.
std::string NameProblem(std::string_view part, std::string_view what) {
  const std::string name = Expand(std::string(part), "label");
  if (name.empty()) return std::string("the ") + std::string(what) + " is empty";
  if (name.size() > kMaxRepoPartLength)
    return std::string("the ") + std::string(what) + " is longer than " + std::to_string(kMaxRepoPartLength);
  if (!std::all_of(name.begin(), name.end(), IsNameCharacter))
    return std::string("the ") + std::string(what) + " \"" + Printable(part) +
           "\" may hold only letters, digits, '-', '_', '.' and {label}";
  if (name.find("--") != std::string::npos || name.find("..") != std::string::npos || name.front() == '-' ||
      name.front() == '.' || name.back() == '-' || name.back() == '.' || name.ends_with(".git"))
    return std::string("the ") + std::string(what) + " \"" + Printable(part) +
           "\" may not start or end with '-' or '.', hold \"--\" or \"..\", or end in .git";
  return "";
}

std::string RevisionProblem(std::string_view revision) {
  if (revision.empty()) return "nothing follows '@': name a branch, a tag or a commit id, or leave '@' out";
  if (revision.size() > kMaxRevisionLength) return "the revision is longer than 256 characters";
  for (char c : revision)
    if (!IsNameCharacter(c) && c != '/')
      return "the revision \"" + Printable(revision) + "\" may hold only letters, digits, '-', '_', '.' and '/'";
  if (revision.find("..") != std::string_view::npos || revision.front() == '/' || revision.back() == '/')
    return "the revision \"" + Printable(revision) + "\" is not a branch, a tag or a commit id";
  return "";
}

// Whether `text`'s braces are all parts of {label}.
bool OnlyLabelPlaceholders(std::string_view text) {
  const std::string without = Expand(std::string(text), "");
  return without.find_first_of("{}") == std::string::npos;
}

}  // namespace

std::string RepositoryUrl::Name() const {
  switch (kind) {
    case Kind::kLocal: return path;
    case Kind::kHubDataset: return "hf://datasets/" + repo_id;
    case Kind::kHubModel: return "hf://" + repo_id;
  }
  return path;
}

RepositoryUrl RepositoryUrl::ForLabel(const std::string& label) const {
  RepositoryUrl url = *this;
  url.per_label = false;
  if (kind == Kind::kLocal) {
    url.path = per_label ? Expand(path, label) : (path.ends_with("/") ? path : path + "/") + label;
  } else {
    url.repo_id = Expand(repo_id, label);
  }
  url.text = url.Name() + (revision ? "@" + *revision : "");
  return url;
}

RepositoryUrl ParseRepositoryUrl(std::string_view text, std::string_view setting) {
  RepositoryUrl url;
  url.text = std::string(text);
  if (text.empty()) Refuse(setting, text, "it is empty");
  for (char c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) Refuse(setting, text, "it holds a control character");
  if (!OnlyLabelPlaceholders(text)) Refuse(setting, text, "its only braces may be those of {label}");
  url.per_label = text.find(kLabelPlaceholder) != std::string_view::npos;

  std::string_view rest = text;
  const size_t scheme_end = rest.find("://");
  const std::string_view scheme = scheme_end == std::string_view::npos ? "" : rest.substr(0, scheme_end);
  // RFC 3986: a letter, then letters, digits, '+', '-' and '.'.
  const bool schemed = scheme_end != std::string_view::npos && !scheme.empty() &&
                       std::isalpha(static_cast<unsigned char>(scheme.front())) != 0 &&
                       std::all_of(scheme.begin(), scheme.end(), [](char c) {
                         return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.';
                       });
  if (schemed && scheme != "hf" && scheme != "file") {
    std::string what = "the scheme " + std::string(scheme) + ":// is not one it takes";
    if (text.find("huggingface.co/") != std::string_view::npos)
      what += " (a repository on the Hub is written hf://datasets/OWNER/NAME, without the host)";
    Refuse(setting, text, what);
  }

  // The revision: after the last '@' when no '/' follows it (a directory may hold '@').
  const auto take_revision = [&](std::string_view& body) {
    const size_t at = body.rfind('@');
    if (at == std::string_view::npos || body.find('/', at) != std::string_view::npos) return;
    const std::string_view revision = body.substr(at + 1);
    if (const std::string problem = RevisionProblem(revision); !problem.empty()) Refuse(setting, text, problem);
    url.revision = std::string(revision);
    body = body.substr(0, at);
  };

  if (schemed && scheme == "hf") {
    std::string_view body = rest.substr(scheme_end + 3);
    const size_t at = body.find('@');
    if (at != std::string_view::npos) {
      const std::string_view revision = body.substr(at + 1);
      if (const std::string problem = RevisionProblem(revision); !problem.empty()) Refuse(setting, text, problem);
      url.revision = std::string(revision);
      body = body.substr(0, at);
    }
    std::vector<std::string_view> parts;
    for (size_t start = 0;;) {
      const size_t slash = body.find('/', start);
      parts.push_back(body.substr(start, slash - start));
      if (slash == std::string_view::npos) break;
      start = slash + 1;
    }
    url.kind = RepositoryUrl::Kind::kHubModel;
    const bool typed = parts[0] == "datasets" || parts[0] == "models" || parts[0] == "spaces";
    if (typed && parts.size() != 3)
      Refuse(setting, text, "hf://" + std::string(parts[0]) + "/ is followed by OWNER/NAME");
    if (parts.size() == 3 && (parts[0] == "datasets" || parts[0] == "models")) {
      if (parts[0] == "datasets") url.kind = RepositoryUrl::Kind::kHubDataset;
      parts.erase(parts.begin());
    } else if (parts.size() == 3 && parts[0] == "spaces") {
      Refuse(setting, text, "a Space is not a repository of datasets or models");
    }
    if (parts.size() != 2)
      Refuse(setting, text, "a repository on the Hub is OWNER/NAME after hf://datasets/, hf://models/ or hf://");
    for (const auto& [part, what] : {std::pair{parts[0], "owner"}, std::pair{parts[1], "name"}})
      if (const std::string problem = NameProblem(part, what); !problem.empty()) Refuse(setting, text, problem);
    url.repo_id = std::string(parts[0]) + "/" + std::string(parts[1]);
    return url;
  }

  std::string_view body = schemed ? rest.substr(scheme_end + 3) : rest;
  if (schemed) {
    // file:///abs/path or file://localhost/abs/path: the host part must be empty or localhost.
    if (body.starts_with("localhost/")) body.remove_prefix(std::string_view("localhost").size());
    if (!body.starts_with("/")) Refuse(setting, text, "a file:// URL names an absolute path: file:///srv/hub");
  }
  take_revision(body);
  if (body.empty()) Refuse(setting, text, "it names no directory");
  url.kind = RepositoryUrl::Kind::kLocal;
  url.path = std::string(body);
  return url;
}

void RequireOneRepositoryPerLabel(const RepositoryUrl& url, const std::vector<std::string>& labels,
                                  std::string_view setting) {
  if (!url.on_hub() || url.per_label || labels.size() < 2) return;
  std::string names;
  for (const std::string& label : labels) names += (names.empty() ? "" : ", ") + label;
  const std::string name = url.Name();
  throw ConfigError(std::string(setting) + ": " + name + " would be the one repository of " +
                    std::to_string(labels.size()) + " labels (" + names + "); put {label} in its name, e.g. " + name +
                    "-{label}, or name one label with --label");
}

}  // namespace orch
