// The command line of the real binary: --help and --version, usage errors, `config` and the
// origins it reports, configuration errors (exit 2 before any query or HTTP call), `check` against
// a real database and the fake Hub, and the ways `run` reports what it could not do.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/app_database.h"
#include "support/fake_hub.h"
#include "support/orchestrator_env.h"
#include "support/postgres_server.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"
#include "util/spawn.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using testing::AppDatabase;
using testing::FakeHub;
using testing::ProcessResult;
using testing::Subprocess;
using testing::TempDir;
using testing::WriteFile;
using Env = std::map<std::string, std::string>;

constexpr const char* kToken = "hf_cliSECRETtoken0815";
constexpr const char* kPassword = "pw_cliSECRET42";
constexpr const char* kUsageHint = "Run 'orchestrator --help' for usage.\n";

ProcessResult RunBinary(std::vector<std::string> args, const Env& env, const std::string& cwd) {
  args.insert(args.begin(), ORCH_BINARY);
  ProcessResult result = Subprocess::Run(args, env, cwd, 60s);
  EXPECT_FALSE(result.timed_out);
  return result;
}

ProcessResult RunProgram(const std::vector<std::string>& argv, const Env& env) {
  ProcessResult result = Subprocess::Run(argv, env, "", 60s);
  EXPECT_FALSE(result.timed_out);
  return result;
}

bool Contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream stream(text);
  for (std::string line; std::getline(stream, line);) lines.push_back(line);
  return lines;
}

// Neither the token nor the database password appears in what the process printed.
void ExpectNoSecret(const ProcessResult& result) {
  for (const char* secret : {kToken, kPassword}) {
    EXPECT_FALSE(Contains(result.out, secret)) << "stdout shows a secret:\n" << result.out;
    EXPECT_FALSE(Contains(result.err, secret)) << "stderr shows a secret:\n" << result.err;
  }
}

// ---- --help and --version ----------------------------------------------------------------

struct HelpCase {
  std::string subcommand;  // "" for the root
  std::string usage;
  std::vector<std::string> exit_status;  // what the help says about exit codes
};

void PrintTo(const HelpCase& help, std::ostream* out) { *out << "orchestrator " << help.subcommand; }

class CliHelp : public ::testing::TestWithParam<HelpCase> {
 protected:
  std::vector<std::string> Args(const std::string& flag) const {
    if (GetParam().subcommand.empty()) return {flag};
    return {GetParam().subcommand, flag};
  }
  TempDir dir;
};

TEST_P(CliHelp, HelpGoesToStdoutWithTheExitCodes) {
  ProcessResult result = RunBinary(Args("--help"), {{"PATH", "/usr/bin:/bin"}}, dir.path().string());
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  EXPECT_TRUE(Contains(result.out, GetParam().usage)) << result.out;
  for (const std::string& text : GetParam().exit_status)
    EXPECT_TRUE(Contains(result.out, text)) << text << "\n" << result.out;
}

TEST_P(CliHelp, VersionIsOneLine) {
  ProcessResult result = RunBinary(Args("--version"), {{"PATH", "/usr/bin:/bin"}}, dir.path().string());
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "orchestrator " ORCH_VERSION "\n");
  EXPECT_EQ(result.err, "");
}

const std::vector<std::string> kRunExitCodes = {
    "Exit status:",
    "0    every label ended well: below_threshold, up_to_date, cooling_down, paused, deferred,",
    "retrain_triggered, or a dry run",
    "1    a label timed out or failed, or the database or the Hub could not be used",
    "2    bad command line or configuration (nothing was done)",
    "75   another pass holds the run lock"};

INSTANTIATE_TEST_SUITE_P(
    Cli, CliHelp,
    ::testing::Values(
        HelpCase{"", "Usage: orchestrator [OPTIONS] [SUBCOMMAND]", kRunExitCodes},
        HelpCase{"run", "Usage: orchestrator run [OPTIONS]", kRunExitCodes},
        HelpCase{"config",
                 "Usage: orchestrator config [OPTIONS]",
                 {"Exit status: 0, or 2 when the configuration is invalid."}},
        HelpCase{
            "check",
            "Usage: orchestrator check [OPTIONS]",
            {"Exit status: 0 when every check passes (warnings allowed), 1 when one fails, 2 on bad configuration."}}),
    [](const auto& info) { return info.param.subcommand.empty() ? std::string("root") : info.param.subcommand; });

// Every subcommand explains itself with an example and its exit status, as `orchestrator --help` lists it.
TEST(CliHelp, EverySubcommandHasExamplesAndExitStatus) {
  TempDir dir;
  const ProcessResult root = RunBinary({"--help"}, {{"PATH", "/usr/bin:/bin"}}, dir.path().string());
  ASSERT_EQ(root.exit_code, 0) << root.err;
  for (const std::string subcommand : {"run", "config", "check", "migrate", "status", "history", "prepare", "retrain",
                                       "predict", "rollback", "demo", "completion"}) {
    EXPECT_TRUE(Contains(root.out, "\n  " + subcommand + " ")) << subcommand << " missing from\n" << root.out;
    const ProcessResult help = RunBinary({subcommand, "--help"}, {{"PATH", "/usr/bin:/bin"}}, dir.path().string());
    EXPECT_EQ(help.exit_code, 0) << subcommand << ": " << help.err;
    EXPECT_TRUE(Contains(help.out, "Example")) << subcommand << "\n" << help.out;
    EXPECT_TRUE(Contains(help.out, "Exit status")) << subcommand << "\n" << help.out;
  }
}

TEST(CliRunLabel, ALabelThatIsNotConfiguredIsAUsageErrorNamingTheConfiguredOnes) {
  TempDir dir;
  const ProcessResult result = RunBinary(
      {"run", "--dry-run", "--label", "colour"},
      {{"PATH", "/usr/bin:/bin"}, {"DATABASE_URL", "sqlite:///" + dir.File("absent.db")}}, dir.path().string());
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_TRUE(Contains(result.err,
                       "label \"colour\" is not a configured label; the configured labels are "
                       "department, urgency (LABELS)"))
      << result.err;
}

// ---- The demo ------------------------------------------------------------------------------

