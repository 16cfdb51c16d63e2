// `orchestrator demo`: the whole loop on one machine, told step by step.
//
// The demo plays the application (a simulated grievance service whose weak first model reviewers
// correct) and runs real passes of this same program as child processes, configured the way a
// user would configure them: SQLite, file:// metadata in a local hub, command: workers that are
// `orchestrator prepare` and `orchestrator retrain`.

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "config/database_url.h"
#include "config/label_name.h"
#include "demo/demo_database.h"
#include "hub/local_repository.h"
#include "util/child_process.h"
#include "util/error.h"
#include "workers/decision_log.h"
#include "workers/model_card.h"
#include "workers/model_repository.h"

namespace orch {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Settings = std::map<std::string, std::string>;

constexpr int64_t kFirstBatch = 2000;  // complaints before the first pass
constexpr int64_t kLaterBatch = 1500;  // complaints that arrive, with their reviews, before the third
constexpr const char* kThreshold = "300";
constexpr const char* kLabels[] = {"department", "urgency"};

struct DemoPaths {
  fs::path dir, database, hub, models, logs, env_file;
};

DemoPaths PathsIn(const std::string& dir) {
  const fs::path root = fs::absolute(dir);
  return {root, root / "demo.db", root / "hub", root / "models", root / "logs", root / "demo.env"};
}

std::string SelfPath() {
  std::error_code error;
  fs::path self = fs::read_symlink("/proc/self/exe", error);
  if (error) throw WorkerError("cannot find this program's own path (/proc/self/exe): " + error.message());
  return self.string();
}

// Quotes a word for a command: line (config/target.h splits it back).
std::string Quoted(const std::string& word) {
  if (word.find_first_of(" \t'\"\\$`") == std::string::npos) return word;
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

Settings DemoSettings(const DemoPaths& paths, const std::string& self) {
  Settings settings = {
      {"DATABASE_URL", "sqlite:///" + paths.database.string()},
      {"LABELS", "department,urgency"},
      {"PREPARE_DATASET_REPO", "command:" + Quoted(self) + " prepare --hub " + Quoted(paths.hub.string())},
      {"CORRECT_RATIO", "0.5"},
      {"POLL_INTERVAL", "0.1"},
      {"POLL_TIMEOUT", "120"},
      {"WORKER_LOG_DIR", paths.logs.string()},
      {"DRY_RUN", "false"},
      {"ORCHESTRATOR_NAME", "demo"},
  };
  for (const std::string label : kLabels) {
    const std::string upper = LabelEnvSpellings(label).front();
    settings["THRESHOLD_" + upper] = kThreshold;
    settings["RETRAIN_" + upper + "_REPO"] = "command:" + Quoted(self) + " retrain --label " + label + " --dataset " +
                                             Quoted((paths.hub / label).string()) + " --models " +
                                             Quoted(paths.models.string()) + " --json";
    settings["HF_HUB_METADATA_" + upper] = "file://" + (paths.hub / label / "dataset_metadata.json").string();
  }
  return settings;
}

void WriteEnvFile(const DemoPaths& paths, const Settings& settings) {
  std::ofstream out(paths.env_file, std::ios::trunc);
  out << "# The settings `orchestrator demo` runs its passes with.\n"
         "# Try a pass of your own: orchestrator run --env-file "
      << paths.env_file.string() << "\n";
  for (const auto& [name, value] : settings) out << name << "=" << Json(value).dump() << "\n";
  if (!out) throw WorkerError("cannot write " + paths.env_file.string());
}

std::vector<std::string> AsEnvironment(const Settings& settings) {
  std::vector<std::string> environment;
  for (const auto& [name, value] : settings) environment.push_back(name + "=" + value);
  return environment;
}

void Step(int number, const std::string& title) { std::cout << "\n== " << number << ". " << title << "\n"; }

// Runs one pass as a user would, and returns its summary.
Json RunPass(const DemoPaths& paths, const Settings& settings, const std::string& self, int number) {
  const std::string log = (paths.logs / ("pass-" + std::to_string(number) + ".log")).string();
  const std::string summary = (paths.logs / ("pass-" + std::to_string(number) + ".json")).string();
  ChildProcess pass({self, "run", "--wait", "--env-file", paths.env_file.string(), "--summary", summary},
                    AsEnvironment(settings), log);
  const int status = pass.Wait();
  std::ifstream in(summary);
  Json parsed = Json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object())
    throw WorkerError("pass " + std::to_string(number) + " " + DescribeExit(status) +
                      " without a summary; last lines of " + log + ":\n" + LastLines(log, 10));
  std::cout << "   pass " << number << ": " << parsed.value("status", "?") << " (exit " << status << "), log " << log
            << "\n";
  return parsed;
}

std::string Score(const Json& scores) {
  if (!scores.is_object()) return "none";
  std::ostringstream text;
  text << std::fixed << std::setprecision(3) << "macro-F1 " << scores.value("macro_f1", 0.0) << ", accuracy "
       << scores.value("accuracy", 0.0);
  return text.str();
}

void PrintLabel(const Json& label) {
  std::cout << "   " << label.value("label", "?") << ": " << label.value("misclassified", 0)
            << " reviewed corrections, dataset of " << label.value("dataset_len", 0) << " rows (threshold "
            << label.value("threshold", 0) << ") -> " << label.value("outcome", "?");
  if (label.value("outcome", "") == "up_to_date" && label.contains("new_rows") && label["new_rows"].is_number())
    std::cout << " (" << label["new_rows"].get<int64_t>() << " new corrections since its dataset was retrained; "
              << label.value("min_new_rows", 1) << " needed)";
  if (label.contains("dataset_version") && label["dataset_version"].is_string())
    std::cout << ", dataset " << label["dataset_version"].get<std::string>();
  std::cout << "\n";
  if (label.contains("error") && label["error"].is_string())
    std::cout << "      error: " << label["error"].get<std::string>() << "\n";
  if (!label.contains("retrain")) return;
  const Json& decision = label["retrain"]["decision"];
  if (!decision.is_object()) {
    std::cout << "      retrain worker: " << label["retrain"].value("result", "?") << "\n";
    return;
  }
  // Both models are scored on this dataset's test split, so the deployed model's figures differ from
  // those it had when it was deployed, on an earlier split.
  std::cout << "      retrain worker: " << decision.value("decision", "?") << ", new model " << Score(decision["new"])
            << "; deployed model, scored again on the same new test split: " << Score(decision["deployed"]) << "\n";
  if (decision.contains("reason") && decision["reason"].is_string())
    std::cout << "      " << decision["reason"].get<std::string>() << "\n";
}

bool EveryLabel(const Json& summary, const std::string& outcome) {
  for (const Json& label : summary["labels"])
    if (label.value("outcome", "") != outcome) return false;
  return true;
}

// At most `characters` characters of UTF-8 `text`, never cutting one in two.
std::string Shortened(const std::string& text, size_t characters) {
  size_t end = 0;
  for (size_t count = 0; end < text.size() && count < characters; ++count) do
      ++end;
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80);
  return end < text.size() ? text.substr(0, end) + "…" : text;
}

