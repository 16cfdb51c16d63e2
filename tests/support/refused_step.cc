#include "support/refused_step.h"

namespace orch::testing {

void RefuseStep(FakeHub& hub, const RefusedStep& step, int status) {
  constexpr int kAlways = 1000;
  if (*step.path == '\0') {
    hub.repos().InjectStorageFault({"/", status, false, kAlways});
    return;
  }
  const FakeHub::Fault fault =
      status == 429 ? FakeHub::Fault::RetryAfter(0, kAlways) : FakeHub::Fault::Status(status, kAlways);
  hub.InjectFault(step.path, fault.Only(step.method), step.after);
}

std::string RefusalName(const ::testing::TestParamInfo<std::tuple<RefusedStep, int>>& info) {
  return std::string(std::get<0>(info.param).name) + "_" + std::to_string(std::get<1>(info.param));
}

}  // namespace orch::testing
