// The demo's simulated grievance application, writing its own tables.
//
// `orchestrator demo` needs a database that looks like the application's after a weak first model
// has run for a while: complaints with the model's labels, and the reviewers' corrections in
// misclassified_complaints. DemoDatabase plays that application: it creates the application's
// schema when absent (a new SQLite file is created) and inserts batches of synthetic complaints
// (synthetic_grievances.h) with the weak model's predictions and the simulated reviews.
//
// This is the APPLICATION's side. The orchestrator itself never writes these tables; it only
// counts them (db/database.h). Nothing else in the program may use this class to change them.
//
// A complaint stores the labels currently assigned to it: the weak model's, replaced by the
// reviewer's correction once a reviewed row corrects them. Each call to AddBatch adds a new batch
// whose complaint ids continue after the existing ones; complaint id i carries the generator's
// grievance i, so a seed always produces the same data for the same ids.
//
// The rows are written through db/application_writer.h, one transaction per batch.
#pragma once

#include <cstdint>
#include <memory>

#include "config/database_url.h"
#include "db/application_writer.h"
#include "demo/synthetic_grievances.h"

namespace orch {

struct DemoDataOptions {
  GrievanceOptions grievances;
  WeakModelOptions model;
  ReviewOptions reviews;

  // The defaults, with every part drawing from `seed`.
  static DemoDataOptions WithSeed(uint64_t seed);
};

// What a batch inserted, or what the database holds.
struct DemoCounts {
  int64_t complaints = 0;
  int64_t misclassified_rows = 0;  // every misclassified_complaints row, counted or not
  // Rows the orchestrator counts for each label: reviewed, corrected, correction differs from
  // the prediction.
  int64_t department = 0;
  int64_t urgency = 0;
};

class DemoDatabase {
 public:
  // Opens the database (SQLite: creates the file when missing, not its directory) and creates
  // the application's tables and index when absent. Throws DatabaseError when it cannot.
  explicit DemoDatabase(const DatabaseUrl& url, DemoDataOptions options = {});
  ~DemoDatabase();
  DemoDatabase(const DemoDatabase&) = delete;
  DemoDatabase& operator=(const DemoDatabase&) = delete;

  // Inserts `count` complaints and their review rows in one transaction; returns what it inserted.
  // Throws DatabaseError when the database refuses (nothing of the batch stays), ConfigError for a
  // negative count.
  DemoCounts AddBatch(int64_t count);
  // The same with other options for this batch (the demo may, say, review more between passes).
  DemoCounts AddBatch(int64_t count, const DemoDataOptions& options);

  // What the tables hold now, counted the way the orchestrator counts (for display).
  DemoCounts Counts();

 private:
  DemoDataOptions options_;
  std::unique_ptr<ApplicationWriter> writer_;
};

}  // namespace orch
