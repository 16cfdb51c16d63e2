// The application's rows a dataset is built from, as the prepare worker reads them.
//
// The orchestrator counts rows (db/database.h); the prepare worker reads the very rows it counts:
// the reviewed misclassifications with their corrected label and the complaint's text, and the pool
// of correctly classified complaints it samples from. The same predicates as the counts (see
// db/count_sql.cc), the same column names from the configuration, only reads. PostgreSQL and
// SQLite adapters implement this interface; the worker's unit tests pass a fake. Rows stream through
// callbacks (PostgreSQL: COPY ... TO STDOUT; SQLite: a statement stepped row by row), so the worker
// holds only what it keeps of each row.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/database_url.h"
#include "db/count_sql.h"
#include "db/database.h"

namespace orch {

// The distinct label values met while reading, each with a small index: rows carry the index, not a
// copy of the value (a pool of millions of complaints has a handful of distinct labels).
class ClassNames {
 public:
  // The index of `name`, added when new. Indices count up from 0 in the order names are first met.
  uint32_t IndexOf(std::string_view name);
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
  std::map<std::string, uint32_t, std::less<>> index_;
  uint32_t last_ = 0;  // the index found last: rows mostly repeat a few values
};

// A misclassified row, as the read hands it over: valid only until the callback returns.
struct LabeledText {
  int64_t id = 0;         // misclassified_complaints.id
  uint32_t label = 0;     // index into the read's ClassNames
  std::string_view text;  // complaints.message as stored; "" when the complaint is missing
};

// A complaint of the correct pool, without its text (only the sampled ones' texts are read).
struct PoolEntry {
  int64_t complaint_id = 0;  // complaints.id
  uint32_t label = 0;        // index into the read's ClassNames
};

// The reads stream: each row is handed to a callback as the database returns it, and none is kept
// by the adapter, so reading millions of rows takes the memory of one (and of the engine's own
// buffers). A callback may throw; the read then stops and the exception passes through.
class TrainingRows {
 public:
  virtual ~TrainingRows() = default;

  // Reads between BeginSnapshot and EndSnapshot see one state of the database (one read
  // transaction), so a complaint cannot be both in the pool and misclassified. EndSnapshot never
  // throws; use SnapshotScope.
  virtual void BeginSnapshot() = 0;
  virtual void EndSnapshot() noexcept = 0;

  // Every row of misclassified_complaints that is reviewed, has a correction, and whose prediction
  // differs from it (NULL-safe): the rows the orchestrator counts, in the order the database finds
  // cheapest (no sort: the worker's result does not depend on it). The complaint's message is
  // joined on complaint_id.
  virtual void ReadMisclassified(const LabelColumns& columns, ClassNames& classes,
                                 const std::function<void(const LabeledText&)>& on_row) = 0;

  // Every complaint with the label set and no row at all in misclassified_complaints: the pool the
  // orchestrator counts, in the order the database finds cheapest.
  virtual void ReadCorrectPool(const LabelColumns& columns, ClassNames& classes,
                               const std::function<void(const PoolEntry&)>& on_entry) = 0;

  // How many rows ReadMisclassified would hand over: one scan, no texts.
  virtual int64_t CountMisclassified(const LabelColumns& columns) = 0;

  // Another reader that sees this one's snapshot, to read on another thread at the same time (the
  // worker reads the pool there while it reads the misclassified rows here); it is in the snapshot
  // already (do not call its BeginSnapshot or EndSnapshot) and must be destroyed before this one's
  // EndSnapshot. Call it before any read of the snapshot. Nothing when the engine cannot share its
  // snapshot, or would gain nothing from a second reader (SQLite reads in this process, on the same
  // CPU).
  virtual std::unique_ptr<TrainingRows> ShareSnapshot() { return nullptr; }

  // The message of each complaint in `ids`, which must be strictly ascending (else
  // std::invalid_argument): on_message(i, message of ids[i]) for every i in order, "" for a
  // complaint that is gone. The message is valid only until the callback returns.
  virtual void ReadMessages(std::span<const int64_t> ids,
                            const std::function<void(size_t index, std::string_view message)>& on_message) = 0;
};

// Throws std::invalid_argument unless `ids` is strictly ascending (ReadMessages' precondition).
void RequireAscendingIds(std::span<const int64_t> ids);

// Whether the messages of `ids` (ascending) are read faster by reading every complaint from the
// first id to the last and skipping the others than by looking each one up: when they are at least
// a quarter of that range (a lookup costs a few times what a row of a range costs).
bool DenseIds(std::span<const int64_t> ids);

// Holds a snapshot for the life of the object.
class SnapshotScope {
 public:
  explicit SnapshotScope(TrainingRows& rows) : rows_(rows) { rows_.BeginSnapshot(); }
  ~SnapshotScope() { rows_.EndSnapshot(); }
  SnapshotScope(const SnapshotScope&) = delete;
  SnapshotScope& operator=(const SnapshotScope&) = delete;

 private:
  TrainingRows& rows_;
};

// The statements both adapters run, for each engine's dialect (pure, so they are unit-testable).
// Misclassified rows: (misclassified id, corrected value, message or NULL).
std::string MisclassifiedRowsSql(SqlDialect dialect, const LabelColumns& columns);
// The pool: (complaint id, label value). The same on both engines.
std::string CorrectPoolRowsSql(const LabelColumns& columns);

}  // namespace orch