// The README's first command: the whole loop on this machine, then a pass of one's own that has
// nothing new to learn.
TEST(CliDemo, RunsTheWholeLoopAndSaysWhatEachStepDid) {
  TempDir dir;
  const std::string demo = (dir.path() / "demo").string();
  const ProcessResult result =
      Subprocess::Run({ORCH_BINARY, "demo", "--dir", demo}, {{"PATH", "/usr/bin:/bin"}}, dir.path().string(), 300s);
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_TRUE(Contains(result.out, "scored again on the same new test split")) << result.out;
  const ProcessResult history =
      RunBinary({"history", "--env-file", demo + "/demo.env", "--json"}, {{"PATH", "/usr/bin:/bin"}}, demo);
  ASSERT_EQ(history.exit_code, 0) << history.err;
  const nlohmann::json runs = nlohmann::json::parse(history.out);
  ASSERT_EQ(runs.size(), 3u) << history.out;
  for (const nlohmann::json& run : runs) EXPECT_EQ(run["status"], "ok") << run.dump();

  // Operations without SQL, on the demo's database.
  const Env env = {{"PATH", "/usr/bin:/bin"}};
  const std::string env_file = demo + "/demo.env";
  ProcessResult unlock = RunBinary({"unlock", "--env-file", env_file}, env, demo);
  EXPECT_EQ(unlock.exit_code, 0) << unlock.err;
  EXPECT_TRUE(Contains(unlock.out, "is free")) << unlock.out;
  const auto db = demo + "/demo.db";
  auto sql = [&](const std::string& statement) {
    ASSERT_EQ(Subprocess::Run({"/usr/bin/sqlite3", db, statement}, env, demo, 30s).exit_code, 0) << statement;
  };
  sql("INSERT INTO orchestrator_lock VALUES ('demo', 'gone:1', '2026-01-01T00:00:00Z', '2026-01-01T00:01:00Z')");
  unlock = RunBinary({"unlock", "--env-file", env_file}, env, demo);
  EXPECT_EQ(unlock.exit_code, 0) << unlock.err;
  EXPECT_TRUE(Contains(unlock.out, "freed the run lock \"demo\" left by gone:1")) << unlock.out;
  sql("INSERT INTO orchestrator_lock VALUES ('demo', 'alive:2', '2026-01-01T00:00:00Z', '2099-01-01T00:00:00Z')");
  unlock = RunBinary({"unlock", "--env-file", env_file}, env, demo);
  EXPECT_EQ(unlock.exit_code, 75) << "a live lease is never taken away";
  EXPECT_TRUE(Contains(unlock.err, "held by a live pass: alive:2")) << unlock.err;
  ProcessResult reset =
      RunBinary({"label", "reset", "urgency", "--reason", "worker rebuilt", "--env-file", env_file}, env, demo);
  EXPECT_EQ(reset.exit_code, 75) << "a reset waits for the pass that holds the lock";
  sql("DELETE FROM orchestrator_lock");
  sql("UPDATE orchestrator_label_state SET phase = 'preparing', prepare_requested_at = '2026-01-01T00:00:00Z' "
      "WHERE label = 'urgency'");
  reset = RunBinary({"label", "reset", "urgency", "--reason", "worker rebuilt", "--env-file", env_file}, env, demo);
  EXPECT_EQ(reset.exit_code, 0) << reset.err;
  EXPECT_TRUE(Contains(reset.out, "urgency: reset from preparing to idle")) << reset.out;
  const ProcessResult status = RunBinary({"status", "--json", "--env-file", env_file}, env, demo);
  const nlohmann::json labels = nlohmann::json::parse(status.out)["labels"];
  EXPECT_EQ(labels[1]["phase"], "idle");
  EXPECT_FALSE(labels[1]["last_retrained_version"].is_null()) << "what was retrained last is kept";
  const ProcessResult last = RunBinary({"history", "--limit", "1", "--env-file", env_file}, env, demo);
  EXPECT_TRUE(Contains(last.out, "label_reset")) << last.out;
  EXPECT_TRUE(Contains(last.out, "urgency: worker rebuilt")) << last.out;

  // A paused label is counted but not prepared, until it is resumed.
  ProcessResult pause =
      RunBinary({"label", "pause", "department", "--reason", "relabelling", "--env-file", env_file}, env, demo);
  EXPECT_EQ(pause.exit_code, 0) << pause.err;
  EXPECT_TRUE(Contains(pause.out, "department: paused")) << pause.out;
  pause = RunBinary({"label", "pause", "department", "--reason", "again", "--env-file", env_file}, env, demo);
  EXPECT_EQ(pause.exit_code, 0) << pause.err;
  EXPECT_TRUE(Contains(pause.out, "already paused")) << pause.out;
  EXPECT_TRUE(Contains(pause.out, "(relabelling)")) << pause.out;
  const nlohmann::json paused =
      nlohmann::json::parse(RunBinary({"status", "--json", "--env-file", env_file}, env, demo).out);
  EXPECT_EQ(paused["labels"][0]["held_by"], "paused");
  EXPECT_EQ(paused["labels"][0]["paused_reason"], "relabelling");
  EXPECT_EQ(paused["labels"][1]["held_by"], "up_to_date") << "the reset label has no new corrections";
  EXPECT_EQ(paused["labels"][1]["new_rows"], 0);
  const ProcessResult text = RunBinary({"status", "--env-file", env_file}, env, demo);
  EXPECT_TRUE(Contains(text.out, "0 new of 1, up to date")) << text.out;
  EXPECT_TRUE(Contains(text.out, "paused since")) << text.out;
  const ProcessResult pass = RunBinary({"run", "--env-file", env_file}, env, demo);
  EXPECT_EQ(pass.exit_code, 0) << pass.err;
  const nlohmann::json summary = nlohmann::json::parse(pass.out);
  EXPECT_EQ(summary["labels"][0]["outcome"], "paused") << pass.out;
  EXPECT_EQ(summary["labels"][1]["outcome"], "up_to_date") << pass.out;
  EXPECT_EQ(summary["labels"][1]["new_rows"], 0) << pass.out;
  const ProcessResult resume = RunBinary({"label", "resume", "department", "--env-file", env_file}, env, demo);
  EXPECT_EQ(resume.exit_code, 0) << resume.err;
  EXPECT_TRUE(Contains(resume.out, "department: resumed")) << resume.out;
  const ProcessResult changes = RunBinary({"history", "--limit", "3", "--env-file", env_file}, env, demo);
  EXPECT_TRUE(Contains(changes.out, "label_resume")) << changes.out;
  EXPECT_TRUE(Contains(changes.out, "label_pause")) << changes.out;
  const ProcessResult empty =
      RunBinary({"label", "pause", "department", "--reason", "", "--env-file", env_file}, env, demo);
  EXPECT_EQ(empty.exit_code, 2) << "a pause says why";

  // The README's next step: a pass of one's own with the demo's settings, whose command: workers
  // get those settings from the same --env-file (the environment holds nothing but PATH).
  const ProcessResult own =
      Subprocess::Run({ORCH_BINARY, "run", "--force", "--wait", "--env-file", env_file}, env, demo, 300s);
  ASSERT_EQ(own.exit_code, 0) << own.out << own.err;
  const nlohmann::json forced = nlohmann::json::parse(own.out);
  for (const nlohmann::json& label : forced["labels"]) {
    EXPECT_EQ(label["outcome"], "retrain_triggered") << label.dump();
    EXPECT_EQ(label["retrain"]["result"], "finished") << label.dump();
  }
}

// ---- Shell completion ----------------------------------------------------------------------

