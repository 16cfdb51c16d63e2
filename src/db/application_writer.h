// Writing the application's tables, for the demo's simulated application and the tests only.
//
// The orchestrator itself never writes complaints or misclassified_complaints: it only counts them
// (database.h) and reads them for the prepare worker (training_rows.h). `orchestrator demo` needs a
// database that looks like the application's after a weak first model has run for a while; this
// is how it fills one, on either engine. A batch is one transaction: prepared statements on SQLite,
// COPY on PostgreSQL (a read-write PgSession). 100,000 complaints take about a second on SQLite,
// two on PostgreSQL.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/database_url.h"
#include "db/sql_dialect.h"

namespace orch {

// One misclassified_complaints row (nullopt is NULL).
struct MisclassificationReview {
  std::optional<std::string> predicted_department;
  std::optional<std::string> predicted_urgency;
  std::optional<std::string> correct_department;
  std::optional<std::string> correct_urgency;
  int reported_by_admin_id = 0;
  bool reviewed = false;  // reviewed_at is set exactly when this is

  // Whether the orchestrator counts this row for `label` ("department" or "urgency"): reviewed,
  // corrected, and the correction differs from the prediction.
  bool CountsFor(std::string_view label) const;
};

// One engine's way of writing and reading the application's tables.
class ApplicationWriter {
 public:
  // One complaint to insert, with the reviewers' row if there is one.
  struct Row {
    int64_t id = 0;
    int64_t citizen_id = 0;
    int64_t ward_id = 0;
    std::string_view status;
    std::string message;
    std::string department;  // the label currently assigned
    std::string urgency;
    std::optional<MisclassificationReview> review;
  };
  using RowMaker = std::function<Row(int64_t id)>;

  virtual ~ApplicationWriter() = default;
  virtual SqlDialect dialect() const = 0;
  // In one transaction: reserves `count` new complaint ids and inserts make_row(id) for each.
  // `now` is every row's creation time, and reviewed rows' reviewed_at.
  virtual void InsertBatch(int64_t count, const std::string& now, const RowMaker& make_row) = 0;
  // Runs `sql`, which returns one row of `columns` integers.
  virtual std::vector<int64_t> QueryCounts(const std::string& sql, int columns) = 0;
};

// The writers of each engine (OpenApplicationWriter in open_database.h chooses): each creates the
// application's tables and index when absent. Throws DatabaseError when it cannot.
std::unique_ptr<ApplicationWriter> NewSqliteApplicationWriter(const std::string& path);
std::unique_ptr<ApplicationWriter> NewPostgresApplicationWriter(const DatabaseUrl& url);

}  // namespace orch
