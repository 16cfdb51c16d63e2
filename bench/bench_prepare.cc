// Benchmark: `orchestrator prepare` end to end on a large database, on PostgreSQL and on SQLite.
//
// Builds the same rows in both engines once (bulk loads: COPY FROM on PostgreSQL, one transaction
// on SQLite): 2N complaints whose messages look like the real ones (Nepali and English, with URLs,
// HTML tags and line breaks to clean), the first N of them with a reviewed misclassification; the
// pool is the other N. Then times the whole process (start, read, clean, sample, split, write and
// fsync every file, publish, exit) pinned to one CPU, a warm-up run and then --runs runs per engine,
// the engines taking turns. Each run publishes 1.5N rows (N + 0.5N sampled). Prints a Markdown row
// per engine: the median wall time and the median CPU time (user + system) of the process, rows
// published per second by each, and the largest peak RSS; then whether both engines published
// byte-identical split files, and whether the goals were met: at least 300,000 rows per second by
// wall time and a peak RSS under 64 MiB (exit 1 when either is not so). On a machine shared with
// other work the wall time includes waiting for the CPU; the CPU time does not.
//
//   bench_prepare [--rows N] [--runs N] [--engine sqlite|postgres]... [--hub HUB] [--fake-hub on]
//                 [--binary PATH]
//
// --hub is handed to `orchestrator prepare --hub` as it is. Without it each engine publishes into
// a directory of the benchmark's own, emptied between runs; a hub given is never emptied (each run
// publishes one more version into it). --fake-hub on publishes each engine's versions into a
// dataset repository on a fake Hub in this process (tests/support/fake_hub.h) over real HTTP, LFS
// uploads included: the peak RSS is still the prepare process's alone.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "db/application_schema.h"
#include "support/app_database.h"
#include "support/fake_hub.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"

