#include "config/repository_url.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace orch {
namespace {

using Kind = RepositoryUrl::Kind;

std::string ErrorOf(std::string_view text) {
  try {
    ParseRepositoryUrl(text, "--hub");
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "<no ConfigError>";
}

bool Contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

TEST(RepositoryUrl, ADatasetOnTheHubWithARevisionAndAPlaceholder) {
  const RepositoryUrl url = ParseRepositoryUrl("hf://datasets/acme/grievances-{label}@v20261126_101502", "--hub");
  EXPECT_EQ(url.kind, Kind::kHubDataset);
  EXPECT_TRUE(url.on_hub());
  EXPECT_EQ(url.repo_id, "acme/grievances-{label}");
  EXPECT_EQ(url.revision, "v20261126_101502");
  EXPECT_TRUE(url.per_label);
  const RepositoryUrl urgency = url.ForLabel("urgency");
  EXPECT_EQ(urgency.repo_id, "acme/grievances-urgency");
  EXPECT_EQ(urgency.Name(), "hf://datasets/acme/grievances-urgency");
  EXPECT_EQ(urgency.revision, "v20261126_101502");
  EXPECT_FALSE(urgency.per_label);
}

TEST(RepositoryUrl, ModelsWithOrWithoutTheirPrefix) {
  for (const char* text : {"hf://acme/classifier", "hf://models/acme/classifier"}) {
    const RepositoryUrl url = ParseRepositoryUrl(text, "--models");
    EXPECT_EQ(url.kind, Kind::kHubModel) << text;
    EXPECT_EQ(url.repo_id, "acme/classifier") << text;
    EXPECT_EQ(url.Name(), "hf://acme/classifier") << text;
    EXPECT_FALSE(url.revision) << text;
  }
  EXPECT_EQ(ParseRepositoryUrl("hf://acme/{label}-model@main", "--models").ForLabel("urgency").repo_id,
            "acme/urgency-model");
  EXPECT_EQ(ParseRepositoryUrl("hf://acme/m@0123456789abcdef0123456789abcdef01234567", "x").revision,
            "0123456789abcdef0123456789abcdef01234567");
}

TEST(RepositoryUrl, LocalDirectoriesAndFileUrls) {
  const RepositoryUrl plain = ParseRepositoryUrl("./hub", "--hub");
  EXPECT_EQ(plain.kind, Kind::kLocal);
  EXPECT_EQ(plain.path, "./hub");
  EXPECT_FALSE(plain.on_hub());
  // Without {label}, a hub directory of one repository per label.
  EXPECT_EQ(plain.ForLabel("urgency").path, "./hub/urgency");
  EXPECT_EQ(ParseRepositoryUrl("/srv/hub/", "--hub").ForLabel("urgency").path, "/srv/hub/urgency");
  EXPECT_EQ(ParseRepositoryUrl("/srv/{label}-data", "--hub").ForLabel("urgency").path, "/srv/urgency-data");
  EXPECT_EQ(ParseRepositoryUrl("file:///srv/hub", "--hub").path, "/srv/hub");
  EXPECT_EQ(ParseRepositoryUrl("file://localhost/srv/hub", "--hub").path, "/srv/hub");
  const RepositoryUrl versioned = ParseRepositoryUrl("./hub/urgency@v3", "--dataset");
  EXPECT_EQ(versioned.path, "./hub/urgency");
  EXPECT_EQ(versioned.revision, "v3");
  // An '@' inside the path is part of it.
  EXPECT_EQ(ParseRepositoryUrl("/home/me@work/hub", "--hub").path, "/home/me@work/hub");
}

TEST(RepositoryUrl, MistakesSayWhatIsWrongAndShowAValidOne) {
  const std::pair<const char*, const char*> cases[] = {
      {"", "it is empty"},
      {"hf://datasets/acme", "OWNER/NAME"},
      {"hf://datasets/acme/a/b", "OWNER/NAME"},
      {"hf://spaces/acme/app", "a Space is not"},
      {"hf://datasets/acme/bad name", "may hold only letters"},
      {"hf://datasets/acme/x--y", "\"--\""},
      {"hf://datasets/acme/x.git", "end in .git"},
      {"hf://datasets/acme/x@", "nothing follows '@'"},
      {"hf://datasets/acme/x@a..b", "is not a branch, a tag or a commit id"},
      {"hf://datasets/acme/{name}", "braces"},
      {"https://huggingface.co/datasets/acme/x", "without the host"},
      {"s3://bucket/hub", "the scheme s3://"},
      {"file://relative/hub", "absolute path"},
      {"./hub\n", "control character"},
  };
  for (const auto& [text, expected] : cases) {
    const std::string error = ErrorOf(text);
    EXPECT_TRUE(Contains(error, expected)) << text << ": " << error;
    EXPECT_TRUE(error.starts_with("--hub: ")) << error;
    EXPECT_TRUE(Contains(error, "e.g. hf://datasets/acme/grievances-{label}")) << error;
  }
}

TEST(RepositoryUrl, OneHubRepositoryForSeveralLabelsIsRefused) {
  const RepositoryUrl shared = ParseRepositoryUrl("hf://datasets/acme/grievances", "--hub");
  EXPECT_NO_THROW(RequireOneRepositoryPerLabel(shared, {"urgency"}, "--hub"));
  try {
    RequireOneRepositoryPerLabel(shared, {"department", "urgency"}, "--hub");
    FAIL() << "no ConfigError";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_TRUE(Contains(message,
                         "--hub: hf://datasets/acme/grievances would be the one repository of 2 labels "
                         "(department, urgency)"))
        << message;
    EXPECT_TRUE(Contains(message, "e.g. hf://datasets/acme/grievances-{label}")) << message;
  }
  EXPECT_NO_THROW(RequireOneRepositoryPerLabel(ParseRepositoryUrl("hf://datasets/acme/g-{label}", "--hub"),
                                               {"department", "urgency"}, "--hub"));
  EXPECT_NO_THROW(
      RequireOneRepositoryPerLabel(ParseRepositoryUrl("./hub", "--hub"), {"department", "urgency"}, "--hub"));
}

}  // namespace
}  // namespace orch
