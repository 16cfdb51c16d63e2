// The whole loop on one machine, end to end: a simulated application in a real database (SQLite
// file or PostgreSQL server), the real binary as the pass, and the real binary again as the
// command: workers (prepare into a local hub directory, retrain into a models directory).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "demo/demo_database.h"
#include "hub/local_repository.h"
#include "support/app_database.h"
#include "support/dataset_repository.h"
#include "support/postgres_server.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;
using testing::AppDatabase;
using testing::ProcessResult;
using testing::Subprocess;
using testing::TempDir;
namespace fs = std::filesystem;

int CountLines(const fs::path& path) {
  std::ifstream in(path);
  int lines = 0;
  for (std::string line; std::getline(in, line);) lines += !line.empty();
  return lines;
}

Json ReadJson(const fs::path& path) {
  std::ifstream in(path);
  return Json::parse(in, nullptr, /*allow_exceptions=*/false);
}

class LocalLoop : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") ORCH_REQUIRE_POSTGRES();
    database = AppDatabase::ForEngine(GetParam(), dir.File("app.db"));
    application = std::make_unique<DemoDatabase>(database->database_url(), DemoDataOptions::WithSeed(7));
    added = application->AddBatch(1200);
    fs::create_directories(Hub());
    const std::string self = ORCH_BINARY;
    env = {{"PATH", "/usr/bin:/bin"},
           {"DATABASE_URL", database->url()},
           {"LABELS", "department,urgency"},
           {"THRESHOLD_DEPARTMENT", "100"},
           {"THRESHOLD_URGENCY", "100"},
           {"POLL_INTERVAL", "0.05"},
           {"POLL_TIMEOUT", "60"},
           {"WORKER_LOG_DIR", Hub().parent_path() / "logs"},
           {"PREPARE_DATASET_REPO", "command:" + self + " prepare --hub " + Hub().string()}};
    for (const std::string label : {"department", "urgency"}) {
      const std::string upper = label == "department" ? "DEPARTMENT" : "URGENCY";
      env["RETRAIN_" + upper + "_REPO"] = "command:" + self + " retrain --json --label " + label + " --dataset " +
                                          (Hub() / label).string() + " --models " + Models().string();
      env["HF_HUB_METADATA_" + upper] = "file://" + (Hub() / label / "dataset_metadata.json").string();
    }
  }

  fs::path Hub() const { return dir.path() / "hub"; }
  fs::path Models() const { return dir.path() / "models"; }

  ProcessResult Orchestrator(std::vector<std::string> args) {
    args.insert(args.begin(), ORCH_BINARY);
    ProcessResult result = Subprocess::Run(args, env, dir.path().string(), 120s);
    EXPECT_FALSE(result.timed_out);
    return result;
  }

  Json RunPass() {
    ProcessResult result = Orchestrator({"run", "--wait"});
    Json summary = Json::parse(result.out, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(summary.is_discarded()) << result.out << "\nstderr:\n" << result.err;
    last_exit = result.exit_code;
    last_err = result.err;
    return summary;
  }

  static const Json& Label(const Json& summary, const std::string& name) {
    for (const Json& label : summary["labels"])
      if (label["label"] == name) return label;
    throw std::runtime_error("no label " + name + " in " + summary.dump());
  }

  TempDir dir;
  std::unique_ptr<AppDatabase> database;
  std::unique_ptr<DemoDatabase> application;
  DemoCounts added;
  std::map<std::string, std::string> env;
  int last_exit = -1;
  std::string last_err;
};

