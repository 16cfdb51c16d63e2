#include "workers/demo_database.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/count_sql.h"
#include "db/database.h"
#include "db/migrations.h"
#include "db/pg_session.h"
#include "db/sqlite_database.h"
#include "util/error.h"
#include "workers/application_schema.h"

namespace orch {

// One engine's way of writing and reading the application's tables.
class DemoDatabase::Writer {
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

  virtual ~Writer() = default;
  virtual SqlDialect dialect() const = 0;
  // In one transaction: reserves `count` new complaint ids and inserts make_row(id) for each.
  // `now` is every row's creation time, and reviewed rows' reviewed_at.
  virtual void InsertBatch(int64_t count, const std::string& now, const RowMaker& make_row) = 0;
  // Runs `sql`, which returns one row of `columns` integers.
  virtual std::vector<int64_t> QueryCounts(const std::string& sql, int columns) = 0;
};

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

class SqliteWriter final : public DemoDatabase::Writer {
 public:
  explicit SqliteWriter(const std::string& path) : path_(path) {
    sqlite3* raw = nullptr;
    const int status = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    db_.reset(raw);  // a handle comes back even when opening failed, and must be closed
    if (status != SQLITE_OK)
      throw DatabaseError("cannot open or create SQLite database " + path + ": " +
                          (db_ ? sqlite3_errmsg(db_.get()) : "out of memory"));
    sqlite3_busy_timeout(db_.get(), 5000);  // an orchestrator pass may be reading the file
    // A batch is one transaction: with SQLite's small default page cache, a big one would spill
    // pages to the file mid-transaction, syncing the journal each time. The cache only grows as used.
    Execute("PRAGMA cache_size = -262144", "sizing the page cache");  // 256 MiB at most
    Execute(ApplicationSchemaSql(SqlDialect::kSqlite), "creating the application's tables");
  }

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }

  void InsertBatch(int64_t count, const std::string& now, const RowMaker& make_row) override {
    Transaction transaction(*this);
    const int64_t first_id = QueryCounts("SELECT coalesce(max(id), 0) + 1 FROM complaints", 1)[0];
    SqliteStatement complaint = Prepare(std::string(kInsertComplaint));
    SqliteStatement review = Prepare(std::string(kInsertReview));
    for (int64_t id = first_id; id < first_id + count; ++id) {
      const Row row = make_row(id);
      InsertComplaint(complaint.get(), row, now);
      if (row.review) InsertReview(review.get(), row.id, *row.review, now);
    }
    transaction.Commit();
  }

  std::vector<int64_t> QueryCounts(const std::string& sql, int columns) override {
    SqliteStatement statement = Prepare(sql);
    if (sqlite3_step(statement.get()) != SQLITE_ROW) Fail("reading the application's counts");
    std::vector<int64_t> counts;
    for (int i = 0; i < columns; ++i) counts.push_back(sqlite3_column_int64(statement.get(), i));
    return counts;
  }

 private:
  // BEGIN IMMEDIATE now, ROLLBACK when left without Commit().
  class Transaction {
   public:
    explicit Transaction(SqliteWriter& writer) : writer_(writer) {
      writer_.Execute("BEGIN IMMEDIATE", "starting the demo batch");
    }
    ~Transaction() {
      if (open_) sqlite3_exec(writer_.db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void Commit() {
      writer_.Execute("COMMIT", "committing the demo batch");
      open_ = false;
    }

   private:
    SqliteWriter& writer_;
    bool open_ = true;
  };

  [[noreturn]] void Fail(std::string_view what) const {
    throw DatabaseError(std::string(what) + " failed on SQLite database " + path_ + ": " + sqlite3_errmsg(db_.get()));
  }

  void Execute(const std::string& sql, std::string_view what) {
    if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) Fail(what);
  }

  SqliteStatement Prepare(const std::string& sql) {
    sqlite3_stmt* raw = nullptr;
    const int status = sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &raw, nullptr);
    SqliteStatement statement(raw);
    if (status != SQLITE_OK) Fail("preparing " + sql);
    return statement;
  }

  // The text stays owned by the caller until the statement has been stepped.
  static void BindText(sqlite3_stmt* statement, int index, const std::optional<std::string_view>& text) {
    if (!text) {
      sqlite3_bind_null(statement, index);
      return;
    }
    sqlite3_bind_text(statement, index, text->data(), static_cast<int>(text->size()), SQLITE_STATIC);
  }