// Runs bash's completion function on `line` (the word being completed last) and returns its words.
std::string BashCompletions(const std::string& script_path, const std::string& line) {
  const std::string command = "source " + script_path + "; read -ra COMP_WORDS <<< \"" + line + "\"; [[ \"" + line +
                              "\" == *' ' ]] && COMP_WORDS+=(''); "
                              "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _orchestrator; echo \"${COMPREPLY[*]}\"";
  const ProcessResult result = RunProgram({"/bin/bash", "--norc", "-c", command}, {{"PATH", "/usr/bin:/bin"}});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return result.out;
}

TEST(CliCompletion, BashCompletesSubcommandsOptionsAndChoices) {
  TempDir dir;
  const ProcessResult script = RunBinary({"completion", "bash"}, {{"PATH", "/usr/bin:/bin"}}, dir.path().string());
  ASSERT_EQ(script.exit_code, 0) << script.err;
  const std::string path = (dir.path() / "orchestrator.bash").string();
  WriteFile(path, script.out);
  EXPECT_EQ(BashCompletions(path, "orchestrator sta"), "status\n");
  EXPECT_EQ(BashCompletions(path, "orchestrator history --li"), "--limit\n");
  EXPECT_EQ(BashCompletions(path, "orchestrator run --log-format "), "text json\n");
  EXPECT_EQ(BashCompletions(path, "orchestrator completion "), "--help bash zsh\n");
  // Options of one subcommand are not offered for another.
  EXPECT_EQ(BashCompletions(path, "orchestrator status --wai"), "\n");
}

TEST(CliCompletion, ZshScriptDescribesEverySubcommand) {
  TempDir dir;
  const ProcessResult script = RunBinary({"completion", "zsh"}, {{"PATH", "/usr/bin:/bin"}}, dir.path().string());
  ASSERT_EQ(script.exit_code, 0) << script.err;
  EXPECT_TRUE(script.out.starts_with("#compdef orchestrator\n")) << script.out;
  for (const std::string subcommand : {"run:", "status:", "retrain:", "completion:"})
    EXPECT_TRUE(Contains(script.out, "'" + subcommand)) << subcommand;
  EXPECT_TRUE(Contains(script.out, "'--log-format[Log lines on stderr as text (default) or json]:value:(text json)'"));
  const std::string path = (dir.path() / "_orchestrator").string();
  WriteFile(path, script.out);
  if (FindProgram("zsh")) {  // zsh parses it without running it
    const ProcessResult parsed = RunProgram({*FindProgram("zsh"), "-n", path}, {{"PATH", "/usr/bin:/bin"}});
    EXPECT_EQ(parsed.exit_code, 0) << parsed.err;
  }
}

TEST(CliCompletion, AnotherShellIsAUsageError) {
  TempDir dir;
  const ProcessResult result = RunBinary({"completion", "fish"}, {{"PATH", "/usr/bin:/bin"}}, dir.path().string());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_TRUE(Contains(result.err, "fish")) << result.err;
}

// ---- Usage errors ------------------------------------------------------------------------

struct UsageCase {
  std::string name;
  std::vector<std::string> args;
  std::string message;  // the first line of stderr
};

void PrintTo(const UsageCase& usage, std::ostream* out) { *out << usage.name; }

class CliUsage : public ::testing::TestWithParam<UsageCase> {
 protected:
  TempDir dir;
};

TEST_P(CliUsage, ExitTwoWithAHintToHelp) {
  ProcessResult result = RunBinary(GetParam().args, {{"PATH", "/usr/bin:/bin"}}, dir.path().string());
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "orchestrator: " + GetParam().message + "\n" + kUsageHint);
}

INSTANTIATE_TEST_SUITE_P(
    Cli, CliUsage,
    ::testing::Values(
        UsageCase{"UnknownOption", {"--bogus"}, "The following argument was not expected: --bogus"},
        UsageCase{"UnknownSubcommand", {"frobnicate"}, "The following argument was not expected: frobnicate"},
        UsageCase{"UnknownCheckOption", {"check", "--bogus"}, "The following argument was not expected: --bogus"},
        UsageCase{
            "SummaryIsNotAConfigOption", {"config", "--summary"}, "The following argument was not expected: --summary"},
        UsageCase{"TwoSubcommands", {"config", "check"}, "The following argument was not expected: check"},
        UsageCase{"ExtraArgument", {"run", "extra"}, "The following argument was not expected: extra"},
        UsageCase{"UnknownLogFormat", {"--log-format", "xml"}, "--log-format: xml not in {text,json}"}),
    [](const auto& info) { return info.param.name; });

// ---- `config` ----------------------------------------------------------------------------

struct ShownSetting {
  std::string origin, key, value;
  bool operator==(const ShownSetting&) const = default;
};

std::ostream& operator<<(std::ostream& out, const ShownSetting& setting) {
  return out << "(" << setting.origin << ") " << setting.key << " = " << setting.value;
}

// Parses `config` text output; every line must be "(origin) key = value".
std::vector<ShownSetting> ParseConfigText(const std::string& out) {
  static const std::regex kLine(R"(^\((default|file|\.env|environment|command line)\) ([a-z0-9_.]+) = (.*)$)");
  std::vector<ShownSetting> settings;
  for (const std::string& line : Lines(out)) {
    std::smatch match;
    if (!std::regex_match(line, match, kLine)) {
      ADD_FAILURE() << "not an (origin) key = value line: " << line;
      continue;
    }
    settings.push_back({match[1], match[2], match[3]});
  }
  return settings;
}

std::vector<ShownSetting> ParseConfigJson(const std::string& out) {
  std::vector<ShownSetting> settings;
  nlohmann::json document = nlohmann::json::parse(out, nullptr, false);
  if (document.is_discarded() || !document.contains("settings")) {
    ADD_FAILURE() << "not the config JSON document:\n" << out;
    return settings;
  }
  for (const nlohmann::json& setting : document["settings"]) {
    EXPECT_TRUE(setting["env"].is_string()) << setting.dump();
    settings.push_back(
        {setting["origin"].get<std::string>(), setting["key"].get<std::string>(), setting["value"].get<std::string>()});
  }
  return settings;
}

class CliConfig : public ::testing::Test {
 protected:
  // Runs `config` (text) and returns its settings by key.
  std::map<std::string, ShownSetting> ShowConfig(std::vector<std::string> args = {}) {
    args.insert(args.begin(), "config");
    last = RunBinary(args, env, dir.path().string());
    EXPECT_EQ(last.exit_code, 0) << last.err;
    EXPECT_EQ(last.err, "");
    ExpectNoSecret(last);
    std::map<std::string, ShownSetting> by_key;
    for (const ShownSetting& setting : ParseConfigText(last.out)) by_key[setting.key] = setting;
    return by_key;
  }

  TempDir dir;
  Env env = {{"PATH", "/usr/bin:/bin"}};
  ProcessResult last;
};

