// Benchmark: `orchestrator prepare` end to end on a large SQLite database, on one core.
//
// Builds a SQLite file with N reviewed misclassifications and 2N correct complaints whose messages
// look like the real ones (Nepali and English, with URLs, HTML tags and line breaks to clean), then
// times the whole process (start, read, clean, sample, split, write and fsync every file, publish,
// exit) pinned to one CPU, several times. Each run publishes 1.5N rows (N + 0.5N sampled); the hub
// is emptied between runs. Prints a Markdown row: the median wall time and the median CPU time (user
// + system) of the process, rows published per second by each, and the peak RSS. On a machine
// shared with other work the wall time includes waiting for the CPU; the CPU time does not.
//
//   bench_prepare [--rows N] [--runs N]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/app_database.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"

namespace orch::bench {
namespace {

using namespace std::chrono_literals;
using testing::AppDatabase;
using testing::ProcessResult;
using testing::Subprocess;
using testing::TempDir;

constexpr const char* kTaskset = "/usr/bin/taskset";

// Complaints numbered g = first..last, their messages cycling through four realistic shapes.
std::string InsertComplaintsSql(long first, long last) {
  const std::string range = "WITH RECURSIVE s(g) AS (SELECT " + std::to_string(first) +
                            " UNION ALL SELECT g + 1 FROM s"
                            " WHERE g < " +
                            std::to_string(last) + ") ";
  return "INSERT INTO complaints (id, citizen_id, department, urgency, message) " + range +
         "SELECT g, g, CASE g % 4 WHEN 0 THEN 'Municipal Governance & Community Services' "
         "WHEN 1 THEN 'Education, Health & Social Welfare' WHEN 2 THEN 'Infrastructure, Utilities & Natural Resources' "
         "ELSE 'Security & Law Enforcement' END, "
         "CASE g % 3 WHEN 0 THEN 'NORMAL' WHEN 1 THEN 'URGENT' ELSE 'HIGHLY URGENT' END, "
         "CASE g % 4 "
         "WHEN 0 THEN 'सडकमा ठूलो खाल्डो छ, वडा नं. ' || (g % 32) || ' मा <b>तुरुन्त</b> मर्मत गर्नुहोस्।' || "
         "char(10) || 'फोटो: https://photos.example.org/p/' || g "
         "WHEN 1 THEN 'Street light near ward ' || (g % 32) || ' has been broken for ' || (g % 9 + 1) || "
         "' weeks.   See www.ward.gov.np/report/' || g || ' <br> please fix it soon' "
         "WHEN 2 THEN 'पानीको पाइप फुटेको छ, ' || g || ' घरमा पानी आएन।' || char(9) || "
         "'Water pipe burst, no water for ' || (g % 5 + 1) || ' days.' "
         "ELSE '<p>Garbage has not been collected in tole ' || g || ' since last week.</p>' || char(13, 10) || "
         "'फोहोर उठाइएन, दुर्गन्ध आयो।' END FROM s";
}

void BuildDatabase(AppDatabase& database, long rows) {
  database.CreateSchema(true);
  database.Exec("BEGIN");
  database.Exec(InsertComplaintsSql(1, 3 * rows));
  // The first N complaints were misrouted: predicted one department, corrected to another.
  database.Exec(
      "INSERT INTO misclassified_complaints (complaint_id, model_predicted_department, correct_department, "
      "reviewed) SELECT id, 'Security & Law Enforcement', department, 1 FROM complaints WHERE id <= " +
      std::to_string(rows) +
      " AND department <> 'Security & Law Enforcement' UNION ALL "
      "SELECT id, 'Municipal Governance & Community Services', department, 1 FROM complaints WHERE id <= " +
      std::to_string(rows) + " AND department = 'Security & Law Enforcement'");
  database.Exec("COMMIT");
  database.Exec("ANALYZE");
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

}  // namespace

int Main(int argc, char** argv) {
  long rows = 1'000'000;
  int runs = 5;
  std::string binary = ORCH_BINARY;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--rows") rows = std::stol(argv[i + 1]);
    if (flag == "--runs") runs = std::stoi(argv[i + 1]);
    if (flag == "--binary") binary = argv[i + 1];  // another build of the program, to compare two
  }
  TempDir dir("orch-bench-prepare");
  std::cerr << "building " << rows << " misclassified and " << 2 * rows << " correct complaints...\n";
  auto database = AppDatabase::Sqlite(dir.File("app.db"));
  BuildDatabase(*database, rows);
  const std::filesystem::path hub = dir.path() / "hub";
  std::filesystem::create_directory(hub);

  const bool pinned = access(kTaskset, X_OK) == 0;
  std::vector<std::string> argv_prepare = {binary, "prepare", "--hub", hub.string(), "--label", "department", "--json"};
  if (pinned) argv_prepare.insert(argv_prepare.begin(), {kTaskset, "--cpu-list", "0"});
  const std::map<std::string, std::string> env = {{"PATH", "/usr/bin:/bin"}, {"DATABASE_URL", database->url()}};

  std::vector<double> seconds, cpu_seconds;
  long peak_kib = 0;
  long published = 0;
  for (int run = 0; run <= runs; ++run) {  // run 0 warms the page cache and is not counted
    const auto start = std::chrono::steady_clock::now();
    const double cpu_before = ChildrenCpuSeconds();
    const ProcessResult result = Subprocess::Run(argv_prepare, env, dir.path().string(), 600s);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double cpu = ChildrenCpuSeconds() - cpu_before;
    if (result.exit_code != 0) {
      std::cerr << "orchestrator prepare failed (" << result.exit_code << "):\n" << result.err << "\n";
      return 1;
    }
    published = nlohmann::json::parse(result.out)["labels"][0]["num_samples"].get<long>();
    std::filesystem::remove_all(hub / "department");
    if (run == 0) continue;
    seconds.push_back(elapsed);
    cpu_seconds.push_back(cpu);
    peak_kib = std::max(peak_kib, result.max_rss_kb);
  }
  const double wall = Median(seconds), cpu = Median(cpu_seconds);
  const double rows_published = static_cast<double>(published);
  std::cout << "| database | rows published | wall time (median of " << runs
            << ") | rows/s by wall time |"
               " CPU time (median) | rows/s by CPU time | peak RSS |\n|---|---:|---:|---:|---:|---:|---:|\n";
  char line[512];
  std::snprintf(
      line, sizeof line,
      "| SQLite, %ld misclassified + %ld correct complaints | %ld | %.2f s | %.0f | %.2f s | %.0f | %.1f MiB |\n", rows,
      2 * rows, published, wall, rows_published / wall, cpu, rows_published / cpu, peak_kib / 1024.0);
  std::cout << line << (pinned ? "" : "(taskset not found: the process was not pinned to one CPU)\n") << std::flush;
  return 0;
}

}  // namespace orch::bench

int main(int argc, char** argv) { return orch::bench::Main(argc, argv); }
