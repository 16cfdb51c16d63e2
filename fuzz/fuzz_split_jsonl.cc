// Fuzz target for the split file parser (ParseLabelledJsonl, what ReadLabelledJsonl does with a
// train/eval/test.jsonl file's text): any text must give rows whose class ids the label map names,
// or a WorkerError naming the file and the line, on one line. Any other exception is a finding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "util/error.h"
#include "workers/jsonl_dataset.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using orch::fuzz::Check;
  const orch::ClassNamesById classes = {{0, "Infrastructure"}, {1, "Education"}, {7, "Security"}};
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const std::vector<orch::SplitRow> rows = orch::ParseLabelledJsonl(text, classes, "/hub/department/v1/train.jsonl");
    for (const orch::SplitRow& row : rows)
      Check(classes.contains(row.label), "every row's class id is in the label map");
    Check(rows.size() <= size, "no more rows than bytes");
  } catch (const orch::WorkerError& error) {
    const std::string_view message = error.what();
    Check(message.starts_with("/hub/department/v1/train.jsonl line "), "a refused line is named by file and number");
    Check(!orch::fuzz::HasControlByte(message), "a refused line is explained on one line");
  }
  return 0;
}