TEST_P(LocalLoop, PreparesPublishesRetrainsDeploysAndPredictsThenDoesNothingTwice) {
  const Json first = RunPass();
  ASSERT_EQ(last_exit, 0) << last_err;
  for (const std::string label : {"department", "urgency"}) {
    SCOPED_TRACE(label);
    const Json& report = Label(first, label);
    EXPECT_EQ(report["misclassified"], label == "department" ? added.department : added.urgency);
    EXPECT_EQ(report["outcome"], "retrain_triggered") << report.dump();

    // The published version: metadata committed last, tagged, naming splits that are all there.
    const Json metadata = ReadJson(Hub() / label / "dataset_metadata.json");
    ASSERT_TRUE(metadata.is_object());
    EXPECT_EQ(metadata["version_tag"], report["dataset_version"]);
    EXPECT_EQ(metadata["num_samples"], report["dataset_len"]);
    LocalRepository repository(Hub() / label);
    const std::string version = metadata["version_tag"].get<std::string>();
    ASSERT_TRUE(repository.HeadOf(version)) << "the version is tagged";
    int total = 0;
    for (const std::string split : {"train", "validation", "test"}) {
      const std::string rows = repository.ReadFile(version, "data/" + split + ".jsonl", 1 << 26).value_or("");
      EXPECT_EQ(std::count(rows.begin(), rows.end(), '\n'), metadata["splits"][split]) << split;
      total += metadata["splits"][split].get<int>();
    }
    EXPECT_EQ(total, metadata["num_samples"]);
    const Json labels = Json::parse(repository.ReadFile(version, "labels.json", 1 << 20).value_or(""), nullptr, false);
    // The retrain worker's decision, in the summary and on disk.
    const Json& decision = report["retrain"]["decision"];
    EXPECT_EQ(report["retrain"]["result"], "finished");
    EXPECT_EQ(decision["decision"], "accepted") << decision.dump();
    EXPECT_EQ(decision["dataset_version"], metadata["version_tag"]);
    // The model repository: main deploys the candidate tagged with the dataset version.
    LocalRepository models(Models() / label);
    EXPECT_TRUE(fs::exists(Models() / label / "model.bin"));
    EXPECT_EQ(models.HeadOf(version), decision["candidate"]);
    EXPECT_EQ(models.ReadFile("main", "model.json", 1 << 20), models.ReadFile(version, "model.json", 1 << 20));
    EXPECT_EQ(CountLines(Models() / label / "decisions.jsonl"), 1);
  }

  ProcessResult predicted = Orchestrator({"predict", "--json", "--label", "department", "--models", Models().string(),
                                          "Armed robbers attacked a shop in ward 4 last night, police did not come"});
  ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
  const Json answer = Json::parse(predicted.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(answer.is_object()) << predicted.out;
  EXPECT_TRUE(ReadJson(Hub() / "department" / "labels.json").contains(answer["label"].get<std::string>()));
  EXPECT_GT(answer["probability"].get<double>(), 0.0);

  const Json second = RunPass();
  EXPECT_EQ(last_exit, 0) << last_err;
  for (const std::string label : {"department", "urgency"}) {
    EXPECT_EQ(Label(second, label)["outcome"], "up_to_date");
    EXPECT_EQ(CountLines(Models() / label / "decisions.jsonl"), 1) << "nothing retrained twice";
  }
}

// Reviewed corrections of complaints whose text is nothing once cleaned (empty, blank, only a link or
// tags) are counted by the pass and cannot be trained on: the worker makes up for them, says so in
// dataset_metadata.json, and every label still completes its cycle.
TEST_P(LocalLoop, CorrectionsWithoutUsableTextLeaveNoLabelStuck) {
  const std::vector<std::string> empty_texts = {"", "  \n\t ", "https://example.org/complaint/17", "<p></p><br/>"};
  for (const std::string& message : empty_texts) {
    testing::MisclassifiedRow department;
    department.predicted_department = testing::kDepartments[0];
    department.correct_department = testing::kDepartments[3];
    database->AddMisclassifiedRow(department,
                                  database->AddComplaint(testing::kDepartments[3], testing::kUrgencies[0], message));
    testing::MisclassifiedRow urgency;
    urgency.predicted_urgency = testing::kUrgencies[0];
    urgency.correct_urgency = testing::kUrgencies[2];
    database->AddMisclassifiedRow(urgency,
                                  database->AddComplaint(testing::kDepartments[1], testing::kUrgencies[2], message));
  }
  const Json first = RunPass();
  EXPECT_EQ(last_exit, 0) << last_err;
  for (const std::string label : {"department", "urgency"}) {
    SCOPED_TRACE(label);
    const Json& report = Label(first, label);
    EXPECT_EQ(report["misclassified"], (label == "department" ? added.department : added.urgency) + 4)
        << "the rows without text are counted";
    EXPECT_EQ(report["outcome"], "retrain_triggered") << report.dump();
    EXPECT_EQ(report["retrain"]["result"], "finished") << report.dump();
    const Json metadata = ReadJson(Hub() / label / "dataset_metadata.json");
    ASSERT_TRUE(metadata.is_object());
    EXPECT_EQ(metadata["version_tag"], report["dataset_version"]);
    EXPECT_GE(metadata["rows_left_out"]["no_text"].get<int>(), 4) << metadata.dump();
    EXPECT_EQ(metadata["rows_dropped"], 0) << "the pool made up for them: " << metadata.dump();
    EXPECT_EQ(metadata["num_samples"], report["dataset_len"]) << metadata.dump();
  }
  EXPECT_EQ(database->QueryInt("SELECT count(*) FROM orchestrator_label_state WHERE phase <> 'idle'"), 0)
      << "no label left preparing or retraining";

  const Json second = RunPass();
  EXPECT_EQ(last_exit, 0) << last_err;
  for (const std::string label : {"department", "urgency"}) EXPECT_EQ(Label(second, label)["outcome"], "up_to_date");
}

// A later dataset whose labels are scrambled trains a worse model: it is rejected and the
// deployed model stays; the decision is recorded either way.
TEST_P(LocalLoop, AWorseModelIsNotDeployed) {
  ASSERT_EQ(Label(RunPass(), "department")["outcome"], "retrain_triggered");
  const std::string deployed = testing::ReadFile((Models() / "department" / "model.json").string());

  const Json metadata = ReadJson(Hub() / "department" / "dataset_metadata.json");
  LocalRepository repository(Hub() / "department");
  const std::string good = metadata["version_tag"].get<std::string>();
  const auto read = [&](const std::string& path) { return repository.ReadFile(good, path, 1 << 26).value_or(""); };
  std::string scrambled;
  {
    std::istringstream in(read("data/train.jsonl"));
    int n = 0;
    for (std::string line; std::getline(in, line); ++n) {
      Json row = Json::parse(line);
      row["label"] = n % 4;  // labels that no longer follow the text
      scrambled += row.dump() + '\n';
    }
  }
  testing::PublishVersion(Hub() / "department", "v20990101_000000",
                          {.labels_json = read("labels.json"),
                           .train = scrambled,
                           .validation = read("data/validation.jsonl"),
                           .test = read("data/test.jsonl")});
  ProcessResult retrain =
      Orchestrator({"retrain", "--json", "--label", "department", "--dataset", (Hub() / "department").string(),
                    "--models", Models().string(), "--version", "v20990101_000000"});
  ASSERT_EQ(retrain.exit_code, 0) << retrain.err;
  const Json decision = Json::parse(retrain.out, nullptr, /*allow_exceptions=*/false);
  EXPECT_EQ(decision["decision"], "rejected") << retrain.out;
  EXPECT_EQ(testing::ReadFile((Models() / "department" / "model.json").string()), deployed);
  EXPECT_TRUE(LocalRepository(Models() / "department").HeadOf("v20990101_000000")) << "kept as a candidate";
  EXPECT_EQ(CountLines(Models() / "department" / "decisions.jsonl"), 2);
}

TEST_P(LocalLoop, AFailingPrepareCommandFailsThePassAtOnceWithItsLastLogLines) {
  env["PREPARE_DATASET_REPO"] = "command:sh -c 'echo connecting; echo cannot reach the database >&2; exit 4'";
  const Json summary = RunPass();
  EXPECT_EQ(last_exit, 1);
  const std::string error = Label(summary, "department")["error"];
  EXPECT_NE(error.find("exited with status 4"), std::string::npos) << error;
  EXPECT_NE(error.find("cannot reach the database"), std::string::npos) << error;
  EXPECT_LT(Label(summary, "department")["waited_seconds"].get<double>(), 30) << "not POLL_TIMEOUT";
}

TEST_P(LocalLoop, ARetrainCommandThatExitsNonZeroFailsThePassWithItsLastLogLines) {
  env["RETRAIN_URGENCY_REPO"] = "command:sh -c 'echo the validation split is empty >&2; exit 3'";
  const Json summary = RunPass();
  EXPECT_EQ(last_exit, 1);
  EXPECT_EQ(Label(summary, "department")["outcome"], "retrain_triggered");
  const Json& urgency = Label(summary, "urgency");
  EXPECT_EQ(urgency["outcome"], "failed");
  EXPECT_NE(urgency["error"].get<std::string>().find("the validation split is empty"), std::string::npos)
      << urgency.dump();
}

// Everything the orchestrator keeps, as text: its tables, and the files of the hub, the models and
// the worker logs (names and sizes).
std::string EverythingKept(const testing::AppDatabase& database, const fs::path& root) {
  std::string kept;
  for (const char* table :
       {"orchestrator_label_state", "orchestrator_runs", "orchestrator_lock", "orchestrator_schema_migrations"}) {
    const std::string query = std::string("SELECT * FROM ") + table + " ORDER BY 1";
    const ProcessResult dump = database.is_postgres()
                                   ? Subprocess::Run({"/usr/bin/psql", "-At", database.url(), "-c", query},
                                                     {{"PATH", "/usr/bin:/bin"}}, root.string(), 30s)
                                   : Subprocess::Run({"/usr/bin/sqlite3", database.database_url().target, query},
                                                     {{"PATH", "/usr/bin:/bin"}}, root.string(), 30s);
    EXPECT_EQ(dump.exit_code, 0) << dump.err;
    kept += std::string(table) + ":\n" + dump.out;
  }
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(root))
    if (entry.is_regular_file() && entry.path().extension() != ".db")
      kept += entry.path().string() + " " + std::to_string(entry.file_size()) + "\n";
  return kept;
}

TEST_P(LocalLoop, ADryRunWritesNothingAnywhere) {
  ASSERT_EQ(Label(RunPass(), "department")["outcome"], "retrain_triggered") << last_err;
  application->AddBatch(600);  // enough new corrections that a real pass would prepare again
  const std::string before = EverythingKept(*database, dir.path());
  const ProcessResult dry = Orchestrator({"run", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  const Json summary = Json::parse(dry.out);
  EXPECT_EQ(Label(summary, "department")["outcome"], "dry_run") << dry.out;
  EXPECT_EQ(EverythingKept(*database, dir.path()), before) << "no table row, no file, no worker";
}

INSTANTIATE_TEST_SUITE_P(Engines, LocalLoop, ::testing::Values("sqlite", "postgres"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace orch
