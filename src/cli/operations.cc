// `orchestrator unlock` and `orchestrator label reset`: the operations that otherwise need SQL.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/sources.h"
#include "config/label_name.h"
#include "db/open_database.h"
#include "runner/pass_runner.h"
#include "util/error.h"
#include "util/time.h"

namespace orch {
namespace {

// Each operation takes the run lock, as a pass does, so it never changes what a pass is using.
std::unique_ptr<RunLock> TakeLock(const Config& config) {
  std::unique_ptr<RunLock> lock = OpenRunLock(config.database, config.name, HostAndPid(),
                                              std::chrono::seconds(static_cast<long>(config.lock_lease)));
  if (!lock->TryAcquire())
    throw Error("a pass holds the run lock (" + lock->Holder().description +
                    "): try again when it has finished, or see `orchestrator unlock`",
                kExitLocked);
  return lock;
}

}  // namespace

int UnlockCommand(const CommonOptions& common) {
  const Config config = LoadConfig(SourcesFrom(common));
  OpenStateStore(config.database)->Migrate();  // the lease table comes with the schema
  std::unique_ptr<RunLock> lock = OpenRunLock(config.database, config.name, HostAndPid(),
                                              std::chrono::seconds(static_cast<long>(config.lock_lease)));
  const RunLock::UnlockResult result = lock->Unlock();
  switch (result.kind) {
    case RunLock::UnlockResult::Kind::kFree:
      std::cout << "the run lock " << QuoteForMessage(config.name) << " is free: nothing to do\n";
      return kExitOk;
    case RunLock::UnlockResult::Kind::kFreed:
      std::cout << "freed the run lock " << QuoteForMessage(config.name) << " left by " << result.holder
                << ", whose lease had expired\n";
      return kExitOk;
    case RunLock::UnlockResult::Kind::kHeld: break;
  }
  std::cerr << "orchestrator: the run lock " << QuoteForMessage(config.name)
            << " is held by a live pass: " << result.holder
            << ". Nothing was changed; wait for the pass to end (on PostgreSQL a lock dies with its session, "
               "so a stuck one ends with SELECT pg_terminate_backend(pid))\n";
  return kExitLocked;
}

int LabelResetCommand(const CommonOptions& common, const LabelResetOptions& options) {
  Config config = LoadConfig(SourcesFrom(common));
  KeepOnlyLabels(config, {options.label});
  if (options.reason.empty()) throw ConfigError("--reason is empty: say why the label is reset, for the history");
  std::unique_ptr<StateStore> store = OpenStateStore(config.database);
  store->Migrate();
  std::unique_ptr<RunLock> lock = TakeLock(config);
  const std::vector<std::string> names = {options.label};
  const LabelState before = store->LoadLabels(names).front();
  LabelState after;  // idle, with what was retrained last kept
  after.label = before.label;
  after.last_retrained_version = before.last_retrained_version;
  after.last_retrained_at = before.last_retrained_at;
  after.updated_at = std::chrono::system_clock::now();

  RunRecord run;
  run.started_at = after.updated_at;
  run.status = "running";
  run.started_by = "cli";
  const int64_t id = store->BeginRun(run);
  store->SaveLabel(after);
  const nlohmann::ordered_json summary = {
      {"action", "label reset"},
      {"label", options.label},
      {"reason", options.reason},
      {"phase_before", PhaseName(before.phase)},
      {"dataset_version_before", before.dataset_version ? nlohmann::ordered_json(*before.dataset_version) : nullptr}};
  store->FinishRun(id, std::chrono::system_clock::now(), "label_reset",
                   summary.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  std::cout << options.label << ": reset from " << PhaseName(before.phase) << " to idle (recorded as pass " << id
            << "); the next pass decides anew\n";
  return kExitOk;
}

}  // namespace orch
