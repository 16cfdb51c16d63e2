// The Dockerfile at the repository's root, checked without a Docker engine: every instruction is one
// Docker knows, written as the image's promises need it (Debian 12 stages, packages installed without
// recommends from a fresh list that is removed after, the build without the tests, the program
// installed as its Debian package, a non-root user of uid 1000 as Hugging Face runs containers, a
// command in exec form), and its build packages are the ones scripts/install-deps.sh installs.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/temp_dir.h"

namespace orch {
namespace {

struct Instruction {
  std::string keyword;  // upper case
  std::string arguments;
  int line = 0;
};

// Joins continuation lines, leaves out comments and blank lines.
std::vector<Instruction> Parse(const std::string& text) {
  std::vector<Instruction> instructions;
  std::istringstream in(text);
  std::string line, pending;
  int number = 0, first = 0;
  while (std::getline(in, line)) {
    ++number;
    const size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    if (pending.empty()) first = number;
    const bool continued = !line.empty() && line.back() == '\\';
    pending += (pending.empty() ? "" : " ") + line.substr(start, line.size() - start - (continued ? 1 : 0));
    if (continued) continue;
    const size_t space = pending.find(' ');
    std::string keyword = pending.substr(0, space);
    std::transform(keyword.begin(), keyword.end(), keyword.begin(), ::toupper);
    instructions.push_back({keyword, space == std::string::npos ? "" : pending.substr(space + 1), first});
    pending.clear();
  }
  EXPECT_TRUE(pending.empty()) << "the last instruction ends with a continuation";
  return instructions;
}

std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

// The packages of each `apt-get install` in a RUN.
std::vector<std::string> InstalledPackages(const std::string& run) {
  std::vector<std::string> packages;
  const std::vector<std::string> words = Words(run);
  for (size_t i = 0; i + 1 < words.size(); ++i) {
    if (words[i] != "apt-get" || words[i + 1] != "install") continue;
    for (size_t j = i + 2; j < words.size() && words[j] != "&&"; ++j)
      if (!words[j].starts_with("-")) packages.push_back(words[j]);
  }
  return packages;
}

class DockerfileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    text = testing::ReadFile(std::string(ORCH_SOURCE_DIR) + "/Dockerfile");
    ASSERT_FALSE(text.empty()) << "no Dockerfile at the repository's root";
    instructions = Parse(text);
  }
  std::vector<Instruction> Of(const std::string& keyword) const {
    std::vector<Instruction> found;
    for (const Instruction& instruction : instructions)
      if (instruction.keyword == keyword) found.push_back(instruction);
    return found;
  }

  std::string text;
  std::vector<Instruction> instructions;
};

TEST_F(DockerfileTest, EveryInstructionIsOneDockerKnowsAndTheFirstIsFrom) {
  const std::set<std::string> known = {"FROM", "RUN",     "CMD",        "LABEL",       "EXPOSE", "ENV",
                                       "ADD",  "COPY",    "ENTRYPOINT", "VOLUME",      "USER",   "WORKDIR",
                                       "ARG",  "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"};
  ASSERT_FALSE(instructions.empty());
  EXPECT_EQ(instructions.front().keyword, "FROM");
  for (const Instruction& instruction : instructions) {
    EXPECT_TRUE(known.contains(instruction.keyword)) << "line " << instruction.line << ": " << instruction.keyword;
    EXPECT_FALSE(instruction.arguments.empty()) << "line " << instruction.line << ": no arguments";
  }
  EXPECT_TRUE(Of("ADD").empty()) << "COPY copies; ADD would also fetch URLs and unpack archives";
}

TEST_F(DockerfileTest, BothStagesAreDebian12AndTheCopiedStageExists) {
  const std::vector<Instruction> stages = Of("FROM");
  ASSERT_EQ(stages.size(), 2u);
  EXPECT_EQ(stages[0].arguments, "debian:bookworm AS build");
  EXPECT_EQ(stages[1].arguments, "debian:bookworm-slim");
  for (const Instruction& copy : Of("COPY")) {
    if (!copy.arguments.starts_with("--from=")) continue;
    EXPECT_TRUE(copy.arguments.starts_with("--from=build ")) << copy.arguments;
  }
}

