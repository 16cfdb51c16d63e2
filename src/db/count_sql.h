// The SQL text of the counts, for each engine's dialect, and the checks of what comes back.
//
// Pure functions, so the exact statements are unit-testable without a database. Every column name
// is checked with IsValidIdentifier and double-quoted before it is spliced in; the configuration
// validates names long before they get here, so a bad one is a program error.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "db/database.h"
#include "db/sql_dialect.h"

namespace orch {

// Appended to errors about a missing table or column: the usual causes, and where to fix them.
inline constexpr std::string_view kSchemaHint =
    "does DATABASE_URL point at the application's database? columns can be renamed per label in the "
    "--config file";

// `"name"`. Throws DatabaseError when name is not a valid identifier.
std::string QuoteIdentifier(std::string_view name);

// One row, one column per label: the reviewed rows of misclassified_complaints whose correction is
// set and differs (NULL-safe) from the prediction. One scan of the table for all labels.
// Requires at least one label.
std::string MisclassifiedCountSql(SqlDialect dialect, std::span<const LabelColumns> labels);

// One row, one column per label: the complaints with the label set and no misclassified row at all.
// One anti-join (NOT EXISTS, never NOT IN, which a NULL complaint_id would empty). Requires a label.
std::string CorrectPoolCountSql(std::span<const LabelColumns> labels);

// A configured query as errors quote it: whitespace runs collapsed, cut after 120 characters.
std::string QuoteQuery(std::string_view sql);

// The count in `text` (a whole decimal integer >= 0, as a query returned it). Throws DatabaseError
// starting with `what` and saying what came back otherwise.
int64_t ParseCount(std::string_view text, std::string_view what);

}  // namespace orch
