// `orchestrator unlock` and `orchestrator label reset|pause|resume`: the operations that otherwise
// need SQL.
#include <algorithm>
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
  const Config config = LoadConfigAndWarn(SourcesFrom(common));
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

namespace {

// What one `orchestrator label` action does to a label's state: the state after, or nothing when
// there is nothing to change, and what to tell the person either way.
struct LabelChange {
  std::optional<LabelState> after;
  std::string message;
};

LabelChange Reset(const LabelState& before, const LabelOptions& options, WallTime now) {
  LabelState after;  // idle, with what was retrained last and a pause kept
  after.label = before.label;
  after.last_retrained_version = before.last_retrained_version;
  after.last_retrained_at = before.last_retrained_at;
  after.last_retrained_misclassified = before.last_retrained_misclassified;
  after.paused_at = before.paused_at;
  after.paused_reason = before.paused_reason;
  after.updated_at = now;
  return {after, options.label + ": reset from " + PhaseName(before.phase) + " to idle; the next pass decides anew"};
}

LabelChange Pause(const LabelState& before, const LabelOptions& options, WallTime now) {
  if (before.paused_at)
    return {std::nullopt, options.label + " is already paused, since " + FormatTimestamp(*before.paused_at) + " (" +
                              before.paused_reason.value_or("") + "); nothing was changed"};
  LabelState after = before;
  after.paused_at = now;
  after.paused_reason = options.reason;
  after.updated_at = now;
  return {after, options.label + ": paused; passes count it but do not prepare it until `orchestrator label resume " +
                     options.label + "`" +
                     (before.phase == Phase::kIdle
                          ? std::string()
                          : std::string(" (its cycle in flight, ") + PhaseName(before.phase) + ", still ends)")};
}

LabelChange Resume(const LabelState& before, const LabelOptions& options, WallTime now) {
  if (!before.paused_at) return {std::nullopt, options.label + " is not paused; nothing was changed"};
  LabelState after = before;
  after.paused_at.reset();
  after.paused_reason.reset();
  after.updated_at = now;
  return {after, options.label + ": resumed; the next pass prepares it when its data is there"};
}

struct LabelAction {
  std::string_view name;
  LabelChange (*change)(const LabelState& before, const LabelOptions& options, WallTime now);
};

constexpr LabelAction kLabelActions[] = {{"reset", Reset}, {"pause", Pause}, {"resume", Resume}};

}  // namespace

int LabelCommand(const CommonOptions& common, const LabelOptions& options) {
  const auto action = std::find_if(std::begin(kLabelActions), std::end(kLabelActions),
                                   [&](const LabelAction& candidate) { return candidate.name == options.action; });
  if (action == std::end(kLabelActions))
    throw ConfigError("unknown label action " + QuoteForMessage(options.action) + ": use reset, pause or resume");
  Config config = LoadConfigAndWarn(SourcesFrom(common));
  KeepOnlyLabels(config, {options.label});
  if (options.reason.empty())
    throw ConfigError("--reason is empty: say why the label is " + std::string(options.action) +
                      (options.action == "reset" ? "" : "d") + ", for the history");
  std::unique_ptr<StateStore> store = OpenStateStore(config.database);
  store->Migrate();
  std::unique_ptr<RunLock> lock = TakeLock(config);
  const std::vector<std::string> names = {options.label};
  const LabelState before = store->LoadLabels(names).front();
  const WallTime now = std::chrono::system_clock::now();
  const LabelChange change = action->change(before, options, now);
  if (!change.after) {
    std::cout << change.message << "\n";
    return kExitOk;
  }

  RunRecord run;
  run.started_at = now;
  run.status = "running";
  run.started_by = "cli";
  const int64_t id = store->BeginRun(run);
  store->SaveLabel(*change.after);
  const nlohmann::ordered_json summary = {
      {"action", "label " + options.action},
      {"label", options.label},
      {"reason", options.reason},
      {"phase_before", PhaseName(before.phase)},
      {"dataset_version_before", before.dataset_version ? nlohmann::ordered_json(*before.dataset_version) : nullptr}};
  store->FinishRun(id, std::chrono::system_clock::now(), "label_" + options.action,
                   summary.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  std::cout << change.message << " (recorded as pass " << id << ")\n";
  return kExitOk;
}

}  // namespace orch
