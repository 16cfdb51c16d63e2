#include "triggers/target_triggers.h"

#include <gtest/gtest.h>

namespace orch {
namespace {

// Remembers what it was given and answers with its own name.
class NamedTrigger : public Trigger {
 public:
  explicit NamedTrigger(std::string name) : name_(std::move(name)) {}
  std::vector<std::string> seen;
  std::vector<StartResult> Start(std::span<const StartRequest> requests) override {
    std::vector<StartResult> results;
    for (const StartRequest& request : requests) {
      seen.push_back(request.target);
      results.push_back({true, name_});
    }
    return results;
  }
  std::vector<WorkerState> Inspect(std::span<const WorkerRef> workers, TimeBudget) override {
    std::vector<WorkerState> states;
    for (const WorkerRef& worker : workers) {
      seen.push_back(worker.target);
      states.emplace_back(WorkerState::Health::kActive, name_);
    }
    return states;
  }

 private:
  std::string name_;
};

TEST(TargetTriggers, EachKindGoesToItsTriggerAndResultsKeepTheirPlace) {
  NamedTrigger spaces("space"), commands("command"), webhooks("webhook"), jobs("job");
  TargetTriggers triggers(spaces, commands, webhooks, jobs);
  std::vector<StartRequest> requests(5);
  requests[0].target = "command:true";
  requests[1].target = "owner/retrain";
  requests[2].target = "webhook:https://hooks.example/run";
  requests[3].target = "hf-space:owner/other";
  requests[4].target = "hf-job:python:3.12 python -m retrain";
  std::vector<StartResult> results = triggers.Start(requests);
  ASSERT_EQ(results.size(), 5u);
  EXPECT_EQ(results[0].detail, "command");
  EXPECT_EQ(results[1].detail, "space");
  EXPECT_EQ(results[2].detail, "webhook");
  EXPECT_EQ(results[3].detail, "space");
  EXPECT_EQ(results[4].detail, "job");
  EXPECT_EQ(spaces.seen, (std::vector<std::string>{"owner/retrain", "hf-space:owner/other"}));

  const std::vector<WorkerRef> workers = {
      {"webhook:https://hooks.example/run"}, {"hf-job:python:3.12 python -m retrain"}, {"command:true"}};
  std::vector<WorkerState> states = triggers.Inspect(workers, std::nullopt);
  EXPECT_EQ(states[0].detail, "webhook");
  EXPECT_EQ(states[1].detail, "job");
  EXPECT_EQ(states[2].detail, "command");
}

}  // namespace
}  // namespace orch
