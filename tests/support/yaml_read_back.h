// YAML read back by PyYAML (yaml.safe_load), the parser the Hub's own tools (huggingface_hub,
// datasets) read a card's YAML with, for tests of the YAML the program writes.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace orch::testing {

// Reads `text` as YAML or, with `front_matter`, the front matter of a README.md `text`, cut out
// with huggingface_hub's REGEX_YAML_BLOCK, and answers it as JSON. A mapping key that YAML did not
// read as a string, or a value JSON cannot hold (a date), fails the test (and answers a discarded value).
nlohmann::json ReadYamlBack(const std::string& text, bool front_matter = false);

}  // namespace orch::testing
