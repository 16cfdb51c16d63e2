#include "db/state_codec.h"

#include <algorithm>

#include "config/label_name.h"
#include "util/error.h"
#include "util/strings.h"
#include "util/time.h"

namespace orch {
namespace {

enum class Kind { kText, kInteger, kBoolean, kTimestamp, kJson };

struct Column {
  std::string_view name;
  Kind kind;
  bool not_null = false;
};

// orchestrator_label_state, in the order of SqlRow.
enum LabelField {
  kLabel,
  kPhase,
  kBaselineVersion,
  kRequiredLen,
  kPrepareRequestedAt,
  kPrepareConfirmed,
  kDatasetVersion,
  kRetrainRequestedAt,
  kRetrainConfirmed,
  kLastRetrainedVersion,
  kLastRetrainedAt,
  kUpdatedAt,
  kRequestedMisclassified,
  kLastRetrainedMisclassified,
  kPausedAt,
  kPausedReason,
  kPrepareRunId,
  kRetrainRunId,
  kLabelFieldCount
};
constexpr Column kLabelColumns[] = {
    {"label", Kind::kText, true},
    {"phase", Kind::kText, true},
    {"baseline_version", Kind::kText},
    {"required_len", Kind::kInteger},
    {"prepare_requested_at", Kind::kTimestamp},
    {"prepare_confirmed", Kind::kBoolean, true},
    {"dataset_version", Kind::kText},
    {"retrain_requested_at", Kind::kTimestamp},
    {"retrain_confirmed", Kind::kBoolean, true},
    {"last_retrained_version", Kind::kText},
    {"last_retrained_at", Kind::kTimestamp},
    {"updated_at", Kind::kTimestamp, true},
    {"requested_misclassified", Kind::kInteger},
    {"last_retrained_misclassified", Kind::kInteger},
    {"paused_at", Kind::kTimestamp},
    {"paused_reason", Kind::kText},
    {"prepare_run_id", Kind::kText},
    {"retrain_run_id", Kind::kText},
};
static_assert(std::size(kLabelColumns) == kLabelFieldCount);

// orchestrator_runs, in the order of SqlRow.
enum RunField {
  kId,
  kStartedAt,
  kFinishedAt,
  kStatus,
  kDryRun,
  kStartedBy,
  kGithubRunId,
  kCommitSha,
  kSummary,
  kRunFieldCount
};
constexpr Column kRunColumns[] = {
    {"id", Kind::kInteger, true},      {"started_at", Kind::kTimestamp, true},
    {"finished_at", Kind::kTimestamp}, {"status", Kind::kText, true},
    {"dry_run", Kind::kBoolean, true}, {"started_by", Kind::kText},
    {"github_run_id", Kind::kText},    {"commit_sha", Kind::kText},
    {"summary", Kind::kJson},
};
static_assert(std::size(kRunColumns) == kRunFieldCount);

// PostgreSQL hands timestamps over in FormatTimestamp's text whatever the session's TimeZone and
// DateStyle, and JSONB as its text.
std::string SelectExpression(const Column& column, SqlDialect dialect) {
  const std::string name(column.name);
  if (dialect == SqlDialect::kSqlite) return name;
  if (column.kind == Kind::kTimestamp)
    return "to_char(" + name + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";
  if (column.kind == Kind::kJson) return name + "::text";
  return name;
}

std::string SelectList(std::span<const Column> columns, SqlDialect dialect) {
  std::string list;
  for (const Column& column : columns) list += (list.empty() ? "" : ", ") + SelectExpression(column, dialect);
  return list;
}

// A value that cannot be read back; turned into a DatabaseError naming the row by the decoder.
struct BadValue {
  size_t field;
  std::string problem;
};

std::string Shown(const std::optional<std::string>& value) { return value ? QuoteForMessage(*value) : "NULL"; }

// `column = 'value'`, the condition of a repair statement, when the value can be written in it as
// it is: at most 100 bytes, no control byte. Otherwise the value shown quoted and escaped, so that
// a message never spans lines nor grows with what a row holds.
std::string RowCondition(std::string_view column, std::string_view value) {
  const bool writable = value.size() <= 100 && std::none_of(value.begin(), value.end(), [](char c) {
                          return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
                        });
  return std::string(column) + " = " + (writable ? QuoteSqlText(value) : "the text " + QuoteForMessage(value));
}

// Reads typed values out of a row, throwing BadValue for one that does not parse.
class RowReader {
 public:
  RowReader(const SqlRow& row, std::span<const Column> columns) : row_(row), columns_(columns) {
    if (row.size() != columns.size()) throw DatabaseError("unexpected number of columns in a row of orchestrator_*");
  }

