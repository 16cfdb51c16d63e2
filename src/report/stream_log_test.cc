#include "report/stream_log.h"

#include <gtest/gtest.h>

#include <sstream>

namespace orch {
namespace {

class FixedClock : public Clock {
 public:
  TimePoint Now() override { return {}; }
  std::chrono::system_clock::time_point WallNow() override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1764138677)) + std::chrono::milliseconds(5);
  }
  void SleepUntil(TimePoint) override {}
};

class StreamLogTest : public ::testing::Test {
 protected:
  std::string Emit(LogFormat format, const std::function<void(Log&)>& body) {
    std::ostringstream out;
    {
      StreamLog log(out, format, clock, {"s3cr3t"});
      body(log);
    }
    return out.str();
  }
  FixedClock clock;
};

TEST_F(StreamLogTest, TextLinesCarryTimeLevelLabelAndFields) {
  std::string text = Emit(LogFormat::kText, [](Log& log) {
    log.Info("urgency", "poll", {{"current_len", 12}, {"required_len", 30}, {"version", "v1"}});
  });
  EXPECT_EQ(text, "2025-11-26T06:31:17.005Z info [urgency] poll current_len=12 required_len=30 version=v1\n");
}

TEST_F(StreamLogTest, SecretsAreRemovedFromEveryFormat) {
  for (LogFormat format : {LogFormat::kText, LogFormat::kJson, LogFormat::kGithub}) {
    std::string text = Emit(format, [](Log& log) {
      log.Error("", "restart failed", {{"error", "server said: Bearer s3cr3t is bad"}});
      log.Warning("department", "s3cr3t in a message");
    });
    EXPECT_EQ(text.find("s3cr3t"), std::string::npos) << text;
    EXPECT_NE(text.find("***"), std::string::npos) << text;
  }
}

TEST_F(StreamLogTest, JsonLinesAreOneObjectEach) {
  std::string text = Emit(LogFormat::kJson, [](Log& log) {
    log.Info("department", "counts", {{"misclassified", 5}});
    log.Warning("", "retry", {{"reason", "HTTP 503"}});
  });
  std::istringstream lines(text);
  std::string line;
  std::getline(lines, line);
  nlohmann::json first = nlohmann::json::parse(line);
  EXPECT_EQ(first["label"], "department");
  EXPECT_EQ(first["event"], "counts");
  EXPECT_EQ(first["misclassified"], 5);
  std::getline(lines, line);
  EXPECT_EQ(nlohmann::json::parse(line)["level"], "warning");
}

TEST_F(StreamLogTest, GithubModeGroupsEachLabelWhenItIsDone) {
  std::string text = Emit(LogFormat::kGithub, [](Log& log) {
    log.Info("a", "poll", {{"n", 1}});
    log.Info("b", "poll", {{"n", 1}});
    log.Info("a", "poll", {{"n", 2}});
    log.LabelDone("a");
    log.Warning("b", "outcome", {{"outcome", "timeout"}});
    log.LabelDone("b");
  });
  size_t group_a = text.find("::group::a\n");
  size_t group_b = text.find("::group::b\n");
  ASSERT_NE(group_a, std::string::npos) << text;
  ASSERT_NE(group_b, std::string::npos) << text;
  EXPECT_LT(group_a, group_b);
  EXPECT_LT(text.find("n=2"), group_b) << "a's lines stay together";
  EXPECT_NE(text.find("::warning title=orchestrator: b::"), std::string::npos);
}

TEST_F(StreamLogTest, ValuesCannotForgeWorkflowCommandsOrLines) {
  std::string text = Emit(LogFormat::kGithub, [](Log& log) {
    log.Error("", "failed", {{"error", "bad\n::error::forged"}});
  });
  EXPECT_EQ(text.find("\n::error::forged"), std::string::npos) << text;
}

TEST(EscapeWorkflowData, EscapesPercentAndNewlines) { EXPECT_EQ(EscapeWorkflowData("50%\r\n"), "50%25%0D%0A"); }

}  // namespace
}  // namespace orch
