// Refusing one step of a publication to the fake Hub, for tests that go through every step of
// `orchestrator prepare --hub hf://...` or `retrain --models hf://...` with every kind of refusal.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <tuple>

#include "support/fake_hub.h"

namespace orch::testing {

// A step of a publication, by the requests that make it.
struct RefusedStep {
  const char* name;
  const char* path;      // a substring of the API path; "" for the storage origin's uploads
  const char* method;    // the requests of the step
  int after = 0;         // its requests let through first (the second commit onto a branch, say)
  bool required = true;  // a publication cannot be made without it
};

// From the step's first request on (after `after`), every one answers `status`: 429 with
// Retry-After and RateLimit of 0 s, any other status with the Hub's JSON error; the storage
// origin answers S3's XML error of the status.
void RefuseStep(FakeHub& hub, const RefusedStep& step, int status);

// "tag_401": the name of a test of one step and one status.
std::string RefusalName(const ::testing::TestParamInfo<std::tuple<RefusedStep, int>>& info);

}  // namespace orch::testing
