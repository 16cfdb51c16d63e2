#include "triggers/command_trigger.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <sstream>
#include <thread>

#include "support/engine_fakes.h"
#include "support/temp_dir.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;

StartRequest Request(const std::string& command, const std::string& label = "department",
                     const std::string& version = "v2") {
  StartRequest request;
  request.target = "command:" + command;
  request.label = label;
  request.required_len = 40;
  request.baseline_version = "v1";
  request.dataset_version = version;
  request.idempotency_key = IdempotencyKey(label, version);
  return request;
}

// Asks until the worker is no longer active; a process exit cannot be waited on from here
// without reaping it, so this polls against a deadline.
WorkerState InspectUntilDone(CommandTrigger& trigger, const std::string& target) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  WorkerState state;
  do {
    state = trigger.Inspect(std::vector<WorkerRef>{{target}}, std::nullopt).front();
    if (state.health != WorkerState::Health::kActive) return state;
    std::this_thread::yield();
  } while (std::chrono::steady_clock::now() < deadline);
  return state;
}

TEST(CommandTrigger, AWorkerSeesOnlyTheEnvironmentItIsGivenAndItsLogIsTheOwnersOnly) {
  TempDir dir;
  testing::FakeClock clock;
  // This process's environment (HOME, the test runner's variables...) does not reach the worker.
  CommandTrigger trigger(dir.File("logs"), {"PATH=/usr/bin:/bin", "DATABASE_URL=sqlite:///x.db"}, clock);
  const StartRequest request = Request("env");
  StartResult result = trigger.Start(std::span<const StartRequest>(&request, 1)).front();
  ASSERT_TRUE(result.ok) << result.detail;
  WorkerState state = InspectUntilDone(trigger, request.target);
  ASSERT_EQ(state.health, WorkerState::Health::kFinished) << state.detail;
  const std::string log = state.detail.substr(state.detail.find("log ") + 4);
  std::vector<std::string> names;
  std::istringstream lines(testing::ReadFile(log));
  for (std::string line; std::getline(lines, line);) names.push_back(line.substr(0, line.find('=')));
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"DATABASE_URL", "ORCHESTRATOR_BASELINE_VERSION",
                                             "ORCHESTRATOR_DATASET_VERSION", "ORCHESTRATOR_IDEMPOTENCY_KEY",
                                             "ORCHESTRATOR_LABEL", "ORCHESTRATOR_REQUIRED_LEN", "PATH"}));
  struct stat info {};
  ASSERT_EQ(::stat(log.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u) << "a worker's output may hold what it was given";
}

TEST(CommandTrigger, StartsTheWorkerWithTheRequestInItsEnvironmentAndLogsItsOutput) {
  TempDir dir;
  testing::FakeClock clock;
  CommandTrigger trigger(dir.File("logs"), {"PATH=/usr/bin:/bin"}, clock);
  const StartRequest request = Request(
      "sh -c 'echo label=$ORCHESTRATOR_LABEL len=$ORCHESTRATOR_REQUIRED_LEN base=$ORCHESTRATOR_BASELINE_VERSION "
      "version=$ORCHESTRATOR_DATASET_VERSION key=$ORCHESTRATOR_IDEMPOTENCY_KEY; "
      "echo \"{\\\"decision\\\": \\\"accepted\\\"}\"'");
  StartResult result = trigger.Start(std::span<const StartRequest>(&request, 1)).front();
  ASSERT_TRUE(result.ok) << result.detail;
  WorkerState state = InspectUntilDone(trigger, request.target);
  EXPECT_EQ(state.health, WorkerState::Health::kFinished) << state.detail;
  EXPECT_EQ(state.evidence, WorkerState::Evidence::kProcess) << "an exit seen, not a stage";
  EXPECT_EQ(state.decision, R"({"decision":"accepted"})");
  const std::string log = state.detail.substr(state.detail.find("log ") + 4);
  EXPECT_EQ(testing::ReadFile(log), "label=department len=40 base=v1 version=v2 key=" + request.idempotency_key +
                                        "\n{\"decision\": \"accepted\"}\n");
}

TEST(CommandTrigger, ANonZeroExitFailsWithTheLastLinesOfTheLog) {
  TempDir dir;
  testing::FakeClock clock;
  CommandTrigger trigger(dir.File("logs"), {"PATH=/usr/bin:/bin"}, clock);
  const StartRequest request = Request("sh -c 'for i in 1 2 3 4 5 6 7; do echo line$i; done; echo oops >&2; exit 3'");
  ASSERT_TRUE(trigger.Start(std::span<const StartRequest>(&request, 1)).front().ok);
  WorkerState state = InspectUntilDone(trigger, request.target);
  EXPECT_EQ(state.health, WorkerState::Health::kFailed);
  EXPECT_NE(state.detail.find("exited with status 3"), std::string::npos) << state.detail;
  EXPECT_NE(state.detail.find("line7\noops"), std::string::npos) << state.detail;
  EXPECT_EQ(state.detail.find("line2"), std::string::npos) << "only the last lines: " << state.detail;
}

