#include "db/migrations.h"

#include <iterator>
#include <string>

#include "util/error.h"

namespace orch {
namespace {

constexpr std::string_view kPostgresV1 = R"sql(
CREATE TABLE orchestrator_label_state (
  label                  TEXT PRIMARY KEY,
  phase                  TEXT NOT NULL CONSTRAINT orchestrator_label_state_phase_check
                         CHECK (phase IN ('idle', 'preparing', 'retraining')),
  baseline_version       TEXT,
  required_len           BIGINT,
  prepare_requested_at   TIMESTAMPTZ,
  prepare_confirmed      BOOLEAN NOT NULL DEFAULT false,
  dataset_version        TEXT,
  retrain_requested_at   TIMESTAMPTZ,
  retrain_confirmed      BOOLEAN NOT NULL DEFAULT false,
  last_retrained_version TEXT,
  last_retrained_at      TIMESTAMPTZ,
  updated_at             TIMESTAMPTZ NOT NULL
);
CREATE TABLE orchestrator_runs (
  id            BIGSERIAL PRIMARY KEY,
  started_at    TIMESTAMPTZ NOT NULL,
  finished_at   TIMESTAMPTZ,
  status        TEXT NOT NULL,
  dry_run       BOOLEAN NOT NULL,
  started_by    TEXT,
  github_run_id TEXT,
  commit_sha    TEXT,
  summary       JSONB
);
CREATE INDEX orchestrator_runs_started_at_idx ON orchestrator_runs (started_at);
CREATE TABLE orchestrator_lock (
  name        TEXT PRIMARY KEY,
  holder      TEXT NOT NULL,
  acquired_at TIMESTAMPTZ,
  expires_at  TIMESTAMPTZ NOT NULL
);
)sql";

// Times are TEXT ('2026-11-26T07:31:02.123Z'), booleans 0/1.
constexpr std::string_view kSqliteV1 = R"sql(
CREATE TABLE orchestrator_label_state (
  label                  TEXT PRIMARY KEY,
  phase                  TEXT NOT NULL CONSTRAINT orchestrator_label_state_phase_check
                         CHECK (phase IN ('idle', 'preparing', 'retraining')),
  baseline_version       TEXT,
  required_len           BIGINT,
  prepare_requested_at   TEXT,
  prepare_confirmed      BOOLEAN NOT NULL DEFAULT false,
  dataset_version        TEXT,
  retrain_requested_at   TEXT,
  retrain_confirmed      BOOLEAN NOT NULL DEFAULT false,
  last_retrained_version TEXT,
  last_retrained_at      TEXT,
  updated_at             TEXT NOT NULL
);
CREATE TABLE orchestrator_runs (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  started_at    TEXT NOT NULL,
  finished_at   TEXT,
  status        TEXT NOT NULL,
  dry_run       BOOLEAN NOT NULL,
  started_by    TEXT,
  github_run_id TEXT,
  commit_sha    TEXT,
  summary       TEXT
);
CREATE INDEX orchestrator_runs_started_at_idx ON orchestrator_runs (started_at);
CREATE TABLE orchestrator_lock (
  name        TEXT PRIMARY KEY,
  holder      TEXT NOT NULL,
  acquired_at TEXT,
  expires_at  TEXT NOT NULL
);
)sql";

// What paying only for new evidence needs (the reviewed corrections a cycle asked for, and those of
// the dataset last retrained), and `orchestrator label pause`.
constexpr std::string_view kPostgresV2 = R"sql(
ALTER TABLE orchestrator_label_state
  ADD COLUMN requested_misclassified      BIGINT,
  ADD COLUMN last_retrained_misclassified BIGINT,
  ADD COLUMN paused_at                    TIMESTAMPTZ,
  ADD COLUMN paused_reason                TEXT;
)sql";

constexpr std::string_view kSqliteV2 = R"sql(
ALTER TABLE orchestrator_label_state ADD COLUMN requested_misclassified BIGINT;
ALTER TABLE orchestrator_label_state ADD COLUMN last_retrained_misclassified BIGINT;
ALTER TABLE orchestrator_label_state ADD COLUMN paused_at TEXT;
ALTER TABLE orchestrator_label_state ADD COLUMN paused_reason TEXT;
)sql";

// The runs that hf-job: workers' starts are (a Job's id), so that a pass can watch the very run.
constexpr std::string_view kPostgresV3 = R"sql(
ALTER TABLE orchestrator_label_state
  ADD COLUMN prepare_run_id TEXT,
  ADD COLUMN retrain_run_id TEXT;
)sql";

constexpr std::string_view kSqliteV3 = R"sql(
ALTER TABLE orchestrator_label_state ADD COLUMN prepare_run_id TEXT;
ALTER TABLE orchestrator_label_state ADD COLUMN retrain_run_id TEXT;
)sql";

constexpr Migration kMigrations[] = {
    {1, "label states, runs and the SQLite run lock", kPostgresV1, kSqliteV1},
    {2, "new corrections per cycle, paused labels", kPostgresV2, kSqliteV2},
    {3, "the runs of workers that are Jobs", kPostgresV3, kSqliteV3},
};

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

int LatestSchemaVersion() { return std::size(kMigrations); }

void RequireLatestSchema(int version) {
  if (version >= LatestSchemaVersion()) return;
  throw DatabaseError("the orchestrator's tables are at schema version " + std::to_string(version) +
                      ", and this orchestrator reads version " + std::to_string(LatestSchemaVersion()) +
                      ": run `orchestrator migrate` (a pass also migrates before it starts)");
}

std::string_view MigrationsTableSql(SqlDialect dialect) {
  if (dialect == SqlDialect::kPostgres)
    return "CREATE TABLE IF NOT EXISTS orchestrator_schema_migrations "
           "(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)";
  return "CREATE TABLE IF NOT EXISTS orchestrator_schema_migrations "
         "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)";
}

}  // namespace orch