TEST_F(CliConfig, ShowsEveryOrigin) {
  WriteFile(dir.File("settings.toml"),
            "correct_ratio = 0.25\n"
            "poll_timeout = 11\n"
            "[labels.department]\nthreshold = 12\n"
            "[labels.urgency]\nretrain = \"owner/retrain_u\"\n");
  WriteFile(dir.File(".env"), "POLL_TIMEOUT=22\nTHRESHOLD_URGENCY=7\nHF_TOKEN=" + std::string(kToken) + "\n");
  env["POLL_INTERVAL"] = "5";
  env["DATABASE_URL"] = "postgresql://orch:" + std::string(kPassword) + "@db.example:5432/app";
  auto shown = ShowConfig({"--config", dir.File("settings.toml"), "--dry-run", "--log-format", "json"});

  EXPECT_EQ(shown["hf_endpoint"], (ShownSetting{"default", "hf_endpoint", "https://huggingface.co"}));
  EXPECT_EQ(shown["correct_ratio"], (ShownSetting{"file", "correct_ratio", "0.25"}));
  EXPECT_EQ(shown["labels"], (ShownSetting{"file", "labels", "department,urgency"}));
  EXPECT_EQ(shown["labels.department.threshold"], (ShownSetting{"file", "labels.department.threshold", "12"}));
  EXPECT_EQ(shown["labels.urgency.retrain"], (ShownSetting{"file", "labels.urgency.retrain", "owner/retrain_u"}));
  EXPECT_EQ(shown["poll_timeout"], (ShownSetting{".env", "poll_timeout", "22"})) << ".env beats the file";
  EXPECT_EQ(shown["labels.urgency.threshold"], (ShownSetting{".env", "labels.urgency.threshold", "7"}));
  EXPECT_EQ(shown["hf_token"], (ShownSetting{".env", "hf_token", "********"}));
  EXPECT_EQ(shown["poll_interval"], (ShownSetting{"environment", "poll_interval", "5"}));
  EXPECT_EQ(shown["database_url"],
            (ShownSetting{"environment", "database_url", "postgresql://orch:****@db.example:5432/app"}));
  EXPECT_EQ(shown["dry_run"], (ShownSetting{"command line", "dry_run", "true"}));
  EXPECT_EQ(shown["log_format"], (ShownSetting{"command line", "log_format", "json"}));
  EXPECT_EQ(shown["labels.department.pool_column"],
            (ShownSetting{"default", "labels.department.pool_column", "department"}));
}

TEST_F(CliConfig, JsonHoldsTheSameSettingsAsText) {
  WriteFile(dir.File("settings.toml"), "[labels.topic]\nthreshold = 3\npool_column = \"department\"\n");
  WriteFile(dir.File(".env"), "HF_TOKEN=" + std::string(kToken) + "\n");
  env["DATABASE_URL"] = "postgresql+psycopg2://orch:" + std::string(kPassword) + "@db.example/app";
  env["POLL_INTERVAL"] = "0.5";
  std::vector<std::string> args = {"config", "--config", dir.File("settings.toml"), "--dry-run"};
  ProcessResult text = RunBinary(args, env, dir.path().string());
  args.push_back("--json");
  ProcessResult json = RunBinary(args, env, dir.path().string());
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(json.exit_code, 0) << json.err;
  ExpectNoSecret(text);
  ExpectNoSecret(json);
  std::vector<ShownSetting> from_text = ParseConfigText(text.out);
  EXPECT_EQ(ParseConfigJson(json.out), from_text);
  EXPECT_NE(
      std::find(from_text.begin(), from_text.end(), ShownSetting{"file", "labels.topic.pool_column", "department"}),
      from_text.end());
  EXPECT_NE(std::find(from_text.begin(), from_text.end(), ShownSetting{"command line", "dry_run", "true"}),
            from_text.end());
}

TEST_F(CliConfig, DotEnvInTheWorkingDirectoryIsRead) {
  WriteFile(dir.File(".env"), "# a comment\nexport POLL_INTERVAL=\"7.5\"\nTHRESHOLD_DEPT='33'\n");
  auto shown = ShowConfig();
  EXPECT_EQ(shown["poll_interval"], (ShownSetting{".env", "poll_interval", "7.5"}));
  EXPECT_EQ(shown["labels.department.threshold"], (ShownSetting{".env", "labels.department.threshold", "33"}));
}

TEST_F(CliConfig, DotEnvNeverOverridesTheEnvironment) {
  WriteFile(dir.File(".env"), "POLL_INTERVAL=7\nHF_TOKEN=hf_from_dotenv\n");
  env["POLL_INTERVAL"] = "3";
  env["HF_TOKEN"] = kToken;
  auto shown = ShowConfig();
  EXPECT_EQ(shown["poll_interval"], (ShownSetting{"environment", "poll_interval", "3"}));
  EXPECT_EQ(shown["hf_token"].origin, "environment");
  EXPECT_FALSE(Contains(last.out, "hf_from_dotenv"));
}

TEST_F(CliConfig, EnvironmentBeatsTheFile) {
  WriteFile(dir.File("settings.toml"), "poll_timeout = 11\n[labels.urgency]\nthreshold = 9\n");
  env["POLL_TIMEOUT"] = "33";
  env["THRESHOLD_URGENCY"] = "44";
  auto shown = ShowConfig({"--config", dir.File("settings.toml")});
  EXPECT_EQ(shown["poll_timeout"], (ShownSetting{"environment", "poll_timeout", "33"}));
  EXPECT_EQ(shown["labels.urgency.threshold"], (ShownSetting{"environment", "labels.urgency.threshold", "44"}));
}

TEST_F(CliConfig, EnvFileOptionReadsAnotherFileInsteadOfDotEnv) {
  WriteFile(dir.File(".env"), "POLL_TIMEOUT=22\n");
  WriteFile(dir.File("other.env"), "POLL_INTERVAL=9\n");
  auto shown = ShowConfig({"--env-file", dir.File("other.env")});
  EXPECT_EQ(shown["poll_interval"], (ShownSetting{".env", "poll_interval", "9"}));
  EXPECT_EQ(shown["poll_timeout"], (ShownSetting{"default", "poll_timeout", "1800"})) << "./.env is not read";
}

TEST_F(CliConfig, MissingEnvFileIsAUsageErrorNamingIt) {
  const std::string missing = dir.File("nowhere.env");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"config", "--env-file", missing}, {"--env-file", missing, "run", "--dry-run"}}) {
    ProcessResult result = RunBinary(args, env, dir.path().string());
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(result.err, "orchestrator: .env file \"" + missing + "\" does not exist\n");
  }
}

// ---- A database and the fake Hub ---------------------------------------------------------

