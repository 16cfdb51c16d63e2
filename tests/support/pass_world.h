// What a test of the real binary's passes stands on: a directory to run in, the application's
// database on one engine, the fake Hub taking one token, and the environment the binary gets
// (OrchestratorEnv: the Spaces and datasets it names, fast polling and retries).
//
// A fixture derives from it, calls Open() in SetUp, then changes the Hub, the database or `env` as
// its case needs. RunOrchestrator() checks for every pass what every such test wants: it ended by
// itself, and the token appears nowhere in what it printed.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "db/state_store.h"
#include "support/app_database.h"
#include "support/fake_hub.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"

namespace orch::testing {

class PassWorld {
 public:
  // What Open() puts in the database besides its tables.
  enum class Backlog {
    kNone,
    // 20 reviewed department misclassifications (THRESHOLD_DEPARTMENT in OrchestratorEnv) and 100
    // correctly classified complaints to sample from: one label due for a cycle.
    kDepartmentDue,
  };

  // The database on `engine` ("sqlite" or "postgres"; the caller skips the test first when
  // PostgreSQL is not available), the Hub taking `token` alone, and `env` pointing at both.
  void Open(const std::string& engine, std::string token, Backlog backlog = Backlog::kDepartmentDue);
  // The Spaces OrchestratorEnv names, paused: owner/prepare, owner/retrain_dept and owner/retrain_urgency.
  void AddSpaces();

  // `orchestrator args...` run to its end in `dir` with `env`, killed after `timeout`.
  ProcessResult RunOrchestrator(std::vector<std::string> args,
                                std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // The same, started and left running.
  std::unique_ptr<Subprocess> StartOrchestrator(std::vector<std::string> args);
  // The label's state as the passes left it in the database.
  LabelState StateOf(const std::string& label);

  TempDir dir;
  std::unique_ptr<AppDatabase> database;
  FakeHub hub;  // after the database: stopped first, so no job it runs outlives the database
  std::map<std::string, std::string> env;

 private:
  std::string token_;
};

}  // namespace orch::testing