void ShowPredictions(const DemoPaths& paths, const std::string& self) {
  const std::vector<std::string> texts = {
      "The street lights on our road have not worked for two weeks", "विद्यालयमा शिक्षक छैनन्, बच्चाहरू पढ्न पाएका छैनन्",
      "Armed men threatened shopkeepers last night, please send police immediately"};
  for (const std::string label : kLabels) {
    const std::string log = (paths.logs / ("predict-" + label + ".log")).string();
    std::vector<std::string> argv = {self, "predict", "--label", label, "--models", paths.models.string()};
    argv.insert(argv.end(), texts.begin(), texts.end());
    fs::remove(log);
    ChildProcess predict(argv, {}, log);
    if (predict.Wait() != 0) {
      std::cout << "   " << label << ": no deployed model (" << LastLines(log, 1) << ")\n";
      continue;
    }
    std::istringstream answers(LastLines(log, static_cast<int>(texts.size())));
    std::string answer;
    for (const std::string& text : texts) {
      std::getline(answers, answer);
      std::cout << "   " << std::setw(10) << std::left << label << " \"" << Shortened(text, 48) << "\" -> " << answer
                << "\n";
    }
  }
}

// Each label's model repository: what main deploys, and every candidate its decisions name.
void ShowModels(const DemoPaths& paths) {
  for (const std::string label : kLabels) {
    const fs::path dir = paths.models / label;
    std::cout << "   " << dir.string() << ": ";
    try {
      LocalRepository repository(dir);
      ModelRepository models(repository, label);
      const MainSnapshot main = models.ReadMain();
      if (!main.commit || !main.has_model) {
        std::cout << "no model deployed\n";
        continue;
      }
      const ModelCard deployed = models.ReadCard(*main.commit, kMainBranch);
      std::cout << "main (commit " << main.commit->substr(0, 12) << ") deploys the model trained on "
                << deployed.dataset_version << "\n";
      for (const LoggedDecision& decision : ReadableDecisions(main.decisions))
        std::cout << "      " << decision.time << "  " << std::setw(9) << std::left << decision.decision
                  << " candidate tagged " << decision.dataset_version << "\n";
    } catch (const Error& error) {
      std::cout << error.what() << "\n";
    }
  }
}