// A valid setup: department (20 misclassified, 100 correct) reaches its threshold of 20 and its
// prepare run publishes d2 at once; urgency (4 misclassified) stays below 10.
class CliFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    UseDatabase(AppDatabase::Sqlite(dir.File("app.db")));
    hub.SetToken(kToken);
    hub.AddSpace("owner/prepare", "PAUSED");
    hub.AddSpace("owner/retrain_dept", "PAUSED");
    hub.AddSpace("owner/retrain_urgency", "SLEEPING");
    hub.PublishMetadata("owner/department", FakeHub::Metadata("d1", 5));
    hub.PublishMetadata("owner/urgency", FakeHub::Metadata("u1", 7));
    hub.OnRestart("owner/prepare", {FakeHub::Publication::AfterPolls("owner/department", 30, 0, "d2")});
    env = testing::OrchestratorEnv(hub, database->url(), kToken);
  }

  void UseDatabase(std::unique_ptr<AppDatabase> fresh, bool with_index = true) {
    database = std::move(fresh);
    database->CreateSchema(with_index);
    database->AddMisclassified(20, "department");
    database->AddMisclassified(4, "urgency");
    database->AddCorrectComplaints(100);
    env["DATABASE_URL"] = database->url();
  }

  ProcessResult Run(const std::vector<std::string>& args) {
    ProcessResult result = RunBinary(args, env, dir.path().string());
    ExpectNoSecret(result);
    return result;
  }

  TempDir dir;
  FakeHub hub;
  std::unique_ptr<AppDatabase> database;
  Env env;
};

// The summary on stdout, which must be one JSON document.
nlohmann::json SummaryOf(const ProcessResult& result) {
  nlohmann::json summary = nlohmann::json::parse(result.out, nullptr, false);
  EXPECT_TRUE(summary.is_object()) << "stdout is the JSON summary:\n" << result.out << "\nstderr:\n" << result.err;
  return summary.is_object() ? summary : nlohmann::json::object();
}

const nlohmann::json& LabelOf(const nlohmann::json& summary, const std::string& name) {
  for (const nlohmann::json& label : summary.at("labels"))
    if (label.at("label") == name) return label;
  throw std::runtime_error("no label " + name + " in " + summary.dump());
}

// ---- Configuration errors ----------------------------------------------------------------

struct ConfigErrorCase {
  std::string name;
  Env set;                           // variables changed in the valid environment
  std::vector<std::string> unset;    // variables removed from it
  std::string toml;                  // a --config file's content, "" for none
  std::vector<std::string> message;  // parts of the one-line message, "{toml}" stands for the file's path
};

void PrintTo(const ConfigErrorCase& error, std::ostream* out) { *out << error.name; }

class CliConfigError : public CliFixture, public ::testing::WithParamInterface<ConfigErrorCase> {};

TEST_P(CliConfigError, ExitTwoBeforeAnyQueryOrHttpCall) {
  const ConfigErrorCase& error = GetParam();
  for (const auto& [name, value] : error.set) env[name] = value;
  for (const std::string& name : error.unset) env.erase(name);
  std::vector<std::string> args = {"run"};
  std::string toml_path = dir.File("settings.toml");
  if (!error.toml.empty()) {
    WriteFile(toml_path, error.toml);
    args.insert(args.end(), {"--config", toml_path});
  }
  ProcessResult result = Run(args);
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_EQ(result.out, "");
  ASSERT_EQ(Lines(result.err).size(), 1u) << "one message, no log of a pass:\n" << result.err;
  EXPECT_EQ(result.err.rfind("orchestrator: ", 0), 0u) << result.err;
  for (std::string part : error.message) {
    if (part.find("{toml}") != std::string::npos) part.replace(part.find("{toml}"), 6, toml_path);
    EXPECT_TRUE(Contains(result.err, part)) << "missing: " << part << "\nin: " << result.err;
  }
  EXPECT_TRUE(hub.Calls().empty()) << hub.Calls().size() << " HTTP calls, the first to " << hub.Calls().front().path;
}

const std::string kWrongThreshold = "expected a positive whole number of rows, e.g. THRESHOLD_DEPARTMENT=40";

INSTANTIATE_TEST_SUITE_P(
    Cli, CliConfigError,
    ::testing::Values(
        ConfigErrorCase{"ThresholdAsPercentage",
                        {{"THRESHOLD_DEPARTMENT", "40%"}},
                        {},
                        "",
                        {"THRESHOLD_DEPARTMENT=\"40%\" (environment): " + kWrongThreshold}},
        ConfigErrorCase{"ThresholdZero",
                        {{"THRESHOLD_DEPARTMENT", "0"}},
                        {},
                        "",
                        {"THRESHOLD_DEPARTMENT=\"0\" (environment): " + kWrongThreshold}},
        ConfigErrorCase{"ThresholdNotANumber",
                        {{"THRESHOLD_DEPARTMENT", "abc"}},
                        {},
                        "",
                        {"THRESHOLD_DEPARTMENT=\"abc\" (environment): " + kWrongThreshold}},
        ConfigErrorCase{"NegativePollInterval",
                        {{"POLL_INTERVAL", "-1"}},
                        {},
                        "",
                        {"POLL_INTERVAL=\"-1\" (environment): expected a number of seconds greater than 0"}},
        ConfigErrorCase{
            "DryRunMaybe", {{"DRY_RUN", "maybe"}}, {}, "", {"DRY_RUN=\"maybe\" (environment): expected true or false"}},
        ConfigErrorCase{"MysqlDatabaseUrl",
                        {{"DATABASE_URL", "mysql://orch:" + std::string(kPassword) + "@db/app"}},
                        {},
                        "",
                        {"DATABASE_URL (environment): ", "the scheme \"mysql\" is not supported",
                         "postgresql://user:password@host:5432/dbname", "sqlite:///relative/path.db"}},
        ConfigErrorCase{"HostileLabelName",
                        {{"LABELS", "department;drop table complaints"}},
                        {},
                        "",
                        {"LABELS=\"department;drop table complaints\" (environment): ", "[a-z][a-z0-9_]{0,62}"}},
        ConfigErrorCase{"NoToken", {}, {"HF_TOKEN"}, "", {"missing: HF_TOKEN; set them in the environment or .env"}},
        ConfigErrorCase{"NothingForARun",
                        {},
                        {"HF_TOKEN", "PREPARE_DATASET_REPO", "RETRAIN_DEPT_REPO", "RETRAIN_URGENCY_REPO",
                         "HF_HUB_METADATA_DEPT", "HF_HUB_METADATA_URGENCY"},
                        "",
                        {"missing: HF_TOKEN, PREPARE_DATASET_REPO, RETRAIN_DEPARTMENT_REPO (or RETRAIN_DEPT_REPO), "
                         "HF_HUB_METADATA_DEPARTMENT (or HF_HUB_METADATA_DEPT), RETRAIN_URGENCY_REPO, "
                         "HF_HUB_METADATA_URGENCY; set them in the environment or .env"}},
        ConfigErrorCase{"PlainHttpEndpoint",
                        {{"HF_ENDPOINT", "http://example.com"}},
                        {},
                        "",
                        {"HF_ENDPOINT=\"http://example.com\" (environment): plain http is allowed only for loopback "
                         "hosts; use https://"}},
        ConfigErrorCase{"UnknownKeyInFile",
                        {},
                        {},
                        "poll_intervall = 3\n",
                        {"unknown setting \"poll_intervall\" in {toml}:1", "known settings: ", "poll_interval"}},
        ConfigErrorCase{"TokenInFile",
                        {},
                        {},
                        "hf_token = \"" + std::string(kToken) + "\"\n",
                        {"hf_token in {toml}:1: secrets are never read from the file; set HF_TOKEN in the "
                         "environment or .env"}},
        // The environment's DATABASE_URL would be the effective one, and the file's is then not examined.
        ConfigErrorCase{"PasswordInFile",
                        {},
                        {"DATABASE_URL"},
                        "database_url = \"postgresql://orch:" + std::string(kPassword) + "@db/app\"\n",
                        {"database_url (in {toml}:1): holds a password, and secrets are never read from the file"}}),
    [](const auto& info) { return info.param.name; });

