#include "db/application_writer.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "db/application_schema.h"
#include "db/count_sql.h"
#include "db/pg_session.h"
#include "db/sqlite_session.h"
#include "util/error.h"

namespace orch {

bool MisclassificationReview::CountsFor(std::string_view label) const {
  if (label != "department" && label != "urgency") return false;
  const bool department = label == "department";
  const std::optional<std::string>& predicted = department ? predicted_department : predicted_urgency;
  const std::optional<std::string>& correct = department ? correct_department : correct_urgency;
  return reviewed && correct.has_value() && predicted != correct;
}

namespace {

// ---------------------------------------------------------------------------------------------
// SQLite: prepared statements stepped inside one IMMEDIATE transaction. On both engines every time
// column gets the batch's time, rather than the engine formatting `now` for each column of each row.

constexpr std::string_view kInsertComplaint =
    "INSERT INTO complaints (id, citizen_id, ward_id, current_status, message, department, urgency, "
    "date_submitted, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?8)";
constexpr std::string_view kInsertReview =
    "INSERT INTO misclassified_complaints (complaint_id, model_predicted_department, model_predicted_urgency, "
    "correct_department, correct_urgency, reported_by_admin_id, reviewed, reviewed_at, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

class SqliteWriter final : public ApplicationWriter {
 public:
  explicit SqliteWriter(const std::string& path) : session_(path, SqliteAccess::kCreate, SqliteTables::kApplication) {
    // A batch is one transaction: with SQLite's small default page cache, a big one would spill
    // pages to the file mid-transaction, syncing the journal each time. The cache only grows as used.
    session_.Execute("PRAGMA cache_size = -262144", "sizing the page cache");  // 256 MiB at most
    session_.Execute(ApplicationSchemaSql(SqlDialect::kSqlite), "creating the application's tables");
  }

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }

  void InsertBatch(int64_t count, const std::string& now, const RowMaker& make_row) override {
    SqliteTransaction transaction(session_, "inserting a batch of complaints");
    const int64_t first_id = QueryCounts("SELECT coalesce(max(id), 0) + 1 FROM complaints", 1)[0];
    SqliteStatement complaint = session_.Prepare(std::string(kInsertComplaint), {}, "preparing the complaints' insert");
    SqliteStatement review = session_.Prepare(std::string(kInsertReview), {}, "preparing the reviews' insert");
    for (int64_t id = first_id; id < first_id + count; ++id) {
      const Row row = make_row(id);
      InsertComplaint(complaint.get(), row, now);
      if (row.review) InsertReview(review.get(), row.id, *row.review, now);
    }
    transaction.Commit();
  }

  std::vector<int64_t> QueryCounts(const std::string& sql, int columns) override {
    constexpr std::string_view what = "reading the application's counts";
    SqliteStatement statement = session_.Prepare(sql, {}, what);
    if (!session_.Step(statement.get(), what)) throw DatabaseError(std::string(what) + " returned no row");
    std::vector<int64_t> counts;
    for (int i = 0; i < columns; ++i) counts.push_back(sqlite3_column_int64(statement.get(), i));
    return counts;
  }

 private:
  // The text stays owned by the caller until the statement has been stepped.
  static void BindText(sqlite3_stmt* statement, int index, const std::optional<std::string_view>& text) {
    if (!text) {
      sqlite3_bind_null(statement, index);
      return;
    }
    sqlite3_bind_text(statement, index, text->data(), static_cast<int>(text->size()), SQLITE_STATIC);
  }

  void StepAndReset(sqlite3_stmt* statement, std::string_view what) {
    session_.Step(statement, what);
    sqlite3_reset(statement);
  }

  void InsertComplaint(sqlite3_stmt* statement, const Row& row, const std::string& now) {
    sqlite3_bind_int64(statement, 1, row.id);
    sqlite3_bind_int64(statement, 2, row.citizen_id);
    sqlite3_bind_int64(statement, 3, row.ward_id);
    BindText(statement, 4, row.status);
    BindText(statement, 5, row.message);
    BindText(statement, 6, row.department);
    BindText(statement, 7, row.urgency);
    BindText(statement, 8, now);
    StepAndReset(statement, "inserting a complaint");
  }

  void InsertReview(sqlite3_stmt* statement, int64_t complaint_id, const MisclassificationReview& review,
                    const std::string& now) {
    sqlite3_bind_int64(statement, 1, complaint_id);
    BindText(statement, 2, review.predicted_department);
    BindText(statement, 3, review.predicted_urgency);
    BindText(statement, 4, review.correct_department);
    BindText(statement, 5, review.correct_urgency);
    sqlite3_bind_int64(statement, 6, review.reported_by_admin_id);
    sqlite3_bind_int(statement, 7, review.reviewed ? 1 : 0);
    BindText(statement, 8, review.reviewed ? std::optional<std::string_view>(now) : std::nullopt);
    BindText(statement, 9, now);
    StepAndReset(statement, "inserting a misclassified_complaints row");
  }