TEST_F(DockerfileTest, PackagesComeFromAFreshListWithoutRecommendsAndTheListIsRemovedAfter) {
  int installs = 0;
  for (const Instruction& run : Of("RUN")) {
    if (InstalledPackages(run.arguments).empty()) continue;
    ++installs;
    const std::string& command = run.arguments;
    EXPECT_LT(command.find("apt-get update"), command.find("apt-get install")) << "line " << run.line;
    EXPECT_NE(command.find("apt-get install -y --no-install-recommends"), std::string::npos) << "line " << run.line;
    EXPECT_NE(command.find("rm -rf /var/lib/apt/lists/*"), std::string::npos) << "line " << run.line;
  }
  EXPECT_EQ(installs, 2);
  bool noninteractive = false;
  for (const Instruction& arg : Of("ARG"))
    noninteractive = noninteractive || arg.arguments == "DEBIAN_FRONTEND=noninteractive";
  EXPECT_TRUE(noninteractive);
}

TEST_F(DockerfileTest, TheBuildPackagesAreTheOnesTheProjectInstallsForItsBuild) {
  const std::string deps = testing::ReadFile(std::string(ORCH_SOURCE_DIR) + "/scripts/install-deps.sh");
  ASSERT_FALSE(deps.empty());
  std::vector<std::string> build_packages;
  for (const Instruction& run : Of("RUN")) {
    const std::vector<std::string> packages = InstalledPackages(run.arguments);
    if (std::find(packages.begin(), packages.end(), "cmake") != packages.end()) build_packages = packages;
  }
  ASSERT_FALSE(build_packages.empty());
  const std::vector<std::string> listed = Words(deps);
  for (const std::string& package : build_packages)
    EXPECT_NE(std::find(listed.begin(), listed.end(), package), listed.end())
        << package << " is not a package scripts/install-deps.sh installs";
  for (const char* needed :
       {"libcurl4-openssl-dev", "libssl-dev", "libpq-dev", "libsqlite3-dev", "nlohmann-json3-dev", "libcli11-dev",
        "libtomlplusplus-dev", "libfasttext-dev", "libcpp-httplib-dev", "lowdown", "dpkg-dev", "file"})
    EXPECT_NE(std::find(build_packages.begin(), build_packages.end(), needed), build_packages.end()) << needed;
}

TEST_F(DockerfileTest, TheProgramIsBuiltWithoutTheTestsAndInstalledAsItsDebianPackage) {
  EXPECT_NE(text.find("-DORCH_TESTS=OFF"), std::string::npos);
  EXPECT_NE(text.find("cpack -G DEB"), std::string::npos);
  bool installed = false;
  for (const Instruction& run : Of("RUN")) {
    const std::vector<std::string> packages = InstalledPackages(run.arguments);
    installed = installed || std::find(packages.begin(), packages.end(), "/tmp/orchestrator_*.deb") != packages.end();
  }
  EXPECT_TRUE(installed);
}

TEST_F(DockerfileTest, TheImageRunsAsUid1000WithACommandInExecForm) {
  const std::vector<Instruction> users = Of("USER");
  ASSERT_FALSE(users.empty());
  EXPECT_NE(users.back().arguments, "root");
  EXPECT_NE(text.find("useradd --create-home --uid 1000 " + users.back().arguments), std::string::npos);
  EXPECT_GT(users.back().line, Of("RUN").back().line) << "every RUN as root before the user is set";
  const std::vector<Instruction> commands = Of("CMD");
  ASSERT_EQ(commands.size(), 1u);
  const nlohmann::json command = nlohmann::json::parse(commands.front().arguments, nullptr, false);
  ASSERT_TRUE(command.is_array()) << "CMD in exec form: " << commands.front().arguments;
  EXPECT_EQ(command.front(), "orchestrator");
  EXPECT_TRUE(Of("ENTRYPOINT").empty()) << "a Job's command replaces the image's, whole";
}

TEST_F(DockerfileTest, TheBuildContextLeavesOutBuildsAndHistory) {
  const std::string ignore = testing::ReadFile(std::string(ORCH_SOURCE_DIR) + "/.dockerignore");
  for (const char* left_out : {".git", "build*", "*.db", ".env"})
    EXPECT_NE(("\n" + ignore).find(std::string("\n") + left_out + "\n"), std::string::npos) << left_out;
}

}  // namespace
}  // namespace orch