  std::optional<std::string> Text(size_t field) const {
    if (!row_[field] && columns_[field].not_null) throw BadValue{field, "which is not allowed"};
    return row_[field];
  }

  std::optional<int64_t> Integer(size_t field) const {
    if (!Text(field)) return std::nullopt;
    const std::optional<int64_t> value = ParseInteger(*row_[field]);
    if (!value) throw BadValue{field, "which is not a whole number"};
    return value;
  }

  bool Boolean(size_t field) const {
    const std::string text = ToLower(Text(field).value_or(""));
    if (text == "t" || text == "true" || text == "1") return true;
    if (text == "f" || text == "false" || text == "0") return false;
    throw BadValue{field, "which is not a boolean (true/false, 1/0)"};
  }

  std::optional<WallTime> Timestamp(size_t field) const {
    if (!Text(field)) return std::nullopt;
    std::optional<WallTime> time = ParseTimestamp(*row_[field]);
    if (!time) throw BadValue{field, "which is not a timestamp like '2026-11-26T07:31:02.123Z'"};
    return time;
  }

 private:
  const SqlRow& row_;
  std::span<const Column> columns_;
};

LabelState ReadLabelState(const RowReader& reader) {
  LabelState state;
  state.label = reader.Text(kLabel).value_or("");
  const std::string phase = reader.Text(kPhase).value_or("");
  const std::optional<Phase> parsed = PhaseFromName(phase);
  if (!parsed) throw BadValue{kPhase, "which is not idle, preparing or retraining"};
  state.phase = *parsed;
  state.baseline_version = reader.Text(kBaselineVersion);
  state.required_len = reader.Integer(kRequiredLen);
  state.prepare_requested_at = reader.Timestamp(kPrepareRequestedAt);
  state.prepare_confirmed = reader.Boolean(kPrepareConfirmed);
  state.dataset_version = reader.Text(kDatasetVersion);
  state.retrain_requested_at = reader.Timestamp(kRetrainRequestedAt);
  state.retrain_confirmed = reader.Boolean(kRetrainConfirmed);
  state.last_retrained_version = reader.Text(kLastRetrainedVersion);
  state.last_retrained_at = reader.Timestamp(kLastRetrainedAt);
  state.updated_at = *reader.Timestamp(kUpdatedAt);
  state.requested_misclassified = reader.Integer(kRequestedMisclassified);
  state.last_retrained_misclassified = reader.Integer(kLastRetrainedMisclassified);
  state.paused_at = reader.Timestamp(kPausedAt);
  state.paused_reason = reader.Text(kPausedReason);
  state.prepare_run_id = reader.Text(kPrepareRunId);
  state.retrain_run_id = reader.Text(kRetrainRunId);
  return state;
}

// What makes a state that parses still impossible; nothing when it is consistent.
std::optional<BadValue> InconsistencyOf(const LabelState& state) {
  if (state.required_len && *state.required_len < 0) return BadValue{kRequiredLen, "which is negative"};
  if (state.requested_misclassified && *state.requested_misclassified < 0)
    return BadValue{kRequestedMisclassified, "which is negative"};
  if (state.last_retrained_misclassified && *state.last_retrained_misclassified < 0)
    return BadValue{kLastRetrainedMisclassified, "which is negative"};
  if (state.phase == Phase::kPreparing && !state.prepare_requested_at)
    return BadValue{kPrepareRequestedAt, "while phase is preparing, which needs the time of the prepare request"};
  return std::nullopt;
}

// The statement that repairs a label's row: the label starts its cycle over.
std::string LabelRepair(const std::string& label, size_t field) {
  const Column& column = kLabelColumns[field];
  const std::string where = " WHERE " + RowCondition("label", label);
  const std::string remove = "DELETE FROM orchestrator_label_state" + where + " (the label starts over as idle)";
  if (field == kPhase)
    return "UPDATE orchestrator_label_state SET phase = 'idle'" + where + " (the label starts its cycle over), or " +
           remove;
  if (column.not_null) return "DELETE the row: " + remove;
  return "UPDATE orchestrator_label_state SET phase = 'idle', " + std::string(column.name) + " = NULL" + where +
         " (the label starts its cycle over), or " + remove;
}

[[noreturn]] void FailLabelRow(const SqlRow& row, const BadValue& bad) {
  const std::string label = row[kLabel].value_or("");
  throw DatabaseError("the orchestrator's state of label " + QuoteForMessage(label) +
                      " in orchestrator_label_state cannot be used: column " +
                      std::string(kLabelColumns[bad.field].name) + " holds " + Shown(row[bad.field]) + ", " +
                      bad.problem + ". Repair it by hand with " + LabelRepair(label, bad.field));
}

std::optional<std::string> OptionalTimestamp(const std::optional<WallTime>& time) {
  if (!time) return std::nullopt;
  return FormatTimestamp(*time);
}

std::optional<std::string> NullIfEmpty(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return text;
}

std::optional<std::string> OptionalInteger(const std::optional<int64_t>& value) {
  if (!value) return std::nullopt;
  return std::to_string(*value);
}

}  // namespace

int64_t SingleInteger(const std::vector<SqlRow>& rows, std::string_view what) {
  if (rows.size() != 1 || rows[0].size() != 1)
    throw DatabaseError(std::string(what) + " returned an unexpected shape of result");
  const std::optional<std::string>& text = rows[0][0];
  const std::optional<int64_t> value = text ? ParseInteger(*text) : std::nullopt;
  if (!value)
    throw DatabaseError(std::string(what) + " returned " + Shown(text) + " where a whole number was expected");
  return *value;
}

std::string QuoteSqlText(std::string_view text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return quoted + "'";
}

std::string LabelStateSelectSql(SqlDialect dialect) {
  return "SELECT " + SelectList(kLabelColumns, dialect) + " FROM orchestrator_label_state";
}

std::string LabelStateUpsertSql(SqlDialect dialect) {
  std::string names, values, updates;
  for (size_t i = 0; i < std::size(kLabelColumns); ++i) {
    const std::string name(kLabelColumns[i].name);
    const std::string separator = i == 0 ? "" : ", ";
    names += separator + name;
    values += separator + Placeholder(dialect, static_cast<int>(i) + 1);
    if (i != kLabel) updates += (updates.empty() ? "" : ", ") + name + " = excluded." + name;
  }
  return "INSERT INTO orchestrator_label_state (" + names + ") VALUES (" + values +
         ") ON CONFLICT (label) DO UPDATE SET " + updates;
}

SqlRow EncodeLabelState(const LabelState& state, SqlDialect dialect) {
  SqlRow row(kLabelFieldCount);
  row[kLabel] = state.label;
  row[kPhase] = PhaseName(state.phase);
  row[kBaselineVersion] = state.baseline_version;
  row[kRequiredLen] = OptionalInteger(state.required_len);
  row[kPrepareRequestedAt] = OptionalTimestamp(state.prepare_requested_at);
  row[kPrepareConfirmed] = BooleanText(state.prepare_confirmed, dialect);
  row[kDatasetVersion] = state.dataset_version;
  row[kRetrainRequestedAt] = OptionalTimestamp(state.retrain_requested_at);
  row[kRetrainConfirmed] = BooleanText(state.retrain_confirmed, dialect);
  row[kLastRetrainedVersion] = state.last_retrained_version;
  row[kLastRetrainedAt] = OptionalTimestamp(state.last_retrained_at);
  row[kUpdatedAt] = FormatTimestamp(state.updated_at);
  row[kRequestedMisclassified] = OptionalInteger(state.requested_misclassified);
  row[kLastRetrainedMisclassified] = OptionalInteger(state.last_retrained_misclassified);
  row[kPausedAt] = OptionalTimestamp(state.paused_at);
  row[kPausedReason] = state.paused_reason;
  row[kPrepareRunId] = state.prepare_run_id;
  row[kRetrainRunId] = state.retrain_run_id;
  // The engine never makes such a state; writing it would only move the failure to the next load.
  if (const std::optional<BadValue> bad = InconsistencyOf(state))
    throw DatabaseError("not saving the state of label " + QuoteForMessage(state.label) + ": column " +
                        std::string(kLabelColumns[bad->field].name) + " would hold " + Shown(row[bad->field]) + ", " +
                        bad->problem);
  return row;
}

LabelState DecodeLabelState(const SqlRow& row) {
  const RowReader reader(row, kLabelColumns);
  try {
    LabelState state = ReadLabelState(reader);
    if (const std::optional<BadValue> bad = InconsistencyOf(state)) throw *bad;
    return state;
  } catch (const BadValue& bad) {
    FailLabelRow(row, bad);
  }
}

std::vector<LabelState> LabelStatesFor(std::span<const std::string> labels, const std::vector<SqlRow>& rows) {
  std::vector<LabelState> states;
  for (const std::string& label : labels) {
    const auto row = std::find_if(rows.begin(), rows.end(), [&](const SqlRow& r) { return r[kLabel] == label; });
    if (row != rows.end()) {
      states.push_back(DecodeLabelState(*row));
    } else {
      LabelState idle;  // nothing recorded yet
      idle.label = label;
      states.push_back(std::move(idle));
    }
  }
  return states;
}

std::string RunInsertSql(SqlDialect dialect) {
  std::string names, values;
  for (size_t i = kStartedAt; i < std::size(kRunColumns); ++i) {
    const std::string separator = i == kStartedAt ? "" : ", ";
    names += separator + std::string(kRunColumns[i].name);
    values += separator + Placeholder(dialect, static_cast<int>(i));
  }
  return "INSERT INTO orchestrator_runs (" + names + ") VALUES (" + values + ")";
}

SqlRow EncodeRun(const RunRecord& run, SqlDialect dialect) {
  return {FormatTimestamp(run.started_at),   OptionalTimestamp(run.finished_at), run.status,
          BooleanText(run.dry_run, dialect), NullIfEmpty(run.started_by),        NullIfEmpty(run.github_run_id),
          NullIfEmpty(run.commit),           NullIfEmpty(run.summary_json)};
}

std::string RunFinishSql(SqlDialect dialect) {
  const auto p = [dialect](int n) { return Placeholder(dialect, n); };
  return "UPDATE orchestrator_runs SET finished_at = " + p(1) + ", status = " + p(2) + ", summary = " + p(3) +
         " WHERE id = " + p(4);
}

std::string RunHistorySql(SqlDialect dialect) {
  const std::string limit = dialect == SqlDialect::kPostgres ? "$1" : "CAST(?1 AS INTEGER)";
  return "SELECT " + SelectList(kRunColumns, dialect) +
         " FROM orchestrator_runs ORDER BY started_at DESC, id DESC LIMIT " + limit;
}

std::string RunByIdSql(SqlDialect dialect) {
  const std::string id = dialect == SqlDialect::kPostgres ? "$1" : "CAST(?1 AS INTEGER)";
  return "SELECT " + SelectList(kRunColumns, dialect) + " FROM orchestrator_runs WHERE id = " + id;
}

RunRecord DecodeRun(const SqlRow& row) {
  const RowReader reader(row, kRunColumns);
  try {
    RunRecord run;
    run.id = *reader.Integer(kId);
    run.started_at = *reader.Timestamp(kStartedAt);
    run.finished_at = reader.Timestamp(kFinishedAt);
    run.status = reader.Text(kStatus).value_or("");
    run.dry_run = reader.Boolean(kDryRun);
    run.started_by = reader.Text(kStartedBy).value_or("");
    run.github_run_id = reader.Text(kGithubRunId).value_or("");
    run.commit = reader.Text(kCommitSha).value_or("");
    run.summary_json = reader.Text(kSummary).value_or("");
    return run;
  } catch (const BadValue& bad) {
    const std::string id = row[kId].value_or("NULL");
    throw DatabaseError("run " + QuoteForMessage(id) + " in orchestrator_runs cannot be read: column " +
                        std::string(kRunColumns[bad.field].name) + " holds " + Shown(row[bad.field]) + ", " +
                        bad.problem + ". Repair it by hand, or DELETE FROM orchestrator_runs WHERE " +
                        RowCondition("id", id));
  }
}

}  // namespace orch