  void StepAndReset(sqlite3_stmt* statement, std::string_view what) {
    if (sqlite3_step(statement) != SQLITE_DONE) Fail(what);
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

  std::string path_;
  SqliteHandle db_;
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

void AppendComplaint(std::string& data, const DemoDatabase::Writer::Row& row, const std::string& now) {
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

class PostgresWriter final : public DemoDatabase::Writer {
 public:
  explicit PostgresWriter(const DatabaseUrl& url) : session_(url, "orchestrator-demo", PgAccess::kReadWrite) {
    // IF NOT EXISTS reports an existing table as a NOTICE, which libpq would print on stderr; the
    // texts are UTF-8 (Devanagari) whatever the client's locale says.
    session_.Execute("SET client_min_messages = warning; SET client_encoding = 'UTF8'", "configuring the demo session");
    session_.Execute(ApplicationSchemaSql(SqlDialect::kPostgres), "creating the application's tables");
  }

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }

  void InsertBatch(int64_t count, const std::string& now, const RowMaker& make_row) override {
    PgTransaction transaction(session_, "inserting the demo complaints");
    const std::vector<int64_t> ids = ReserveIds(count);
    for (size_t start = 0; start < ids.size(); start += kRowsPerCopy) {
      const size_t end = std::min(ids.size(), start + static_cast<size_t>(kRowsPerCopy));
      std::string complaints, reviews;
      for (size_t i = start; i < end; ++i) {
        const Row row = make_row(ids[i]);
        AppendComplaint(complaints, row, now);
        if (row.review) AppendReview(reviews, row.id, *row.review, now);
      }
      Copy(kCopyComplaints, complaints, "inserting the demo complaints");
      Copy(kCopyReviews, reviews, "inserting the demo misclassified_complaints rows");
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
    const std::vector<SqlRow> rows =
        session_.Query("SELECT nextval(pg_get_serial_sequence('complaints', 'id')) FROM generate_series(1, $1::integer)",
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

// ---------------------------------------------------------------------------------------------

std::unique_ptr<DemoDatabase::Writer> OpenWriter(const DatabaseUrl& url) {
  if (url.kind == DatabaseUrl::Kind::kPostgres) return std::make_unique<PostgresWriter>(url);
  return std::make_unique<SqliteWriter>(url.target);
}

// Who filed it, where, and how far it got: spread over a few values, the same for the same id.
DemoDatabase::Writer::Row RowFor(int64_t id, const Grievance& grievance, const Prediction& prediction,
                                 std::optional<MisclassificationReview> review) {
  DemoDatabase::Writer::Row row;
  row.id = id;
  row.citizen_id = 1000 + (id * 7919) % 5000;
  row.ward_id = 1 + (id * 31) % 32;
  row.status = kSchemaStatuses[static_cast<size_t>(id * 13 % static_cast<int64_t>(kSchemaStatuses.size()))];
  row.message = grievance.message;
  // The model's labels, replaced by the corrections a review has settled.
  const bool reviewed = review && review->reviewed;
  row.department = reviewed ? review->correct_department.value_or(prediction.department) : prediction.department;
  row.urgency = reviewed ? review->correct_urgency.value_or(prediction.urgency) : prediction.urgency;
  row.review = std::move(review);
  return row;
}

void Tally(DemoCounts& counts, const std::optional<MisclassificationReview>& review) {
  ++counts.complaints;
  if (!review) return;
  ++counts.misclassified_rows;
  counts.department += review->CountsFor("department") ? 1 : 0;
  counts.urgency += review->CountsFor("urgency") ? 1 : 0;
}

}  // namespace

DemoDataOptions DemoDataOptions::WithSeed(uint64_t seed) {
  DemoDataOptions options;
  options.grievances.seed = seed;
  options.model.seed = seed;
  options.reviews.seed = seed;
  return options;
}

DemoDatabase::DemoDatabase(const DatabaseUrl& url, DemoDataOptions options)
    : options_(options), writer_(OpenWriter(url)) {}

DemoDatabase::~DemoDatabase() = default;

DemoCounts DemoDatabase::AddBatch(int64_t count) { return AddBatch(count, options_); }

DemoCounts DemoDatabase::AddBatch(int64_t count, const DemoDataOptions& options) {
  if (count < 0) throw ConfigError("the demo cannot add a negative number of complaints: " + std::to_string(count));
  const GrievanceGenerator generator(options.grievances);
  const WeakModel model(options.model);
  const ReviewSimulation reviewers(options.reviews);
  const std::string now = FormatTimestamp(std::chrono::system_clock::now());
  DemoCounts inserted;
  writer_->InsertBatch(count, now, [&](int64_t id) {
    const Grievance grievance = generator.At(static_cast<uint64_t>(id));
    const Prediction prediction = model.Predict(grievance);
    std::optional<MisclassificationReview> review = reviewers.Review(grievance, prediction);
    Tally(inserted, review);
    return RowFor(id, grievance, prediction, std::move(review));
  });
  return inserted;
}

DemoCounts DemoDatabase::Counts() {
  const std::array<LabelColumns, 2> labels = {LabelColumns::Defaults("department"), LabelColumns::Defaults("urgency")};
  const std::string sql =
      "SELECT (SELECT count(*) FROM complaints), (SELECT count(*) FROM misclassified_complaints), m.* FROM (" +
      MisclassifiedCountSql(writer_->dialect(), labels) + ") AS m";
  const std::vector<int64_t> counts = writer_->QueryCounts(sql, 4);
  return {counts[0], counts[1], counts[2], counts[3]};
}

}  // namespace orch