// ---- `check` -----------------------------------------------------------------------------

struct CheckLine {
  std::string status, name, detail;
};

// Parses `check` text output; every line must be "<status> <name> <detail>".
std::vector<CheckLine> ParseCheckText(const std::string& out) {
  static const std::regex kLine(
      R"(^(ok|warn|fail) +(configuration|database|count query|pool query|index|token|prepare (?:space|worker)|)"
      R"(retrain (?:space|worker) \([a-z0-9_]+\)|metadata \([a-z0-9_]+\)) +(.*)$)");
  std::vector<CheckLine> lines;
  for (const std::string& line : Lines(out)) {
    std::smatch match;
    if (!std::regex_match(line, match, kLine)) {
      ADD_FAILURE() << "not a check line: " << line;
      continue;
    }
    lines.push_back({match[1], match[2], match[3]});
  }
  return lines;
}

const std::vector<std::string> kCheckNames = {"configuration",
                                              "database",
                                              "count query",
                                              "pool query",
                                              "index",
                                              "token",
                                              "prepare space",
                                              "retrain space (department)",
                                              "retrain space (urgency)",
                                              "metadata (department)",
                                              "metadata (urgency)"};

class CliCheck : public CliFixture {
 protected:
  // Runs `check` and returns its lines by name, after checking the names and their order.
  std::map<std::string, CheckLine> Check(int expected_exit) {
    last = Run({"check"});
    EXPECT_EQ(last.exit_code, expected_exit) << last.out << last.err;
    EXPECT_EQ(last.err, "");
    std::vector<CheckLine> lines = ParseCheckText(last.out);
    std::vector<std::string> names;
    std::map<std::string, CheckLine> by_name;
    for (const CheckLine& line : lines) {
      names.push_back(line.name);
      by_name[line.name] = line;
    }
    EXPECT_EQ(names, kCheckNames);
    return by_name;
  }

  void ExpectAllOk(const std::map<std::string, CheckLine>& lines, const std::string& database_kind) {
    for (const auto& [name, line] : lines) EXPECT_EQ(line.status, "ok") << name << ": " << line.detail;
    EXPECT_EQ(lines.at("configuration").detail, "2 labels");
    EXPECT_EQ(lines.at("database").detail.rfind(database_kind + " ", 0), 0u) << lines.at("database").detail;
    EXPECT_TRUE(Contains(lines.at("database").detail, " at " + database->database_url().redacted));
    EXPECT_EQ(lines.at("count query").detail, "misclassified: department=20 urgency=4");
    EXPECT_EQ(lines.at("pool query").detail, "correct rows available: department=100 urgency=100");
    EXPECT_EQ(lines.at("index").detail, "misclassified_complaints.complaint_id is indexed");
    EXPECT_EQ(lines.at("token").detail, "accepted by " + hub.endpoint() + " (account tester)");
    EXPECT_EQ(lines.at("prepare space").detail, "owner/prepare exists, stage PAUSED");
    EXPECT_EQ(lines.at("retrain space (urgency)").detail, "owner/retrain_urgency exists, stage SLEEPING");
    EXPECT_EQ(lines.at("metadata (department)").detail, "version d1, 5 samples");
    EXPECT_EQ(lines.at("metadata (urgency)").detail, "version u1, 7 samples");
  }

  ProcessResult last;
};

TEST_F(CliCheck, EverythingFineOnSqlite) {
  ExpectAllOk(Check(0), "SQLite");
  EXPECT_EQ(hub.Count("POST", ""), 0) << "check restarts nothing";
}

TEST_F(CliCheck, MissingIndexIsAWarningWithTheStatementToRun) {
  UseDatabase(AppDatabase::Sqlite(dir.File("no_index.db")), /*with_index=*/false);
  auto lines = Check(0);
  EXPECT_EQ(lines["index"].status, "warn");
  EXPECT_TRUE(Contains(lines["index"].detail,
                       "CREATE INDEX misclassified_complaints_complaint_id_idx ON "
                       "misclassified_complaints (complaint_id);"))
      << lines["index"].detail;
  EXPECT_EQ(lines["count query"].status, "ok");
}

TEST_F(CliCheck, RefusedTokenFailsWithoutShowingIt) {
  hub.SetToken("hf_the_right_one");
  auto lines = Check(1);
  EXPECT_EQ(lines["token"].status, "fail");
  EXPECT_TRUE(Contains(lines["token"].detail, "401")) << lines["token"].detail;
  EXPECT_TRUE(Contains(lines["token"].detail, "token")) << lines["token"].detail;
  EXPECT_FALSE(Contains(lines["token"].detail, kToken));
  EXPECT_EQ(lines["database"].status, "ok") << "one failing check does not stop the others";
}

TEST_F(CliCheck, UnknownSpaceFailsNamingIt) {
  env["RETRAIN_URGENCY_REPO"] = "owner/no_such_space";
  auto lines = Check(1);
  EXPECT_EQ(lines["retrain space (urgency)"].status, "fail");
  EXPECT_TRUE(Contains(lines["retrain space (urgency)"].detail, "owner/no_such_space"))
      << lines["retrain space (urgency)"].detail;
  EXPECT_EQ(lines["retrain space (department)"].status, "ok");
  EXPECT_EQ(lines["token"].status, "ok");
}