void AddComplaints(DemoDatabase& database, int64_t count) {
  const DemoCounts added = database.AddBatch(count);
  const DemoCounts total = database.Counts();
  std::cout << "   " << added.complaints << " new grievances (English and Nepali) labelled by a weak first model; "
            << "reviewers corrected " << added.department << " department and " << added.urgency
            << " urgency labels\n   the application now holds " << total.complaints << " grievances, "
            << total.department << " and " << total.urgency << " reviewed corrections\n";
}

}  // namespace

int DemoCommand(const DemoOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  const DemoPaths paths = PathsIn(options.dir);
  if (options.fresh) fs::remove_all(paths.dir);
  for (const fs::path& dir : {paths.dir, paths.hub, paths.models, paths.logs}) fs::create_directories(dir);
  const std::string self = SelfPath();
  const Settings settings = DemoSettings(paths, self);
  WriteEnvFile(paths, settings);
  std::cout << "orchestrator demo in " << paths.dir.string() << " (settings in " << paths.env_file.string() << ")\n";

  Step(1, "The application: grievances, a weak model, reviewers' corrections");
  DemoDatabase database(ParseDatabaseUrl("sqlite:///" + paths.database.string()));
  if (database.Counts().complaints == 0) {
    AddComplaints(database, kFirstBatch);
  } else {
    std::cout << "   reusing " << paths.database.string() << " (" << database.Counts().complaints
              << " grievances); --fresh starts over\n";
  }

  Step(2, "A pass: enough corrections, so prepare a dataset, wait for it, retrain each label");
  const Json first = RunPass(paths, settings, self, 1);
  for (const Json& label : first["labels"]) PrintLabel(label);

  Step(3, "The deployed models answer");
  ShowPredictions(paths, self);

  Step(4, "Another pass with no new corrections: nothing happens twice");
  const Json second = RunPass(paths, settings, self, 2);
  for (const Json& label : second["labels"]) PrintLabel(label);
  const bool idempotent = EveryLabel(second, "up_to_date");

  Step(5, "More grievances and reviews arrive; the next pass learns from them");
  AddComplaints(database, kLaterBatch);
  const Json third = RunPass(paths, settings, self, 3);
  for (const Json& label : third["labels"]) PrintLabel(label);

  Step(6, "Each label's models: a repository whose main is deployed, every candidate tagged");
  ShowModels(paths);

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const bool ok = first.value("status", "") == "ok" && idempotent && third.value("status", "") == "ok";
  std::cout << "\n== Summary\n   " << (ok ? "the loop ran end to end" : "a step did not go as expected") << " in "
            << std::fixed << std::setprecision(1) << seconds << " s\n"
            << "   datasets: " << paths.hub.string() << "\n   models: " << paths.models.string()
            << "/<label> (main's model.bin, its README.md card and decisions.jsonl; `orchestrator rollback --label "
               "<label> --models "
            << paths.models.string() << "` deploys the model before)\n   worker logs: " << paths.logs.string() << "\n"
            << "   history: orchestrator history --env-file " << paths.env_file.string() << "\n";
  return ok ? kExitOk : kExitFailed;
}

}  // namespace orch