namespace orch::bench {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::AppDatabase;
using testing::ProcessResult;
using testing::Subprocess;
using testing::TempDir;

constexpr const char* kTaskset = "/usr/bin/taskset";
constexpr const char* kTime = "/usr/bin/time";  // GNU time (Debian package time)
constexpr double kGoalRowsPerSecond = 300'000;
constexpr long kGoalPeakKib = 64 * 1024;

// Complaint g's message, cycling through four realistic shapes.
std::string Message(long g) {
  const std::string n = std::to_string(g);
  switch (g % 4) {
    case 0:
      return "सडकमा ठूलो खाल्डो छ, वडा नं. " + std::to_string(g % 32) +
             " मा <b>तुरुन्त</b> मर्मत गर्नुहोस्।\nफोटो: https://photos.example.org/p/" + n;
    case 1:
      return "Street light near ward " + std::to_string(g % 32) + " has been broken for " + std::to_string(g % 9 + 1) +
             " weeks.   See www.ward.gov.np/report/" + n + " <br> please fix it soon";
    case 2:
      return "पानीको पाइप फुटेको छ, " + n + " घरमा पानी आएन।\tWater pipe burst, no water for " +
             std::to_string(g % 5 + 1) + " days.";
    default:
      return "<p>Garbage has not been collected in tole " + n + " since last week.</p>\r\nफोहोर उठाइएन, दुर्गन्ध आयो।";
  }
}

// 2N complaints, the first N misrouted: predicted one department, corrected to their own.
void BuildDatabase(AppDatabase& database, long rows) {
  database.CreateSchema(/*with_complaint_id_index=*/false);
  long g = 0;
  database.BulkInsert("complaints", {"id", "citizen_id", "department", "urgency", "message"},
                      [&](AppDatabase::BulkRow& row) {
                        if (++g > 2 * rows) return false;
                        row = {std::to_string(g), std::to_string(g), testing::kDepartments[g % 4],
                               testing::kUrgencies[g % 3], Message(g)};
                        return true;
                      });
  g = 0;
  database.BulkInsert("misclassified_complaints",
                      {"complaint_id", "model_predicted_department", "correct_department", "reviewed"},
                      [&](AppDatabase::BulkRow& row) {
                        if (++g > rows) return false;
                        const char* department = testing::kDepartments[g % 4];
                        row = {std::to_string(g), testing::kDepartments[g % 4 == 3 ? 0 : 3], department, "1"};
                        return true;
                      });
  database.Exec(ComplaintIdIndexSql(/*if_absent=*/false));
  database.Exec(database.is_postgres() ? "VACUUM ANALYZE" : "ANALYZE");
}

// User plus system CPU seconds of every child reaped so far.
double ChildrenCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  const auto seconds = [](const timeval& time) { return static_cast<double>(time.tv_sec) + time.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// One engine's database and where it publishes.
struct Engine {
  std::string name;  // "PostgreSQL", "SQLite"
  std::unique_ptr<AppDatabase> database;
  std::string hub;                             // the --hub argument
  std::map<std::string, std::string> hub_env;  // what prepare needs to reach it (the fake Hub's endpoint, a token)
  bool measure_with_time = false;              // the peak RSS as GNU time tells it (see RunPrepare)
  std::optional<fs::path> own_hub;             // the benchmark's own hub directory, emptied between runs
  std::vector<double> seconds, cpu_seconds;
  long peak_kib = 0;
  long published = 0;
};

// Runs `orchestrator prepare` once for `engine`; false when it failed.
bool RunPrepare(Engine& engine, const std::string& binary, bool pinned, const fs::path& cwd, bool counted) {
  if (engine.own_hub) {
    fs::remove_all(*engine.own_hub / "department");
    fs::create_directories(*engine.own_hub);
  }
  std::vector<std::string> argv = {binary, "prepare", "--hub", engine.hub, "--label", "department", "--json"};
  if (pinned) argv.insert(argv.begin(), {kTaskset, "--cpu-list", "0"});
  // A process started from this one starts with its resident pages, the fake Hub's versions among
  // them, and the kernel counts them in its peak: GNU time, small, starts prepare and tells its own.
  const fs::path rss_file = cwd / "prepare-peak-rss";
  if (engine.measure_with_time) argv.insert(argv.begin(), {kTime, "-f", "%M", "-o", rss_file.string()});
  std::map<std::string, std::string> env = {{"PATH", "/usr/bin:/bin"}, {"DATABASE_URL", engine.database->url()}};
  env.insert(engine.hub_env.begin(), engine.hub_env.end());
  const auto start = std::chrono::steady_clock::now();
  const double cpu_before = ChildrenCpuSeconds();
  const ProcessResult result = Subprocess::Run(argv, env, cwd.string(), 600s);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double cpu = ChildrenCpuSeconds() - cpu_before;
  if (result.exit_code != 0) {
    std::cerr << "orchestrator prepare on " << engine.name << " failed (" << result.exit_code << "):\n"
              << result.err << "\n";
    return false;
  }
  engine.published = nlohmann::json::parse(result.out)["labels"][0]["num_samples"].get<long>();
  if (!counted) return true;
  engine.seconds.push_back(elapsed);
  engine.cpu_seconds.push_back(cpu);
  long peak_kib = result.max_rss_kb;
  if (engine.measure_with_time) peak_kib = std::stol(testing::ReadFile(rss_file.string()));
  engine.peak_kib = std::max(engine.peak_kib, peak_kib);
  return true;
}

// The three split files of the label's main, concatenated: what two engines must agree on.
std::string SplitFiles(const fs::path& hub) {
  std::string all;
  for (const char* split : {"train", "validation", "test"})
    all += testing::ReadFile((hub / "department" / "data" / (std::string(split) + ".jsonl")).string());
  return all;
}

}  // namespace

constexpr const char* kFakeHubToken = "hf_benchPrepare";

int Main(int argc, char** argv) {
  long rows = 1'000'000;
  int runs = 5;
  std::string binary = ORCH_BINARY;
  std::optional<std::string> hub;
  bool fake_hub = false;  // --fake-hub on: publish to hf://datasets/tester/bench-<engine>-{label} on a fake Hub
  std::vector<std::string> engines;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--rows") rows = std::stol(argv[i + 1]);
    if (flag == "--runs") runs = std::stoi(argv[i + 1]);
    if (flag == "--binary") binary = argv[i + 1];  // another build of the program, to compare two
    if (flag == "--hub") hub = argv[i + 1];
    if (flag == "--fake-hub") fake_hub = std::string(argv[i + 1]) == "on";
    if (flag == "--engine") engines.push_back(argv[i + 1]);
  }
  if (engines.empty()) engines = {"postgres", "sqlite"};
  TempDir dir("orch-bench-prepare");
  std::optional<testing::FakeHub> fake;
  if (fake_hub) {
    fake.emplace();
    fake->SetToken(kFakeHubToken);
  }
  std::vector<Engine> measured;
  for (const std::string& name : engines) {
    Engine& engine = measured.emplace_back();
    engine.name = name == "postgres" ? "PostgreSQL" : "SQLite";
    std::cerr << "building " << rows << " misclassified rows and " << 2 * rows << " complaints in " << engine.name
              << "...\n";
    const auto start = std::chrono::steady_clock::now();
    engine.database = AppDatabase::ForEngine(name, dir.File("app.db"));
    BuildDatabase(*engine.database, rows);
    std::cerr << "  built in "
              << std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count()
              << " s\n";
    if (fake) {
      engine.hub = "hf://datasets/tester/bench-" + name + "-{label}";
      engine.hub_env = {{"HF_ENDPOINT", fake->endpoint()}, {"HF_TOKEN", kFakeHubToken}};
      engine.measure_with_time = true;
    } else if (hub) {
      engine.hub = *hub;
    } else {
      engine.own_hub = dir.path() / ("hub-" + name);
      engine.hub = engine.own_hub->string();
    }
  }

