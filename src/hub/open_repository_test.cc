#include "hub/open_repository.h"

#include <gtest/gtest.h>

#include "support/fake_hub.h"
#include "support/temp_dir.h"
#include "util/error.h"

namespace orch {
namespace {

TEST(OpenRepository, ADirectoryIsLocalAndHfIsTheHubWithThePassSettings) {
  testing::TempDir dir;
  testing::FakeHub hub;
  Config config;
  config.hf_endpoint = hub.endpoint();
  config.hf_token = "hf_test_token";
  const RepositoryUrl local = ParseRepositoryUrl(dir.path().string(), "--hub").ForLabel("urgency");
  EXPECT_EQ(OpenRepository(local, config)->Name(), (dir.path() / "urgency").string());

  const RepositoryUrl url = ParseRepositoryUrl("hf://datasets/acme/grievances-{label}", "--hub");
  EXPECT_THROW(OpenRepository(url, config), ConfigError) << "{label} is not a repository yet";
  std::unique_ptr<Repository> repository = OpenRepository(url.ForLabel("urgency"), config);
  EXPECT_EQ(repository->Name(), "hf://datasets/acme/grievances-urgency");
  repository->CreateIfMissing();
  EXPECT_TRUE(hub.repos().HasRepo("dataset", "acme/grievances-urgency"));
  EXPECT_EQ(hub.Calls().at(0).authorization, "Bearer hf_test_token");

  std::unique_ptr<Repository> model = OpenRepository(ParseRepositoryUrl("hf://acme/classifier", "--models"), config);
  EXPECT_EQ(model->Name(), "hf://acme/classifier");
  model->CreateIfMissing();
  EXPECT_TRUE(hub.repos().HasRepo("model", "acme/classifier"));
}

}  // namespace
}  // namespace orch
