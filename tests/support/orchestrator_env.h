// The environment a test gives the real binary: the original's variables pointing at a fake Hub
// and a test database, with polling and retries fast enough for a test.
#pragma once

#include <map>
#include <string>

#include "support/fake_hub.h"

namespace orch::testing {

// department (THRESHOLD 20, Spaces owner/retrain_dept, dataset owner/department) and urgency
// (THRESHOLD 10, owner/retrain_urgency, owner/urgency); prepare Space owner/prepare.
std::map<std::string, std::string> OrchestratorEnv(const FakeHub& hub, const std::string& database_url,
                                                   const std::string& token);

}  // namespace orch::testing