  const bool pinned = access(kTaskset, X_OK) == 0;
  for (int run = 0; run <= runs; ++run)  // run 0 warms the page cache and is not counted
    for (Engine& engine : measured)
      if (!RunPrepare(engine, binary, pinned, dir.path(), run > 0)) return 1;

  std::cout << "| database | rows published | wall time (median of " << runs
            << ") | rows/s by wall time | CPU time (median) | rows/s by CPU time | peak RSS |\n"
               "|---|---:|---:|---:|---:|---:|---:|\n";
  bool goals_met = true;
  for (const Engine& engine : measured) {
    const double wall = Median(engine.seconds), cpu = Median(engine.cpu_seconds);
    const double published = static_cast<double>(engine.published);
    char line[512];
    std::snprintf(line, sizeof line,
                  "| %s, %ld misclassified of %ld complaints | %ld | %.2f s | %.0f | %.2f s | %.0f | %.1f MiB |\n",
                  engine.name.c_str(), rows, 2 * rows, engine.published, wall, published / wall, cpu, published / cpu,
                  engine.peak_kib / 1024.0);
    std::cout << line;
    goals_met = goals_met && published / wall >= kGoalRowsPerSecond && engine.peak_kib < kGoalPeakKib;
  }
  std::cout << "\n";
  bool identical = true;
  if (measured.size() == 2 && measured[0].own_hub && measured[1].own_hub) {
    identical = SplitFiles(*measured[0].own_hub) == SplitFiles(*measured[1].own_hub);
    std::cout << (identical ? "Both engines published byte-identical split files.\n"
                            : "The engines published DIFFERENT split files.\n");
  }
  std::cout << "Goals (at least 300,000 rows/s by wall time, peak RSS under 64 MiB): " << (goals_met ? "met" : "missed")
            << ".\n"
            << (pinned ? "" : "(taskset not found: the process was not pinned to one CPU)\n") << std::flush;
  return goals_met && identical ? 0 : 1;
}

}  // namespace orch::bench

int main(int argc, char** argv) { return orch::bench::Main(argc, argv); }
