#include "support/yaml_read_back.h"

#include <gtest/gtest.h>

#include <chrono>

#include "support/subprocess.h"

namespace orch::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kReadBack = R"py(
import json, re, sys, yaml
text = sys.stdin.buffer.read().decode("utf-8")
if sys.argv[1] == "front_matter":
    match = re.compile(r"^(\s*---[\r\n]+)([\S\s]*?)([\r\n]+---(\r\n|\n|$))").search(text)
    if match is None:
        sys.exit("no YAML block at the top")
    text = match.group(2)
def check(value):
    if isinstance(value, dict):
        for key, member in value.items():
            if not isinstance(key, str):
                sys.exit("a key that is not a string: %r" % (key,))
            check(member)
    elif isinstance(value, list):
        for item in value:
            check(item)
document = yaml.safe_load(text)
check(document)
sys.stdout.buffer.write(json.dumps(document, ensure_ascii=False).encode("utf-8"))
)py";

}  // namespace

nlohmann::json ReadYamlBack(const std::string& text, bool front_matter) {
  const ProcessResult result = Subprocess::Run({"python3", "-c", kReadBack, front_matter ? "front_matter" : "yaml"},
                                               {{"PATH", "/usr/bin:/bin"}}, "", 60s, text);
  EXPECT_EQ(result.exit_code, 0) << result.err << "\nthe YAML:\n" << text;
  return nlohmann::json::parse(result.out, nullptr, false);
}

}  // namespace orch::testing
