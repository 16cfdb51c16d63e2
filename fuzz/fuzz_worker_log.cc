// Fuzz target for the decision a local worker reports (LastJsonLine, which reads the last lines of a
// `command:` worker's log for the last JSON object): whatever the worker printed, the decision kept
// is "" or one JSON object on one line, no longer than the log allows, which the summary embeds as
// JSON. It never throws, so any exception is a finding.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "fuzz_check.h"
#include "triggers/command_trigger.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using orch::fuzz::Check;
  const std::string log(reinterpret_cast<const char*>(data), size);
  const std::string decision = orch::LastJsonLine(log);
  if (decision.empty()) return 0;
  for (char c : decision)
    Check(static_cast<unsigned char>(c) >= 0x20, "a decision is one line (JSON escapes the rest)");
  Check(nlohmann::json::parse(decision, nullptr, false).is_object(), "a decision is a JSON object");
  // JSON escapes each byte in at most six ("\u001f"); numbers may be written longer (1e5 -> 100000.0).
  Check(decision.size() <= 6 * size + 64 || size == 0, "a decision is bounded by the log");
  return 0;
}