TEST(CommandTrigger, AProgramThatCannotStartIsAFailedStart) {
  TempDir dir;
  testing::FakeClock clock;
  CommandTrigger trigger(dir.File("logs"), {"PATH=/usr/bin:/bin"}, clock);
  const StartRequest request = Request("/nonexistent/worker --flag");
  StartResult result = trigger.Start(std::span<const StartRequest>(&request, 1)).front();
  // posix_spawnp reports a missing program either at once or as exit status 127.
  if (result.ok) {
    EXPECT_EQ(InspectUntilDone(trigger, request.target).health, WorkerState::Health::kFailed);
  } else {
    EXPECT_NE(result.detail.find("/nonexistent/worker"), std::string::npos) << result.detail;
  }
}

TEST(CommandTrigger, ALaterPassSeesAWorkerAnEarlierPassStarted) {
  TempDir dir;
  testing::FakeClock clock;
  const StartRequest request = Request("sleep 30");
  pid_t pid = 0;
  {
    CommandTrigger first(dir.File("logs"), {"PATH=/usr/bin:/bin"}, clock);
    StartResult result = first.Start(std::span<const StartRequest>(&request, 1)).front();
    ASSERT_TRUE(result.ok) << result.detail;
    pid = std::stoi(result.detail.substr(4));
  }
  CommandTrigger later(dir.File("logs"), {"PATH=/usr/bin:/bin"}, clock);
  WorkerState running = later.Inspect(std::vector<WorkerRef>{{request.target}}, std::nullopt).front();
  EXPECT_EQ(running.health, WorkerState::Health::kActive) << running.detail;
  EXPECT_NE(running.detail.find("earlier pass"), std::string::npos);
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  ASSERT_EQ(waitpid(pid, nullptr, 0), pid);  // this test process is still its parent
  WorkerState ended = later.Inspect(std::vector<WorkerRef>{{request.target}}, std::nullopt).front();
  EXPECT_EQ(ended.health, WorkerState::Health::kFinished) << ended.detail;
  const std::string never = "command:never started";
  EXPECT_EQ(later.Inspect(std::vector<WorkerRef>{{never}}, std::nullopt).front().health,
            WorkerState::Health::kFinished);
}

TEST(CommandTrigger, AStartRecordThatCannotBeReadLeavesTheWorkerUnknownNotStartedAgain) {
  TempDir dir;
  testing::FakeClock clock;
  const StartRequest request = Request("true");
  {
    CommandTrigger first(dir.File("logs"), {"PATH=/usr/bin:/bin"}, clock);
    ASSERT_TRUE(first.Start(std::span<const StartRequest>(&request, 1)).front().ok);
  }
  std::string record;
  for (const auto& entry : std::filesystem::directory_iterator(dir.File("logs")))
    if (entry.path().extension() == ".json") record = entry.path();
  ASSERT_FALSE(record.empty());
  std::filesystem::remove(record);
  ASSERT_EQ(mkfifo(record.c_str(), 0600), 0);  // a plain read would block on it for ever
  CommandTrigger later(dir.File("logs"), {"PATH=/usr/bin:/bin"}, clock);
  WorkerState state = later.Inspect(std::vector<WorkerRef>{{request.target}}, std::nullopt).front();
  EXPECT_EQ(state.health, WorkerState::Health::kUnknown) << state.detail;
  EXPECT_NE(state.detail.find("is a FIFO (named pipe), not a regular file"), std::string::npos) << state.detail;
}

TEST(CommandTrigger, EachStartHasALogOfItsOwn) {
  TempDir dir;
  testing::FakeClock clock;
  CommandTrigger trigger(dir.File("logs"), {"PATH=/usr/bin:/bin"}, clock);
  const StartRequest request = Request("true");
  std::string first = trigger.Start(std::span<const StartRequest>(&request, 1)).front().detail;
  InspectUntilDone(trigger, request.target);
  std::string second = trigger.Start(std::span<const StartRequest>(&request, 1)).front().detail;
  InspectUntilDone(trigger, request.target);
  EXPECT_NE(first.substr(first.find("log ")), second.substr(second.find("log ")));
}

TEST(LastJsonLine, FindsTheLastObjectLine) {
  EXPECT_EQ(LastJsonLine("training...\n{\"a\": 1}\nnot json\n{\"b\": 2}\ntrailing words"), R"({"b":2})");
  EXPECT_EQ(LastJsonLine("{broken\nplain"), "");
  EXPECT_EQ(LastJsonLine(""), "");
}

}  // namespace
}  // namespace orch
