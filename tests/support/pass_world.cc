#include "support/pass_world.h"

#include <gtest/gtest.h>

#include <utility>

#include "db/open_database.h"
#include "support/orchestrator_env.h"

namespace orch::testing {

void PassWorld::Open(const std::string& engine, std::string token, Backlog backlog) {
  token_ = std::move(token);
  database = AppDatabase::ForEngine(engine, dir.File("app.db"));
  database->CreateSchema();
  if (backlog == Backlog::kDepartmentDue) {
    database->AddMisclassified(20, "department");
    database->AddCorrectComplaints(100);
  }
  hub.SetToken(token_);
  env = OrchestratorEnv(hub, database->url(), token_);
}

void PassWorld::AddSpaces() {
  for (const char* space : {"owner/prepare", "owner/retrain_dept", "owner/retrain_urgency"})
    hub.AddSpace(space, "PAUSED");
}

ProcessResult PassWorld::RunOrchestrator(std::vector<std::string> args, std::chrono::milliseconds timeout) {
  args.insert(args.begin(), ORCH_BINARY);
  ProcessResult result = Subprocess::Run(args, env, dir.path().string(), timeout);
  EXPECT_FALSE(result.timed_out) << "the pass did not end\n" << result.err;
  EXPECT_EQ(result.out.find(token_), std::string::npos) << "the token leaked to stdout";
  EXPECT_EQ(result.err.find(token_), std::string::npos) << "the token leaked to stderr";
  return result;
}

std::unique_ptr<Subprocess> PassWorld::StartOrchestrator(std::vector<std::string> args) {
  args.insert(args.begin(), ORCH_BINARY);
  return std::make_unique<Subprocess>(std::move(args), env, dir.path().string());
}

LabelState PassWorld::StateOf(const std::string& label) {
  const std::vector<std::string> names = {label};
  return OpenStateStore(database->database_url())->LoadLabels(names).front();
}

}  // namespace orch::testing
