// hf-job: workers for tests that run the real binary against FakeHub: the targets a configuration
// names, and the behaviors that make the fake Hub's Jobs act as the orchestrator's workers do (a
// prepare job publishes the datasets of the labels its request names), and what they did.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "support/fake_hub.h"

namespace orch::testing {

inline constexpr char kPrepareJobImage[] = "ghcr.io/owner/prepare:1";
inline constexpr char kRetrainJobImage[] = "ghcr.io/owner/retrain:1";

// "hf-job:IMAGE prepare" and "hf-job:IMAGE retrain LABEL".
std::string PrepareJobTarget();
std::string RetrainJobTarget(const std::string& label);

// What a prepare job publishes once it runs, for the labels its request names (comma-separated).
using PrepareScript = std::function<std::vector<FakeHub::Publication>(const std::string& labels)>;

// Makes prepare jobs run as `behavior` says, and publish `script`'s datasets when they start
// running (the publications of the previous prepare job still pending are dropped, as a new run
// would).
void PrepareJobsPublish(FakeHub& hub, PrepareScript script,
                        FakeHubJobs::Behavior behavior = FakeHubJobs::Behavior::Run(std::chrono::milliseconds(0)));

// Every retrain job started, as (label, dataset version) -> how many.
std::map<std::pair<std::string, std::string>, int> RetrainJobsStarted(FakeHub& hub);

// The jobs of a request, found by the labels the orchestrator gave it.
std::vector<FakeHubJobs::Job> JobsOfRequest(FakeHub& hub, const std::string& orchestrator,
                                            const std::string& idempotency_key);

}  // namespace orch::testing
