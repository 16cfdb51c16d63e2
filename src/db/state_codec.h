// How the orchestrator's own rows are written and read back, for the PostgreSQL and SQLite stores
// alike: the SQL that selects and writes orchestrator_label_state and orchestrator_runs, the text
// each value is written as, and the checks that turn a row read back into a LabelState or RunRecord.
//
// Both stores exchange every value as text (NULL as nothing), so one encoder and one decoder, with
// one set of error messages, serve both engines.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "db/sql_dialect.h"
#include "db/state_store.h"

namespace orch {

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
// The orchestrator_runs row whose id is parameter 1, in DecodeRun's order.
std::string RunByIdSql(SqlDialect dialect);
// A row of RunHistorySql or RunByIdSql. Throws DatabaseError naming the run, the column and the bad value.
RunRecord DecodeRun(const SqlRow& row);

// 'it''s': a value as a SQL literal, for the repair statements error messages suggest (the
// stores never splice values into what they run).
std::string QuoteSqlText(std::string_view text);

}  // namespace orch
