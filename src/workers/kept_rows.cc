#include "workers/kept_rows.h"

#include <utility>

#include "workers/split_line.h"
#include "workers/text_clean.h"

namespace orch {
namespace {

// A dataset's rows in the spool, split: each handed to the publisher with its split and class id.
class SpooledRows final : public DatasetRows {
 public:
  SpooledRows(std::unique_ptr<RowSpool> spool, StratifiedSplitter splitter, std::vector<int64_t> class_ids)
      : spool_(std::move(spool)), splitter_(std::move(splitter)), class_ids_(std::move(class_ids)) {}

  void WriteTo(SplitSink& sink) const override {
    spool_->ForEachInOrder([&](const SpooledRow& row) {
      sink.Add(splitter_.SplitOf(row.klass, row.rank_key, row.source, row.position), row.text, class_ids_[row.klass]);
    });
  }

 private:
  std::unique_ptr<RowSpool> spool_;
  StratifiedSplitter splitter_;
  std::vector<int64_t> class_ids_;  // by class index
};

}  // namespace

KeptRows::KeptRows(int64_t seed, const std::filesystem::path& spool_dir)
    : keys_(seed), spool_(std::make_unique<RowSpool>(spool_dir)) {}

bool KeptRows::Keep(RowSource source, int64_t id, uint32_t klass, std::string_view text) {
  CleanTextInto(text, clean_);
  if (clean_.empty()) return false;
  escaped_.clear();
  AppendJsonEscaped(clean_, escaped_);
  const uint64_t rank = keys_.Rank(source, id);
  const uint32_t position = splitter_.Add(klass, rank, source);
  spool_->Add({keys_.Order(source, id), rank, source, klass, position, escaped_});
  return true;
}

std::unique_ptr<DatasetRows> KeptRows::Finish(std::vector<int64_t> class_ids) {
  spool_->Finish();
  splitter_.Finish();
  return std::make_unique<SpooledRows>(std::move(spool_), std::move(splitter_), std::move(class_ids));
}

}  // namespace orch