TEST_F(CliCheck, LocalWorkersAreCheckedWithoutStartingThemAndNeedNoToken) {
  env.erase("HF_TOKEN");
  env["PREPARE_DATASET_REPO"] = "command:sh -c 'echo started > started.txt'";
  env["RETRAIN_DEPT_REPO"] = "command:no-such-worker-program --label department";
  env["RETRAIN_URGENCY_REPO"] = "webhook:http://127.0.0.1:9/hooks/secret-path";
  std::filesystem::create_directories(dir.File("hub/department"));
  testing::WriteFile(dir.File("hub/department/dataset_metadata.json"), FakeHub::Metadata("d7", 9).dump());
  env["HF_HUB_METADATA_DEPT"] = "file://" + dir.File("hub/department/dataset_metadata.json");
  env["HF_HUB_METADATA_URGENCY"] = "file://" + dir.File("hub/urgency/dataset_metadata.json");
  last = Run({"check"});
  EXPECT_EQ(last.exit_code, 1) << last.out << last.err;
  std::map<std::string, CheckLine> lines;
  for (const CheckLine& line : ParseCheckText(last.out)) lines[line.name] = line;
  EXPECT_EQ(lines["token"].status, "ok") << lines["token"].detail;
  EXPECT_TRUE(Contains(lines["token"].detail, "not needed")) << lines["token"].detail;
  EXPECT_EQ(lines["prepare worker"].status, "ok") << lines["prepare worker"].detail;
  EXPECT_TRUE(Contains(lines["prepare worker"].detail, "/sh found (not started)")) << lines["prepare worker"].detail;
  EXPECT_EQ(lines["retrain worker (department)"].status, "fail");
  EXPECT_TRUE(Contains(lines["retrain worker (department)"].detail, "no-such-worker-program not found"));
  EXPECT_EQ(lines["retrain worker (urgency)"].status, "ok");
  EXPECT_FALSE(Contains(lines["retrain worker (urgency)"].detail, "secret-path")) << "only the origin is shown";
  EXPECT_EQ(lines["metadata (department)"].detail, "version d7, 9 samples");
  EXPECT_EQ(lines["metadata (urgency)"].status, "warn");
  EXPECT_FALSE(std::filesystem::exists(dir.File("started.txt"))) << "nothing was started";
  EXPECT_EQ(hub.Calls().size(), 0u) << "nothing on the Hub, so nothing asked of it";
}

TEST_F(CliCheck, MissingMetadataIsAWarning) {
  env["HF_HUB_METADATA_URGENCY"] = hub.MetadataUrl("owner/never_published");
  auto lines = Check(0);
  EXPECT_EQ(lines["metadata (urgency)"].status, "warn");
  EXPECT_TRUE(Contains(lines["metadata (urgency)"].detail, "404")) << lines["metadata (urgency)"].detail;
  EXPECT_TRUE(Contains(lines["metadata (urgency)"].detail, "(fine before the first dataset is published)"));
  EXPECT_EQ(lines["metadata (department)"].status, "ok");
}

TEST_F(CliCheck, JsonHasOkAndTheSameChecks) {
  ProcessResult text = Run({"check"});
  ProcessResult json = Run({"check", "--json"});
  EXPECT_EQ(json.exit_code, 0) << json.out << json.err;
  nlohmann::json document = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_TRUE(document.is_object()) << json.out;
  EXPECT_EQ(document["ok"], true);
  std::vector<CheckLine> lines = ParseCheckText(text.out);
  ASSERT_EQ(document["checks"].size(), lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(document["checks"][i]["name"], lines[i].name);
    EXPECT_EQ(document["checks"][i]["status"], lines[i].status);
    EXPECT_EQ(document["checks"][i]["detail"], lines[i].detail);
  }
}

TEST_F(CliCheck, JsonSaysNotOkWhenACheckFails) {
  env["PREPARE_DATASET_REPO"] = "owner/gone";
  ProcessResult json = Run({"check", "--json"});
  EXPECT_EQ(json.exit_code, 1);
  nlohmann::json document = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_TRUE(document.is_object()) << json.out;
  EXPECT_EQ(document["ok"], false);
  bool named = false;
  for (const nlohmann::json& check : document["checks"])
    if (check["name"] == "prepare space") {
      EXPECT_EQ(check["status"], "fail");
      named = Contains(check["detail"].get<std::string>(), "owner/gone");
    }
  EXPECT_TRUE(named) << json.out;
}

TEST_F(CliCheck, MissingDatabaseFails) {
  env["DATABASE_URL"] = "sqlite:///" + dir.File("absent.db");
  last = Run({"check"});
  EXPECT_EQ(last.exit_code, 1);
  std::vector<CheckLine> lines = ParseCheckText(last.out);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[1].name, "database");
  EXPECT_EQ(lines[1].status, "fail");
  EXPECT_TRUE(Contains(lines[1].detail, "does not exist")) << lines[1].detail;
}

TEST_F(CliCheck, JsonStaysJsonWhenADetailIsNotUtf8) {
  env["DATABASE_URL"] = "sqlite:///" + dir.File("caf\xe9.db");  // Latin-1, as an old file system may hold it
  ProcessResult json = Run({"check", "--json"});
  EXPECT_EQ(json.exit_code, 1) << json.err;
  EXPECT_EQ(json.err, "");
  nlohmann::json document = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_TRUE(document.is_object()) << json.out;
  EXPECT_EQ(document["ok"], false);
  EXPECT_EQ(document["checks"][1]["name"], "database");
  EXPECT_EQ(document["checks"][1]["status"], "fail");
}

class CliCheckPostgres : public CliCheck {
 protected:
  void SetUp() override {
    ORCH_REQUIRE_POSTGRES();
    CliCheck::SetUp();
    UseDatabase(AppDatabase::Postgres());
  }
};

TEST_F(CliCheckPostgres, EverythingFine) { ExpectAllOk(Check(0), "PostgreSQL"); }

// ---- `run` -------------------------------------------------------------------------------

class CliRun : public CliFixture {};

