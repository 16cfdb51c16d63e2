// A pass of one label (department) against a HostileServer that works as the Hub does, except at
// one step of the pass, which meets a misbehaviour: what tests/hostile_hub_test.cc and
// bench/bench_hostile.cc run.
#pragma once

#include <map>
#include <string>

#include "support/hostile_server.h"

namespace orch::testing {

// The steps of a pass that talk to the Hub.
enum class HostileStep {
  kMetadata,  // the metadata reads while waiting for the dataset (the baseline read before is spared)
  kRestart,   // the prepare Space's restart
  kRuntime,   // the prepare Space's runtime reads while waiting
};
const char* HostileStepName(HostileStep step);

inline constexpr const char* kHostileMetadataPath = "/datasets/owner/department/resolve/main/dataset_metadata.json";
inline constexpr const char* kHostileRestartPath = "/api/spaces/owner/prepare/restart";
inline constexpr const char* kHostileRuntimePath = "/api/spaces/owner/prepare/runtime";

// Makes `server` misbehave as `mode` at `step`, and answer everything else as the Hub would before a
// first publication: restarts 200 (BUILDING), runtime RUNNING, no dataset_metadata.json (404).
void ArrangeHostileHub(HostileServer& server, HostileServer::Mode mode, HostileStep step);

// The path of `step`'s requests, and how many of them arrive up to the first that misbehaves.
std::string HostilePath(HostileStep step);
int FirstHostileRequest(HostileStep step);

// The environment of the pass: the original's variables for the department label only, with
// POLL_INTERVAL 0.2, POLL_TIMEOUT 3, HTTP timeouts of 1 s and one quick retry (callers change them).
std::map<std::string, std::string> HostilePassEnv(const HostileServer& server, const std::string& database_url,
                                                  const std::string& token);

}  // namespace orch::testing
