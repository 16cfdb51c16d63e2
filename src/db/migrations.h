// The orchestrator's own schema, shared by the PostgreSQL and SQLite stores: the versioned
// migrations that create its tables, how their values are written as text, and how a row read back
// is checked and turned into a LabelState or RunRecord.
//
// Every table is named orchestrator_*. Times are TIMESTAMPTZ on PostgreSQL and, on SQLite, TEXT in
// ISO 8601 UTC with milliseconds ('2026-11-26T07:31:02.123Z'), so people can read them in the
// sqlite3 shell. Both stores exchange every value as text (NULL as nothing), so one encoder and one
// decoder, with one set of error messages, serve both engines.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "db/count_sql.h"
#include "db/state_store.h"

namespace orch {

inline constexpr std::string_view kMigrationsTable = "orchestrator_schema_migrations";
inline constexpr std::string_view kLabelStateTable = "orchestrator_label_state";
inline constexpr std::string_view kRunsTable = "orchestrator_runs";
inline constexpr std::string_view kLockTable = "orchestrator_lock";

// One step of the schema. Applied at most once per database, in its own transaction, and
// recorded in orchestrator_schema_migrations.
struct Migration {
  int version;
  std::string_view description;
  std::string_view postgres_sql;  // one or more statements, no parameters
  std::string_view sqlite_sql;

  std::string_view Sql(SqlDialect dialect) const {
    return dialect == SqlDialect::kPostgres ? postgres_sql : sqlite_sql;
  }
};

// Every migration, in the order they apply; versions are 1, 2, 3, … without gaps.
std::span<const Migration> Migrations();

// CREATE TABLE orchestrator_schema_migrations (version INTEGER PRIMARY KEY, applied_at …).
std::string_view MigrationsTableSql(SqlDialect dialect);

// "$3" on PostgreSQL, "?3" on SQLite: the n-th (1-based) bound parameter.
std::string Placeholder(SqlDialect dialect, int n);

// '2026-11-26T07:31:02.123Z': UTC, the time truncated to the millisecond.
std::string FormatTimestamp(WallTime time);
// FormatTimestamp's form, and the forms people type in the sqlite3 shell: a space instead of the
// 'T' ('2026-11-26 07:31:02', as datetime('now') writes), a fraction of 0 to 9 digits (cut to the
// millisecond), and 'Z', '+HH:MM', '-HH:MM' or no zone at all (UTC). Nothing for anything else.
std::optional<WallTime> ParseTimestamp(std::string_view text);

// One row as both stores hand it over: every value as text, NULL as nothing.
using SqlRow = std::vector<std::optional<std::string>>;

// The integer a query returned as its one row of one column. Throws DatabaseError starting with
// `what` for any other result.
int64_t SingleInteger(const std::vector<SqlRow>& rows, std::string_view what);

// SELECT of every orchestrator_label_state column in the order DecodeLabelState reads them
// (PostgreSQL's timestamps converted to FormatTimestamp's text). No WHERE clause.
std::string LabelStateSelectSql(SqlDialect dialect);
// INSERT … ON CONFLICT (label) DO UPDATE of every column, taking EncodeLabelState's parameters.
std::string LabelStateUpsertSql(SqlDialect dialect);
// The parameters of LabelStateUpsertSql. Throws DatabaseError for a state that could not be read
// back (a negative required_len, preparing without prepare_requested_at): a program error.
SqlRow EncodeLabelState(const LabelState& state, SqlDialect dialect);
// The row LabelStateSelectSql returned. Throws DatabaseError naming the label, the column and the
// bad value, with the statement that repairs the row, when the row was edited into nonsense.
LabelState DecodeLabelState(const SqlRow& row);
// The state of each of `labels`, in that order, from the rows of LabelStateSelectSql: decoded when
// the label has a row (rows of other labels are not looked at), idle otherwise.
std::vector<LabelState> LabelStatesFor(std::span<const std::string> labels, const std::vector<SqlRow>& rows);

// INSERT of a new orchestrator_runs row (id left to the database), taking EncodeRun's parameters.
std::string RunInsertSql(SqlDialect dialect);
// The parameters of RunInsertSql; empty strings are written as NULL.
SqlRow EncodeRun(const RunRecord& run, SqlDialect dialect);
// UPDATE of a run's finished_at (1), status (2) and summary (3, NULL when empty) by id (4).
std::string RunFinishSql(SqlDialect dialect);
// The `limit` (parameter 1) newest orchestrator_runs rows, newest first, in DecodeRun's order.
std::string RunHistorySql(SqlDialect dialect);
// A row of RunHistorySql. Throws DatabaseError naming the run, the column and the bad value.
RunRecord DecodeRun(const SqlRow& row);

// 'it''s': a value as a SQL literal, for the repair statements error messages suggest (the
// stores never splice values into what they run).
std::string QuoteSqlText(std::string_view text);

// true/false as each engine's BOOLEAN column takes it as text ("true"/"false", 1/0).
std::string BooleanText(bool value, SqlDialect dialect);

}  // namespace orch
