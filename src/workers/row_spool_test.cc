#include "workers/row_spool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "support/temp_dir.h"
#include "util/error.h"
#include "workers/row_keys.h"

namespace orch {
namespace {

namespace fs = std::filesystem;

struct Row {
  uint64_t order_key, rank_key;
  RowSource source;
  uint32_t klass, position;
  std::string text;
  auto Key() const { return std::tie(order_key, source, klass, position); }
  bool operator==(const Row&) const = default;
};

std::vector<Row> ReadBack(const RowSpool& spool) {
  std::vector<Row> rows;
  spool.ForEachInOrder([&](const SpooledRow& row) {
    rows.push_back({row.order_key, row.rank_key, row.source, row.klass, row.position, std::string(row.text)});
  });
  return rows;
}

TEST(RowSpool, GivesTheRowsBackInOrderKeyOrderWithTheirTextsIntact) {
  testing::TempDir dir;
  RowSpool spool(dir.path());
  std::vector<Row> added;
  for (uint32_t i = 0; i < 30000; ++i) {
    // Texts from none to far longer than a chunk; some rows share an order key.
    const std::string text = i % 1000 == 7 ? std::string(50000, 'a' + i % 26)
                             : i % 10 == 3 ? ""
                                           : "row " + std::to_string(i) + " \"ok\" पानी";
    const uint64_t order_key = i % 97 == 0 ? 12345 : Mix64(i);
    const RowSource source = i % 3 == 0 ? RowSource::kPool : RowSource::kMisclassified;
    added.push_back({order_key, Mix64(i + 1), source, i % 5, i / 5, text});
    const Row& row = added.back();
    spool.Add({row.order_key, row.rank_key, row.source, row.klass, row.position, row.text});
  }
  spool.Finish();
  EXPECT_EQ(spool.rows(), 30000u);
  std::sort(added.begin(), added.end(), [](const Row& a, const Row& b) { return a.Key() < b.Key(); });
  EXPECT_TRUE(ReadBack(spool) == added);
  EXPECT_TRUE(ReadBack(spool) == added) << "a second time";
}

TEST(RowSpool, AnEmptySpoolGivesNothing) {
  testing::TempDir dir;
  RowSpool spool(dir.path());
  spool.Finish();
  EXPECT_TRUE(ReadBack(spool).empty());
  EXPECT_EQ(spool.bytes(), 0u);
}

TEST(RowSpool, TheFileHasNoNameAndAMissingDirectoryIsAWorkerError) {
  testing::TempDir dir;
  RowSpool spool(dir.path());
  spool.Add({1, 2, RowSource::kPool, 3, 4, "text"});
  spool.Finish();
  EXPECT_TRUE(fs::is_empty(dir.path()));
  EXPECT_EQ(ReadBack(spool).at(0).text, "text");
  try {
    RowSpool nowhere(dir.path() / "missing");
    FAIL() << "a spool without a directory";
  } catch (const WorkerError& error) {
    EXPECT_NE(std::string(error.what()).find("missing"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace orch
