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
  std::vector<WorkerState> Inspect(std::span<const std::string> targets, TimeBudget) override {
    std::vector<WorkerState> states;
    for (const std::string& target : targets) {
      seen.push_back(target);
      states.emplace_back(WorkerState::Health::kActive, name_);
    }
    return states;
  }

 private:
  std::string name_;
};

TEST(TargetTriggers, EachKindGoesToItsTriggerAndResultsKeepTheirPlace) {
  NamedTrigger spaces("space"), commands("command"), webhooks("webhook");
  TargetTriggers triggers(spaces, commands, webhooks);
  std::vector<StartRequest> requests(4);
  requests[0].target = "command:true";
  requests[1].target = "owner/retrain";
  requests[2].target = "webhook:https://hooks.example/run";
  requests[3].target = "hf-space:owner/other";
  std::vector<StartResult> results = triggers.Start(requests);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_EQ(results[0].detail, "command");
  EXPECT_EQ(results[1].detail, "space");
  EXPECT_EQ(results[2].detail, "webhook");
  EXPECT_EQ(results[3].detail, "space");
  EXPECT_EQ(spaces.seen, (std::vector<std::string>{"owner/retrain", "hf-space:owner/other"}));

  const std::vector<std::string> targets = {"webhook:https://hooks.example/run", "command:true"};
  std::vector<WorkerState> states = triggers.Inspect(targets, std::nullopt);
  EXPECT_EQ(states[0].detail, "webhook");
  EXPECT_EQ(states[1].detail, "command");
}

}  // namespace
}  // namespace orch
