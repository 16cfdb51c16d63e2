#include "demo/demo_database.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/application_schema.h"
#include "db/count_sql.h"
#include "db/open_database.h"
#include "util/error.h"
#include "util/time.h"

namespace orch {

namespace {

// Who filed it, where, and how far it got: spread over a few values, the same for the same id.
ApplicationWriter::Row RowFor(int64_t id, const Grievance& grievance, const Prediction& prediction,
                              std::optional<MisclassificationReview> review) {
  ApplicationWriter::Row row;
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
    : options_(options), writer_(OpenApplicationWriter(url)) {}

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