  SqliteSession session_;
};

// ---------------------------------------------------------------------------------------------
// PostgreSQL: COPY … FROM STDIN in the text format, inside one PgTransaction.

constexpr int64_t kRowsPerCopy = 10000;  // a few MB of COPY data at a time

constexpr std::string_view kCopyComplaints =
    "COPY complaints (id, citizen_id, ward_id, current_status, message, department, urgency, date_submitted, "
    "created_at, updated_at) FROM STDIN";
constexpr std::string_view kCopyReviews =
    "COPY misclassified_complaints (complaint_id, model_predicted_department, model_predicted_urgency, "
    "correct_department, correct_urgency, reported_by_admin_id, reviewed, reviewed_at, created_at) FROM STDIN";

// One COPY text-format field: backslash, tab and line ends escaped; NULL is \N.
void AppendField(std::string& line, const std::optional<std::string_view>& value, bool last = false) {
  if (!value) {
    line += "\\N";
  } else {
    for (char c : *value) {
      switch (c) {
        case '\\': line += "\\\\"; break;
        case '\t': line += "\\t"; break;
        case '\n': line += "\\n"; break;
        case '\r': line += "\\r"; break;
        default: line += c;
      }
    }
  }
  line += last ? '\n' : '\t';
}

void AppendComplaint(std::string& data, const ApplicationWriter::Row& row, const std::string& now) {
  AppendField(data, std::to_string(row.id));
  AppendField(data, std::to_string(row.citizen_id));
  AppendField(data, std::to_string(row.ward_id));
  AppendField(data, row.status);
  AppendField(data, row.message);
  AppendField(data, row.department);
  AppendField(data, row.urgency);
  AppendField(data, now);
  AppendField(data, now);
  AppendField(data, now, /*last=*/true);
}

void AppendReview(std::string& data, int64_t complaint_id, const MisclassificationReview& review,
                  const std::string& now) {
  AppendField(data, std::to_string(complaint_id));
  AppendField(data, review.predicted_department);
  AppendField(data, review.predicted_urgency);
  AppendField(data, review.correct_department);
  AppendField(data, review.correct_urgency);
  AppendField(data, std::to_string(review.reported_by_admin_id));
  AppendField(data, review.reviewed ? "t" : "f");
  AppendField(data, review.reviewed ? std::optional<std::string_view>(now) : std::nullopt);
  AppendField(data, now, /*last=*/true);
}

class PostgresWriter final : public ApplicationWriter {
 public:
  explicit PostgresWriter(const DatabaseUrl& url) : session_(url, "orchestrator-demo", PgAccess::kReadWrite) {
    // IF NOT EXISTS reports an existing table as a NOTICE, which libpq would print on stderr; the
    // texts are UTF-8 (Devanagari) whatever the client's locale says.
    session_.Execute("SET client_min_messages = warning; SET client_encoding = 'UTF8'", "configuring the session");
    session_.Execute(ApplicationSchemaSql(SqlDialect::kPostgres), "creating the application's tables");
  }

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }

  void InsertBatch(int64_t count, const std::string& now, const RowMaker& make_row) override {
    PgTransaction transaction(session_, "inserting complaints");
    const std::vector<int64_t> ids = ReserveIds(count);
    for (size_t start = 0; start < ids.size(); start += kRowsPerCopy) {
      const size_t end = std::min(ids.size(), start + static_cast<size_t>(kRowsPerCopy));
      std::string complaints, reviews;
      for (size_t i = start; i < end; ++i) {
        const Row row = make_row(ids[i]);
        AppendComplaint(complaints, row, now);
        if (row.review) AppendReview(reviews, row.id, *row.review, now);
      }
      Copy(kCopyComplaints, complaints, "inserting complaints");
      Copy(kCopyReviews, reviews, "inserting misclassified_complaints rows");
    }
    transaction.Commit();
  }

  std::vector<int64_t> QueryCounts(const std::string& sql, int columns) override {
    const std::vector<SqlRow> rows = session_.Query(sql, {}, "reading the application's counts");
    std::vector<int64_t> counts;
    for (int i = 0; i < columns; ++i)
      counts.push_back(ParseCount(rows.at(0).at(static_cast<size_t>(i)).value_or(""), "reading the counts"));
    return counts;
  }

 private:
  // New ids from the complaints' own sequence, so the application's later inserts never collide.
  std::vector<int64_t> ReserveIds(int64_t count) {
    const std::vector<SqlRow> rows = session_.Query(
        "SELECT nextval(pg_get_serial_sequence('complaints', 'id')) FROM generate_series(1, $1::integer)",
        {std::to_string(count)}, "reserving complaint ids");
    std::vector<int64_t> ids;
    ids.reserve(rows.size());
    for (const SqlRow& row : rows) ids.push_back(ParseCount(row.at(0).value_or(""), "reserving complaint ids"));
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  // Sends `data` through `copy_sql`; the server checks every row as an INSERT would.
  void Copy(std::string_view copy_sql, const std::string& data, std::string_view what) {
    if (data.empty()) return;
    constexpr PgSession::Tables kTables = PgSession::Tables::kApplication;
    pg_conn* conn = session_.raw();
    const PgResult started(PQexec(conn, std::string(copy_sql).c_str()));
    if (PQresultStatus(started.get()) != PGRES_COPY_IN) session_.Fail(what, started.get(), kTables);
    if (PQputCopyData(conn, data.data(), static_cast<int>(data.size())) != 1 || PQputCopyEnd(conn, nullptr) != 1)
      session_.Fail(what, nullptr, kTables);
    const PgResult finished(PQgetResult(conn));
    // libpq ends every command's results with a null one; the next command needs it consumed.
    for (PgResult rest(PQgetResult(conn)); rest; rest.reset(PQgetResult(conn))) {
    }
    if (PQresultStatus(finished.get()) != PGRES_COMMAND_OK) session_.Fail(what, finished.get(), kTables);
  }

  PgSession session_;
};

}  // namespace

std::unique_ptr<ApplicationWriter> NewSqliteApplicationWriter(const std::string& path) {
  return std::make_unique<SqliteWriter>(path);
}

std::unique_ptr<ApplicationWriter> NewPostgresApplicationWriter(const DatabaseUrl& url) {
  return std::make_unique<PostgresWriter>(url);
}

}  // namespace orch
