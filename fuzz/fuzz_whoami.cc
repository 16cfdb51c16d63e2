// Fuzz target for the whoami answer (GET /api/whoami-v2), whose account name `orchestrator check`
// prints: AccountNameOf must take any body and give a name of at most kMaxAccountNameBytes (escaped
// as Excerpt escapes), with no control byte. The reader never throws, so any exception is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "hub/hf_hub.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using orch::fuzz::Check;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const std::string name = orch::AccountNameOf(body);
  Check(!orch::fuzz::HasControlByte(name), "an account name has no control byte");
  // Each byte kept may be escaped to four ("\x1b"), and a cut adds "...".
  Check(name.size() <= 4 * orch::kMaxAccountNameBytes + 3, "an account name is bounded");
  Check(name.size() <= 4 * size + 3, "an account name comes from the body");
  return 0;
}
