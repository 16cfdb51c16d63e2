// The rows a dataset keeps, from the moment they are read to the moment its split files are written.
//
// Each kept row's text is cleaned (workers/text_clean.h), escaped for JSON (workers/split_line.h)
// and written once to an unnamed scratch file (workers/row_spool.h); its class and rank key go to
// the splitter (workers/stratified_split.h); its keys come from the seed and its id
// (workers/row_keys.h). Only those keys stay in memory: about 8 bytes a row. Finish() hands over
// the rows as the publisher takes them, writing the split files straight from the scratch file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "workers/dataset_publisher.h"
#include "workers/row_keys.h"
#include "workers/row_spool.h"
#include "workers/stratified_split.h"

namespace orch {

class KeptRows {
 public:
  // The scratch file goes in `spool_dir`. Throws WorkerError when it cannot be made.
  KeptRows(int64_t seed, const std::filesystem::path& spool_dir);

  // Cleans `text` and keeps the row `id` of `source`, of the class index `klass`; false, keeping
  // nothing, when no text is left. Throws WorkerError when the scratch file cannot be written.
  bool Keep(RowSource source, int64_t id, uint32_t klass, std::string_view text);

  const RowKeys& keys() const { return keys_; }
  const StratifiedSplitter& splitter() const { return splitter_; }

  // Splits the rows and hands them over; `class_ids` gives each class index its id. Keep may not
  // be called after.
  std::unique_ptr<DatasetRows> Finish(std::vector<int64_t> class_ids);

 private:
  RowKeys keys_;
  std::unique_ptr<RowSpool> spool_;
  StratifiedSplitter splitter_;
  std::string clean_, escaped_;  // reused for every row
};

}  // namespace orch
