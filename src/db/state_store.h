// The orchestrator's own memory, kept in the application's database next to the counts: each
// label's phase in the prepare/retrain cycle, and one row per pass.
//
// It only ever creates and writes tables named orchestrator_*; it never writes the application's
// tables. Every Save is committed when it returns, so a pass killed at any moment leaves a state
// the next pass can resume from.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/database_url.h"
#include "util/time.h"

namespace orch {

enum class Phase { kIdle, kPreparing, kRetraining };
const char* PhaseName(Phase phase);                         // "idle", "preparing", "retraining"
std::optional<Phase> PhaseFromName(std::string_view name);  // nothing for anything else

// One row of orchestrator_label_state.
struct LabelState {
  std::string label;
  Phase phase = Phase::kIdle;
  std::optional<std::string> baseline_version;   // version_tag before the prepare request
  std::optional<int64_t> required_len;           // dataset_len the prepare request was for
  std::optional<WallTime> prepare_requested_at;  // committed before the prepare restart
  bool prepare_confirmed = false;                // the restart was answered 200
  std::optional<std::string> dataset_version;    // the new version seen (retraining)
  std::optional<WallTime> retrain_requested_at;  // committed before the retrain restart
  bool retrain_confirmed = false;                // the retrain restart was answered 200
  std::optional<std::string> last_retrained_version;
  std::optional<WallTime> last_retrained_at;
  // The reviewed corrections (misclassified rows) counted when this cycle's prepare was asked for,
  // and those of the dataset last retrained: what is new since is what MIN_NEW_ROWS weighs.
  // Nothing for cycles recorded before these were kept.
  std::optional<int64_t> requested_misclassified;
  std::optional<int64_t> last_retrained_misclassified;
  // `orchestrator label pause`: since when and why the label is counted but never prepared.
  std::optional<WallTime> paused_at;
  std::optional<std::string> paused_reason;
  // The runs this cycle's prepare and the label's last retrain started, for workers whose starts are
  // runs of their own ("namespace/job id" for a Hugging Face Job); nothing for the other workers.
  std::optional<std::string> prepare_run_id;
  std::optional<std::string> retrain_run_id;
  WallTime updated_at{};
};

// One row of orchestrator_runs.
struct RunRecord {
  int64_t id = 0;
  WallTime started_at{};
  std::optional<WallTime> finished_at;
  std::string status;  // "running", "ok", "failed", "cancelled", "locked"
  bool dry_run = false;
  std::string started_by;     // "schedule", "manual", "push", … (GITHUB_EVENT_NAME) or "cli"
  std::string github_run_id;  // "" when not under GitHub Actions
  std::string commit;         // GITHUB_SHA, "" when absent
  std::string summary_json;   // the pass's JSON summary ("" while running)
};

class StateStore {
 public:
  virtual ~StateStore() = default;

  // Applies the migrations not yet applied, in order, each in its own transaction. Idempotent.
  // Returns the versions applied by this call (empty when already up to date).
  virtual std::vector<int> Migrate() = 0;
  // The schema version in the database (0 when no orchestrator table exists yet).
  virtual int SchemaVersion() = 0;

  // The state of each label named (labels without a row come back as idle, with no versions).
  // Throws DatabaseError for a row that cannot be read back (an unknown phase written by hand…),
  // naming the label and the column.
  virtual std::vector<LabelState> LoadLabels(std::span<const std::string> labels) = 0;
  // Inserts or replaces each label's row, updated_at set by the caller, all in one transaction:
  // committed together on return, or not at all.
  virtual void SaveLabels(std::span<const LabelState> states) = 0;
  void SaveLabel(const LabelState& state) { SaveLabels(std::span<const LabelState>(&state, 1)); }

  // Records a pass that starts; returns its id.
  virtual int64_t BeginRun(const RunRecord& run) = 0;
  // Records how the pass ended.
  virtual void FinishRun(int64_t id, WallTime finished_at, const std::string& status,
                         const std::string& summary_json) = 0;
  // The last `limit` passes, newest first.
  virtual std::vector<RunRecord> History(int limit) = 0;
  // The pass recorded under `id`, or nothing.
  virtual std::optional<RunRecord> FindRun(int64_t id) = 0;
};

// Who holds the run lock, for messages: "host:pid (since 2026-11-26T07:31:02Z)" on PostgreSQL,
// "host:pid (lease until …)" on SQLite, or "unknown".
struct LockHolder {
  std::string description;
};

// One orchestrator at a time per database and name. PostgreSQL: a session advisory lock keyed by
// the name (held by the connection: a killed process releases it at once). SQLite: a lease row
// with an expiry, taken in a write transaction and renewed while the pass runs, so a lease left
// by a killed process expires by itself.
class RunLock {
 public:
  virtual ~RunLock() = default;
  // Takes the lock if free. Never blocks for long (no waiting on the holder).
  virtual bool TryAcquire() = 0;
  // Who holds it now (call after TryAcquire failed).
  virtual LockHolder Holder() = 0;
  // Extends the lease (SQLite), or checks that the session still holds the lock (PostgreSQL).
  // Returns false when the lock was lost: the lease expired and another process took it, or the
  // connection that held it is gone.
  virtual bool Renew() = 0;
  // Releases the lock; also done by the destructor.
  virtual void Release() = 0;

  // `orchestrator unlock`: frees a lock that no live pass holds. On SQLite, a lease that has
  // expired (its pass was killed) is deleted, and a live one is left alone; on PostgreSQL a lock
  // dies with its session, so there is never a stale one, and a held one is only described.
  struct UnlockResult {
    enum class Kind { kFree, kFreed, kHeld } kind = Kind::kFree;
    std::string holder;  // who held it (kFreed) or holds it (kHeld)
  };
  virtual UnlockResult Unlock() = 0;

  // How long a lease lasts without renewal, for a lock that must be renewed (SQLite); nothing for
  // a lock that lasts as long as its session (PostgreSQL).
  virtual std::optional<std::chrono::seconds> lease() const { return std::nullopt; }
};

}  // namespace orch
