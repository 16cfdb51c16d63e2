// Where a dataset or model repository is, as options and settings name it:
//
//   ./hub  /srv/hub  file:///srv/hub   a local directory
//   hf://datasets/OWNER/NAME           a dataset repository on the Hugging Face Hub
//   hf://OWNER/NAME                    a model repository on the Hub
//   hf://models/OWNER/NAME             the same
//
// each optionally followed by @REVISION (a branch, a tag or a commit id), and with {label} where the
// repositories of different labels differ by the label's name:
// hf://datasets/acme/grievances-{label}. A local directory without {label} is a hub directory that
// holds one repository per label, DIR/<label> (as `orchestrator prepare --hub DIR` has it).
//
// Pure parsing: nothing is looked up or contacted; hub/open_repository.h opens what this names.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orch {

struct RepositoryUrl {
  enum class Kind { kLocal, kHubDataset, kHubModel };
  Kind kind = Kind::kLocal;
  std::string path;     // kLocal: the directory, as given (file:// removed)
  std::string repo_id;  // on the Hub: "OWNER/NAME"
  std::optional<std::string> revision;
  bool per_label = false;  // holds {label}
  std::string text;        // as given

  bool on_hub() const { return kind != Kind::kLocal; }
  // How messages name the repository: the directory, hf://datasets/OWNER/NAME or hf://OWNER/NAME
  // (without the revision).
  std::string Name() const;
  // The repository of `label`: {label} replaced by its name; a local directory without {label}
  // becomes DIR/<label>; a Hub repository without {label} stays as it is (see
  // RequireOneRepositoryPerLabel).
  RepositoryUrl ForLabel(const std::string& label) const;
};

inline constexpr const char* kLabelPlaceholder = "{label}";

// Parses `text`, given through `setting` (an option or a variable, e.g. "--hub", named in
// messages). Throws ConfigError saying what is wrong, with the accepted forms and an example.
RepositoryUrl ParseRepositoryUrl(std::string_view text, std::string_view setting);

// Throws ConfigError (naming `setting`) when `url` would give two of `labels` the same repository:
// a Hub repository without {label} for more than one label.
void RequireOneRepositoryPerLabel(const RepositoryUrl& url, const std::vector<std::string>& labels,
                                  std::string_view setting);

}  // namespace orch