TEST_F(CliRun, ValidSetupCompletesAPass) {
  // The setup the configuration-error cases start from does make queries and HTTP calls.
  ProcessResult result = Run({"run"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  nlohmann::json summary = SummaryOf(result);
  EXPECT_EQ(summary["status"], "ok");
  EXPECT_EQ(LabelOf(summary, "department")["outcome"], "retrain_triggered");
  EXPECT_EQ(LabelOf(summary, "urgency")["outcome"], "below_threshold");
  EXPECT_EQ(hub.Count("POST", "/api/spaces/owner/retrain_dept/restart"), 1);
}

TEST_F(CliRun, MissingSqliteDatabaseFailsTheRun) {
  const std::string path = dir.File("absent.db");
  env["DATABASE_URL"] = "sqlite:///" + path;
  ProcessResult result = Run({"run"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  nlohmann::json summary = SummaryOf(result);
  EXPECT_EQ(summary["status"], "failed");
  ASSERT_TRUE(summary["error"].is_string()) << result.out;
  EXPECT_TRUE(Contains(summary["error"].get<std::string>(), "does not exist")) << summary["error"];
  EXPECT_TRUE(Contains(summary["error"].get<std::string>(), path)) << summary["error"];
  EXPECT_TRUE(hub.Calls().empty());
  EXPECT_FALSE(std::filesystem::exists(path)) << "a missing database is not created";
}

TEST_F(CliRun, SummaryStaysJsonWhenTheErrorIsNotUtf8) {
  env["DATABASE_URL"] = "sqlite:///" + dir.File("caf\xe9.db");  // Latin-1, as an old file system may hold it
  ProcessResult result = Run({"run", "--log-format", "json"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  nlohmann::json summary = SummaryOf(result);
  EXPECT_EQ(summary["status"], "failed");
  ASSERT_TRUE(summary["error"].is_string()) << result.out;
  EXPECT_TRUE(Contains(summary["error"].get<std::string>(), "does not exist")) << summary["error"];
  for (const std::string& line : Lines(result.err))
    EXPECT_TRUE(nlohmann::json::parse(line, nullptr, false).is_object()) << line;
}

TEST_F(CliRun, TextLogsSurviveBytesThatAreNotUtf8) {
  env["DATABASE_URL"] = "sqlite:///" + dir.File("caf\xe9 db.db");  // a space forces the quoted form
  ProcessResult result = Run({"run"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_EQ(SummaryOf(result)["status"], "failed");
  EXPECT_FALSE(Contains(result.err, "internal error")) << result.err;
  EXPECT_TRUE(Contains(result.err, "pass finished")) << result.err;
}

TEST_F(CliRun, RefusedPostgresFailsTheRunWithoutShowingThePassword) {
  const int port = testing::FreeLoopbackPort();
  env["DATABASE_URL"] = "postgresql://orch:" + std::string(kPassword) + "@127.0.0.1:" + std::to_string(port) + "/app";
  ProcessResult result = Run({"run"});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  nlohmann::json summary = SummaryOf(result);
  EXPECT_EQ(summary["status"], "failed");
  ASSERT_TRUE(summary["error"].is_string()) << result.out;
  EXPECT_FALSE(summary["error"].get<std::string>().empty());
  EXPECT_TRUE(Contains(result.err, "postgresql://orch:****@127.0.0.1:" + std::to_string(port) + "/app")) << result.err;
  EXPECT_TRUE(hub.Calls().empty());
}

TEST_F(CliRun, JsonLogLinesAreObjects) {
  ProcessResult result = Run({"run", "--log-format", "json"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::vector<std::string> lines = Lines(result.err);
  ASSERT_GE(lines.size(), 3u) << result.err;
  std::set<std::string> events;
  for (const std::string& line : lines) {
    nlohmann::json entry = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(entry.is_object()) << "not a JSON object: " << line;
    EXPECT_TRUE(entry["time"].is_string()) << line;
    EXPECT_TRUE(entry["level"] == "info" || entry["level"] == "warning" || entry["level"] == "error") << line;
    ASSERT_TRUE(entry["event"].is_string()) << line;
    events.insert(entry["event"].get<std::string>());
  }
  EXPECT_TRUE(events.count("pass started")) << result.err;
  EXPECT_TRUE(events.count("pass finished")) << result.err;
}

TEST_F(CliRun, LogFormatFromTheEnvironmentToo) {
  env["LOG_FORMAT"] = "json";
  ProcessResult result = Run({"--dry-run"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  for (const std::string& line : Lines(result.err))
    EXPECT_TRUE(nlohmann::json::parse(line, nullptr, false).is_object()) << line;
}

TEST_F(CliRun, ThreeLabelsFromATomlFile) {
  database->AddMisclassified(4, "urgency");  // urgency: 8 misclassified in all
  hub.AddSpace("owner/retrain_topic", "PAUSED");
  hub.PublishMetadata("owner/topic", FakeHub::Metadata("t1", 5));
  hub.OnRestart("owner/prepare", {FakeHub::Publication::AfterPolls("owner/topic", 30, 1, "t2"),
                                  FakeHub::Publication::AfterPolls("owner/urgency", 12, 0, "u2")});
  WriteFile(dir.File("settings.toml"),
            "hf_endpoint = \"" + hub.endpoint() +
                "\"\n"
                "prepare_dataset_repo = \"owner/prepare\"\n"
                "database_url = \"" +
                database->url() +
                "\"\n"
                "poll_interval = 0.02\npoll_timeout = 20\nhttp_retry_base = 0.01\nhttp_retry_max = 0.05\n"
                "[labels.department]\nthreshold = 50\nretrain = \"owner/retrain_dept\"\n"
                "metadata_url = \"" +
                hub.MetadataUrl("owner/department") +
                "\"\n"
                "[labels.urgency]\nthreshold = 12\nretrain = \"owner/retrain_urgency\"\n"
                "metadata_url = \"" +
                hub.MetadataUrl("owner/urgency") +
                "\"\n"
                "[labels.topic]\nthreshold = 25\nretrain = \"owner/retrain_topic\"\n"
                "metadata_url = \"" +
                hub.MetadataUrl("owner/topic") +
                "\"\n"
                "predicted_column = \"model_predicted_department\"\ncorrect_column = \"correct_department\"\n"
                "pool_column = \"department\"\n");
  env = {{"PATH", "/usr/bin:/bin"}, {"HF_TOKEN", kToken}};  // everything else comes from the file
  ProcessResult result = Run({"run", "--config", dir.File("settings.toml")});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  nlohmann::json summary = SummaryOf(result);
  ASSERT_EQ(summary["labels"].size(), 3u) << result.out;

  const nlohmann::json& department = LabelOf(summary, "department");  // 20 + 10 = 30 < 50
  EXPECT_EQ(department["misclassified"], 20);
  EXPECT_EQ(department["sampled_correct"], 10);
  EXPECT_EQ(department["dataset_len"], 30);
  EXPECT_EQ(department["upper_bound"], true);
  EXPECT_EQ(department["outcome"], "below_threshold");

  const nlohmann::json& topic = LabelOf(summary, "topic");  // department's columns: 30 >= 25
  EXPECT_EQ(topic["misclassified"], 20);
  EXPECT_EQ(topic["sampled_correct"], 10);
  EXPECT_EQ(topic["dataset_len"], 30);
  EXPECT_EQ(topic["upper_bound"], false);
  EXPECT_EQ(topic["threshold"], 25);
  EXPECT_EQ(topic["outcome"], "retrain_triggered");
  EXPECT_EQ(topic["baseline_version"], "t1");
  EXPECT_EQ(topic["dataset_version"], "t2");

  const nlohmann::json& urgency = LabelOf(summary, "urgency");  // 8 + 4 = 12 >= 12
  EXPECT_EQ(urgency["misclassified"], 8);
  EXPECT_EQ(urgency["sampled_correct"], 4);
  EXPECT_EQ(urgency["dataset_len"], 12);
  EXPECT_EQ(urgency["outcome"], "retrain_triggered");

  EXPECT_EQ(hub.Count("POST", "/api/spaces/owner/prepare/restart"), 1);
  EXPECT_EQ(hub.Count("POST", "/api/spaces/owner/retrain_topic/restart"), 1);
  EXPECT_EQ(hub.Count("POST", "/api/spaces/owner/retrain_urgency/restart"), 1);
  EXPECT_EQ(hub.Count("POST", "/api/spaces/owner/retrain_dept/restart"), 0);
}

TEST_F(CliRun, UnwritableSummaryPathIsAUsageErrorBeforeAnything) {
  const std::string path = dir.File("no_such_dir/summary.json");
  ProcessResult result = Run({"run", "--summary", path});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "orchestrator: --summary " + path + ": cannot write this file; choose a writable path\n");
  EXPECT_TRUE(hub.Calls().empty());
}

}  // namespace
}  // namespace orch
