// Reading YAML back with PyYAML, the parser the Hub's own tools (huggingface_hub, datasets) read a
// dataset card with, for tests of what the product writes as YAML.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace orch::testing {

// Reads YAML (or, with `front_matter`, a README.md's front matter, cut out with huggingface_hub's
// REGEX_YAML_BLOCK) with yaml.safe_load and answers it as JSON; a failure of the script fails the
// test. A mapping key that YAML did not read as a string, or a value JSON cannot hold (a date),
// fails the script.
nlohmann::json ReadYaml(const std::string& text, bool front_matter = false);

}  // namespace orch::testing
