// Reading a query's rows as PostgreSQL streams them: COPY (query) TO STDOUT in text format.
//
// libpq hands over one row at a time (PQgetCopyData), so millions of rows pass through in the
// memory of one, where a PGresult would hold them all and a cursor a batch of them. Each row is
// split into its fields and unescaped (COPY's text format: tab-separated, \N for NULL, backslash
// escapes for control characters and the backslash itself) before it reaches the caller.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "db/pg_session.h"

namespace orch {

// One field of a row; nothing for NULL. Valid only until the callback returns.
using CopyField = std::optional<std::string_view>;

// Runs COPY (`query`) TO STDOUT on `session` and calls on_row with the fields of each row, in the
// order the query returns them. Throws DatabaseError naming `what` when the statement fails, a row
// does not have `columns` fields, or the connection breaks. When on_row throws, the statement is
// cancelled and the session left usable, and the exception passes through.
void CopyOut(PgSession& session, const std::string& query, std::string_view what, size_t columns,
             const std::function<void(std::span<const CopyField>)>& on_row);

// Splits one row of COPY's text format (`line`, its final newline optional) into its fields.
// Fields without a backslash point into `line`; unescaped ones into `buffer`, which is reused.
// False when the row has a field count other than fields.size() or a backslash ends a field.
bool ParseCopyTextRow(std::string_view line, std::span<CopyField> fields, std::string& buffer);

}  // namespace orch
