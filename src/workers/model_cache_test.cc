#include "workers/model_cache.h"

#include <gtest/gtest.h>

#include "support/temp_dir.h"
#include "util/error.h"

namespace orch {
namespace {

namespace fs = std::filesystem;

const std::string kCommitA(40, 'a'), kCommitB(40, 'b');

TEST(ModelCache, KeysNameTheRepositoryAndNeverCollide) {
  const std::string local = ModelCacheKey("/srv/models/department");
  EXPECT_TRUE(local.starts_with("department-")) << local;
  EXPECT_EQ(local.size(), std::string("department-").size() + 16);
  EXPECT_NE(ModelCacheKey("/other/models/department"), local);
  EXPECT_EQ(ModelCacheKey("/srv/models/department"), local);
  EXPECT_TRUE(ModelCacheKey("hf://owner/department-model").starts_with("department-model-"));
  EXPECT_TRUE(ModelCacheKey("a b/..").starts_with("repository..-")) << ModelCacheKey("a b/..");
}

TEST(ModelCache, TheDefaultIsTheUsersCacheDirectory) {
  EXPECT_EQ(DefaultModelCacheDirectory("/x/cache", "/home/u"), fs::path("/x/cache/orchestrator/models"));
  EXPECT_EQ(DefaultModelCacheDirectory(nullptr, "/home/u"), fs::path("/home/u/.cache/orchestrator/models"));
  EXPECT_EQ(DefaultModelCacheDirectory("relative", "/home/u"), fs::path("/home/u/.cache/orchestrator/models"));
  EXPECT_EQ(DefaultModelCacheDirectory(nullptr, nullptr), fs::path());
}

TEST(ModelCache, AnEntryAppearsWholeAndReplacesTheOlderOnes) {
  testing::TempDir dir("orch-model-cache");
  ModelCache cache(dir.path(), "/srv/models/department");
  EXPECT_EQ(cache.Find(kCommitA), std::nullopt);
  const fs::path staged = cache.Stage(kCommitA);
  EXPECT_EQ(cache.Find(kCommitA), std::nullopt) << "a directory being filled is no entry";
  testing::WriteFile((staged / "model.bin").string(), "a");
  const fs::path a = cache.Keep(staged, kCommitA);
  EXPECT_EQ(cache.Find(kCommitA), a);
  EXPECT_EQ(testing::ReadFile((a / "model.bin").string()), "a");

  // Another process's entry of the same commit, made meanwhile, is kept.
  const fs::path again = cache.Stage(kCommitA);
  testing::WriteFile((again / "model.bin").string(), "a, again");
  EXPECT_EQ(cache.Keep(again, kCommitA), a);
  EXPECT_EQ(testing::ReadFile((a / "model.bin").string()), "a");
  EXPECT_FALSE(fs::exists(again));

  const fs::path b = cache.Keep(cache.Stage(kCommitB), kCommitB);
  EXPECT_EQ(cache.Find(kCommitB), b);
  EXPECT_EQ(cache.Find(kCommitA), std::nullopt) << "the older commit's entry went";
  EXPECT_EQ(cache.Find("../" + kCommitB), std::nullopt);
  EXPECT_THROW(cache.Stage("main"), WorkerError);
}

}  // namespace
}  // namespace orch
