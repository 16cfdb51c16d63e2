// Fuzz target for ParseRepositoryUrl: `--hub`, `--dataset` and `--models` in any form must parse into
// a repository whose parts agree with the text (the kind with its scheme, an OWNER/NAME id the Hub
// could hold, a revision that is a ref name) and whose per-label form holds no placeholder, or be
// refused with a ConfigError that names the option and the accepted forms.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/repository_url.h"
#include "fuzz_check.h"
#include "util/error.h"

namespace orch::fuzz {
namespace {

constexpr std::string_view kSetting = "--hub";

bool IsNameCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

void CheckHubId(const std::string& repo_id) {
  const size_t slash = repo_id.find('/');
  Check(slash != std::string::npos && repo_id.find('/', slash + 1) == std::string::npos,
        "a Hub repository is OWNER/NAME");
  Check(slash > 0 && slash + 1 < repo_id.size(), "neither the owner nor the name is empty");
  for (size_t i = 0; i < repo_id.size(); ++i)
    Check(i == slash || IsNameCharacter(repo_id[i]), "a Hub repository's id holds only name characters");
}

void CheckAccepted(std::string_view text, const RepositoryUrl& url) {
  Check(url.text == text, "the URL keeps its text as given");
  Check(url.per_label == (text.find(kLabelPlaceholder) != std::string_view::npos), "per_label says {label} is there");
  if (text.starts_with("hf://")) {
    Check(url.on_hub(), "hf:// names a repository on the Hub");
    Check((url.kind == RepositoryUrl::Kind::kHubDataset) == text.starts_with("hf://datasets/"),
          "hf://datasets/ and nothing else names a dataset");
    Check(url.Name().starts_with(url.kind == RepositoryUrl::Kind::kHubDataset ? "hf://datasets/" : "hf://"),
          "a Hub repository is named hf://...");
  } else {
    Check(!url.on_hub(), "only hf:// names a repository on the Hub");
    Check(!url.path.empty(), "a local repository names a directory");
  }
  if (url.revision) {
    Check(!url.revision->empty(), "a revision is not empty");
    Check(url.revision->find('@') == std::string::npos, "a revision holds no '@'");
  }
  const RepositoryUrl one = url.ForLabel("urgency");
  Check(!one.per_label, "a label's repository is that label's alone");
  Check(one.Name().find(kLabelPlaceholder) == std::string::npos, "a label's repository holds no {label}");
  Check(one.revision == url.revision, "a label's repository keeps the revision");
  if (one.on_hub()) CheckHubId(one.repo_id);
}

void CheckRefusal(const ConfigError& error) {
  const std::string_view message = error.what();
  Check(message.starts_with(kSetting), "a refusal names the option");
  Check(message.find("hf://datasets/OWNER/NAME") != std::string_view::npos, "a refusal gives the accepted forms");
}

}  // namespace
}  // namespace orch::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace orch;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    fuzz::CheckAccepted(text, ParseRepositoryUrl(text, fuzz::kSetting));
  } catch (const ConfigError& error) {
    fuzz::CheckRefusal(error);
  }
  return 0;
}
