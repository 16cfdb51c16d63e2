#include "db/migrations.h"

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

constexpr Migration kMigrations[] = {
    {1, "label states, runs and the SQLite run lock", kPostgresV1, kSqliteV1},
};

}  // namespace

std::span<const Migration> Migrations() { return kMigrations; }

std::string_view MigrationsTableSql(SqlDialect dialect) {
  if (dialect == SqlDialect::kPostgres)
    return "CREATE TABLE IF NOT EXISTS orchestrator_schema_migrations "
           "(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)";
  return "CREATE TABLE IF NOT EXISTS orchestrator_schema_migrations "
         "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)";
}

}  // namespace orch
