// The application's own tables (complaints, misclassified_complaints), as DDL for each engine.
//
// These are the grievance system's tables (its SQLAlchemy models), which the orchestrator only
// reads. The DDL is here for whoever plays the application: the demo's simulated application and
// the tests' application database create their tables from it, so both engines get the same columns
// and CHECK constraints. On SQLite the id is the rowid (INTEGER PRIMARY KEY), booleans are stored as
// 0/1, timestamps as ISO 8601 UTC text ('2026-11-26T07:31:02.123Z'), and each CHECK's IN list is
// spelled as the equivalent chain of ORs, which SQLite checks several times faster.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "db/count_sql.h"

namespace orch {

// The values the schema's CHECK constraints allow, in the order of the workers' label ids
// (department 0..3, urgency 0..2).
inline constexpr std::array<std::string_view, 4> kSchemaDepartments = {
    "Municipal Governance & Community Services", "Education, Health & Social Welfare",
    "Infrastructure, Utilities & Natural Resources", "Security & Law Enforcement"};
inline constexpr std::array<std::string_view, 3> kSchemaUrgencies = {"NORMAL", "URGENT", "HIGHLY URGENT"};
inline constexpr std::array<std::string_view, 4> kSchemaStatuses = {"PENDING", "IN PROCESS", "RESOLVED", "REJECTED"};

// The index the correct-pool anti-join needs; the orchestrator's `check` looks for one like it.
inline constexpr std::string_view kComplaintIdIndexName = "ix_misclassified_complaints_complaint_id";

// CREATE TABLE complaints and misclassified_complaints (two statements). With `if_absent`, each
// is CREATE TABLE IF NOT EXISTS, so running it on a database that has them changes nothing.
std::string ApplicationTablesSql(SqlDialect dialect, bool if_absent);

// CREATE INDEX ix_misclassified_complaints_complaint_id ON misclassified_complaints (complaint_id),
// the same on both engines.
std::string ComplaintIdIndexSql(bool if_absent);

// The tables and the index, every statement IF NOT EXISTS: the schema created when absent.
std::string ApplicationSchemaSql(SqlDialect dialect);

}  // namespace orch
