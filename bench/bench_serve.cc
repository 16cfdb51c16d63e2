// Benchmark: `orchestrator serve` with 1,000 labels and 10,000 passes in orchestrator_runs, on
// SQLite and on PostgreSQL.
//
// Builds the application's tables (reviewed misclassifications and correct complaints that every
// label counts), the labels' states (some preparing, some retraining), and the history: the newest
// passes with a summary of every label (retrain decisions included), the older ones with a small
// summary. Then it starts the real binary and measures, from a client on loopback, the median and
// 90th percentile of GET /, /api/status and /metrics; the page's weight; the server's resident
// memory once warmed up (VmRSS); and the CPU time and wake-ups (context switches) it used over a
// stretch of idle seconds. A second round asks with SERVE_REFRESH so short that every request
// starts a new count, to show that answers do not wait for counting. Prints Markdown.
//
//   bench_serve [--labels N] [--passes N] [--full N] [--rows N] [--requests N] [--idle SECONDS]
//               [--engine sqlite|postgres]... [--binary PATH]
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "db/open_database.h"
#include "engine/pass_report.h"
#include "report/summary.h"
#include "support/app_database.h"
#include "support/postgres_server.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"
#include "util/time.h"

namespace orch::bench {
namespace {

using namespace std::chrono_literals;
using testing::AppDatabase;
using testing::Subprocess;
using testing::TempDir;

struct Options {
  int labels = 1000;
  int passes = 10000;
  int full = 200;  // the newest passes carry a summary of every label
  int rows = 100000;
  int requests = 101;
  int idle_seconds = 10;
  std::vector<std::string> engines;
  std::string binary = ORCH_BINARY;
};

std::string LabelName(int i) {
  char name[16];
  std::snprintf(name, sizeof name, "l%04d", i);
  return name;
}

// Every label counts the department columns, with thresholds spread so that some labels are ready
// and the pool is counted for them.
std::string LabelsToml(const Options& options) {
  std::string toml;
  for (int i = 0; i < options.labels; ++i)
    toml += "[labels." + LabelName(i) +
            "]\nthreshold = " + std::to_string(options.rows / 2 + (i % 10) * options.rows / 4) +
            "\npredicted_column = \"model_predicted_department\"\ncorrect_column = \"correct_department\"\n"
            "pool_column = \"department\"\n\n";
  return toml;
}

void SaveStates(StateStore& store, const Options& options, WallTime now) {
  std::vector<LabelState> states;
  for (int i = 0; i < options.labels; ++i) {
    LabelState state;
    state.label = LabelName(i);
    state.updated_at = now;
    state.baseline_version = "v20261120_000000";
    state.dataset_version = "v20261126_000000";
    state.last_retrained_version = "v20261126_000000";
    state.last_retrained_at = now - 6h;
    state.required_len = options.rows;
    state.prepare_requested_at = now - 7h;
    state.prepare_confirmed = true;
    state.retrain_requested_at = now - 6h;
    state.retrain_confirmed = true;
    if (i % 50 == 1) {
      state.phase = Phase::kPreparing;
      state.prepare_requested_at = now - 10min;
      state.dataset_version.reset();
    } else if (i % 50 == 2) {
      state.phase = Phase::kRetraining;
      state.retrain_confirmed = false;
    }
    states.push_back(state);
  }
  store.SaveLabels(states);
}

// A summary of every label, as a pass run with --wait writes it; every tenth label has a decision.
std::string FullSummary(const Options& options, int pass, WallTime started, std::mt19937& random) {
  PassReport report;
  report.started_at = started;
  report.finished_at = started + 40s;
  std::uniform_int_distribution<int> noise(0, options.rows / 100);
  for (int i = 0; i < options.labels; ++i) {
    LabelReport label;
    label.label = LabelName(i);
    label.misclassified = options.rows - options.rows / 2 + pass * 10 + noise(random);
    label.sampled_correct = label.misclassified / 2;
    label.dataset_len = label.misclassified + label.sampled_correct;
    label.threshold = options.rows / 2 + (i % 10) * options.rows / 4;
    label.prepare = label.dataset_len >= label.threshold;
    label.outcome = label.prepare ? Outcome::kUpToDate : Outcome::kBelowThreshold;
    if (i % 10 == 0 && pass % 4 == 0) {
      label.outcome = Outcome::kRetrainTriggered;
      label.dataset_version = "v202611" + std::to_string(10 + pass % 20) + "_" + std::to_string(100000 + pass);
      label.retrain_result = "finished";
      const double f1 = 0.78 + 0.1 * std::uniform_real_distribution<double>(0, 1)(random);
      label.retrain_decision = nlohmann::json({{"decision", f1 > 0.83 ? "accepted" : "rejected"},
                                               {"dataset_version", *label.dataset_version},
                                               {"new", {{"macro_f1", f1}, {"accuracy", f1 + 0.02}}},
                                               {"deployed", {{"macro_f1", 0.83}, {"accuracy", 0.85}}}})
                                   .dump();
    }
    report.labels.push_back(label);
  }
  return SummaryJson(report).dump();
}

void FillHistory(AppDatabase& database, const Options& options, WallTime now) {
  const int small = options.passes - options.full;
  const std::string small_summary =
      R"({"status":"ok","dry_run":false,"prepare_triggered":false,"error":null,"labels":[)"
      R"({"label":"l0000","misclassified":10,"dataset_len":15,"threshold":20,"outcome":"below_threshold"}]})";
  // The older passes, one every six hours before the newest ones, in one statement.
  if (database.is_postgres()) {
    database.Exec(
        "INSERT INTO orchestrator_runs (started_at, finished_at, status, dry_run, started_by, github_run_id, "
        "commit_sha, summary) SELECT now() - (n + " +
        std::to_string(options.full) + ") * interval '6 hours', now() - (n + " + std::to_string(options.full) +
        ") * interval '6 hours' + interval '40 seconds', 'ok', false, 'schedule', (1000000 + n)::text, "
        "'0123456789abcdef', " +
        testing::SqlLiteral(small_summary) + "::jsonb FROM generate_series(" + std::to_string(small) + ", 1, -1) AS n");
  } else {
    database.Exec("WITH RECURSIVE n(i) AS (SELECT " + std::to_string(small) +
                  " UNION ALL SELECT i - 1 FROM n WHERE i > 1) "
                  "INSERT INTO orchestrator_runs (started_at, finished_at, status, dry_run, started_by, github_run_id, "
                  "commit_sha, summary) SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || ((i + " +
                  std::to_string(options.full) +
                  ") * 6) || ' hours'), strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || ((i + " +
                  std::to_string(options.full) +
                  ") * 6) || ' hours', '+40 seconds'), 'ok', 0, 'schedule', CAST(1000000 + i AS TEXT), "
                  "'0123456789abcdef', " +
                  testing::SqlLiteral(small_summary) + " FROM n");
  }
  // The newest passes, with a summary of every label.
  std::unique_ptr<StateStore> store = OpenStateStore(database.database_url());
  std::mt19937 random(20261126);
  if (!database.is_postgres()) database.Exec("BEGIN");
  for (int k = options.full; k >= 1; --k) {
    RunRecord run;
    run.started_at = now - k * 6h;
    run.status = "running";
    run.started_by = k % 5 == 0 ? "manual" : "schedule";
    run.github_run_id = std::to_string(2000000 + k);
    const int64_t id = store->BeginRun(run);
    store->FinishRun(id, run.started_at + 40s, "ok", FullSummary(options, options.full - k, run.started_at, random));
  }
  if (!database.is_postgres()) database.Exec("COMMIT");
}

long StatusField(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return -1;
}

// Context switches of every thread of the process so far: each is a wake-up (or a preemption).
long ContextSwitches(pid_t pid) {
  long total = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream in(task.path() / "status");
    for (std::string line; std::getline(in, line);)
      if (line.find("ctxt_switches:") != std::string::npos) total += std::stol(line.substr(line.find(':') + 1));
  }
  return total;
}

// utime + stime of the process, in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::vector<std::string> parts;
  for (std::string part; fields >> part;) parts.push_back(part);
  // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
  return static_cast<double>(std::stol(parts.at(11)) + std::stol(parts.at(12))) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

struct Timing {
  double median_ms = 0, p90_ms = 0;
  size_t bytes = 0;
};

Timing Measure(int port, const std::string& path, int requests) {
  std::vector<double> times;
  size_t bytes = 0;
  for (int i = 0; i < requests; ++i) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(60s);
    const auto start = std::chrono::steady_clock::now();
    httplib::Result result = client.Get(path);
    times.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    if (!result || result->status != 200) {
      std::cerr << "GET " << path
                << " failed: " << (result ? std::to_string(result->status) : to_string(result.error())) << "\n";
      std::exit(1);
    }
    bytes = result->body.size();
  }
  std::sort(times.begin(), times.end());
  return {times[times.size() / 2], times[times.size() * 9 / 10], bytes};
}

// The page as a browser receives it: compressed when it says it accepts gzip.
size_t GzipBytes(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_decompress(false);
  httplib::Result result = client.Get(path, {{"Accept-Encoding", "gzip"}});
  return result && result->get_header_value("Content-Encoding") == "gzip" ? result->body.size() : 0;
}

double MetricValue(int port, const std::string& name) {
  httplib::Client client("127.0.0.1", port);
  httplib::Result result = client.Get("/metrics");
  std::smatch match;
  if (result && std::regex_search(result->body, match, std::regex("\n" + name + " ([0-9.e+-]+)\n")))
    return std::stod(match[1]);
  return -1;
}

struct Server {
  std::unique_ptr<Subprocess> process;
  int port = 0;
  double startup_seconds = 0;
};

Server StartServer(const Options& options, std::map<std::string, std::string> env, const TempDir& dir) {
  Server server;
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> argv = {options.binary, "serve",    "--listen",
                                   "127.0.0.1:0",  "--config", dir.File("labels.toml")};
  if (const char* wrapper = std::getenv("ORCH_BENCH_WRAPPER")) argv.insert(argv.begin(), wrapper);  // e.g. heaptrack
  server.process = std::make_unique<Subprocess>(argv, env, dir.path().string());
  if (!server.process->WaitForOutput("passes_over_http=", 300s)) {
    std::cerr << "serve did not start:\n" << server.process->err() << "\n";
    std::exit(1);
  }
  server.startup_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::smatch match;
  const std::string log = server.process->err();
  std::regex_search(log, match, std::regex("url=http://127\\.0\\.0\\.1:([0-9]+)"));
  server.port = std::stoi(match[1]);
  return server;
}

void RunEngine(const Options& options, const std::string& engine) {
  TempDir dir("orch-bench-serve");
  std::cerr << engine << ": building " << options.rows << " misclassified rows, " << options.rows
            << " correct complaints, " << options.labels << " label states and " << options.passes << " passes...\n";
  auto database = engine == "postgres" ? AppDatabase::Postgres() : AppDatabase::Sqlite(dir.File("app.db"));
  database->CreateSchema(true);
  database->AddMisclassified(options.rows, "department");
  database->AddCorrectComplaints(options.rows);
  const WallTime now = std::chrono::system_clock::now();
  std::unique_ptr<StateStore> store = OpenStateStore(database->database_url());
  store->Migrate();
  SaveStates(*store, options, now);
  FillHistory(*database, options, now);
  database->Exec(engine == "postgres" ? "VACUUM ANALYZE" : "ANALYZE");
  testing::WriteFile(dir.File("labels.toml"), LabelsToml(options));

  std::map<std::string, std::string> env = {
      {"PATH", "/usr/bin:/bin"}, {"DATABASE_URL", database->url()}, {"GITHUB_REPOSITORY", "octo-org/grievances"}};
  Server server = StartServer(options, env, dir);
  const pid_t pid = server.process->pid();
  for (const char* path : {"/", "/api/status", "/metrics"}) Measure(server.port, path, 5);  // warm up
  const Timing page = Measure(server.port, "/", options.requests);
  const Timing status = Measure(server.port, "/api/status", options.requests);
  const Timing metrics = Measure(server.port, "/metrics", options.requests);
  const double snapshot_seconds = MetricValue(server.port, "orchestrator_serve_snapshot_duration_seconds");
  const size_t page_gzip = GzipBytes(server.port, "/");

  // Idle: no request for a while; the server should neither wake up nor spend CPU. The last answer's
  // tidying up (memory given back once it is sent) is let finish first.
  std::this_thread::sleep_for(1s);
  const long rss_kib = StatusField(pid, "VmRSS");
  const long own_kib = StatusField(pid, "RssAnon");  // the rest is shared libraries' code and data
  const long switches_before = ContextSwitches(pid);
  const double cpu_before = CpuSeconds(pid);
  std::this_thread::sleep_for(std::chrono::seconds(options.idle_seconds));
  const double idle_cpu_ms = (CpuSeconds(pid) - cpu_before) * 1000;
  const long idle_switches = ContextSwitches(pid) - switches_before;
  const long peak_kib = StatusField(pid, "VmHWM");
  server.process->Signal(SIGTERM);
  server.process->Wait(60s);

  // Every request now finds the snapshot too old and starts a count: answers come from the last one.
  env["SERVE_REFRESH"] = "0.001";
  Server busy = StartServer(options, env, dir);
  for (const char* path : {"/", "/api/status", "/metrics"}) Measure(busy.port, path, 5);
  const Timing busy_status = Measure(busy.port, "/api/status", options.requests);
  const Timing busy_page = Measure(busy.port, "/", options.requests);
  busy.process->Signal(SIGTERM);
  busy.process->Wait(60s);

  std::printf(
      "| %s | %d | %d | %.0f ms | %.1f s | %.1f ms (%.1f) | %.1f ms (%.1f) | %.1f ms (%.1f) | %.1f KiB (gzip %.1f) | "
      "%.1f MiB (own %.1f, peak %.1f) | %.0f ms over %d s | %ld in %d s | %.1f ms / %.1f ms |\n",
      engine == "postgres" ? "PostgreSQL" : "SQLite", options.labels, options.passes, snapshot_seconds * 1000,
      server.startup_seconds, page.median_ms, page.p90_ms, status.median_ms, status.p90_ms, metrics.median_ms,
      metrics.p90_ms, static_cast<double>(page.bytes) / 1024.0, static_cast<double>(page_gzip) / 1024.0,
      rss_kib / 1024.0, own_kib / 1024.0, peak_kib / 1024.0, idle_cpu_ms, options.idle_seconds, idle_switches,
      options.idle_seconds, busy_page.median_ms, busy_status.median_ms);
  std::fflush(stdout);
}

}  // namespace

int Main(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--labels") options.labels = std::stoi(value);
    if (flag == "--passes") options.passes = std::stoi(value);
    if (flag == "--full") options.full = std::stoi(value);
    if (flag == "--rows") options.rows = std::stoi(value);
    if (flag == "--requests") options.requests = std::stoi(value);
    if (flag == "--idle") options.idle_seconds = std::stoi(value);
    if (flag == "--engine") options.engines.push_back(value);
    if (flag == "--binary") options.binary = value;
  }
  options.full = std::min(options.full, options.passes);
  if (options.engines.empty()) options.engines = {"sqlite", "postgres"};
  std::printf(
      "| database | labels | passes | taking a snapshot | start to listening | GET / median (p90) | GET /api/status "
      "| GET /metrics | page weight | idle RSS (own memory, peak) | CPU while idle | context switches while idle | GET "
      "/ and "
      "/api/status while recounting |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const std::string& engine : options.engines) RunEngine(options, engine);
  std::printf(
      "\n%d reviewed misclassifications and %d correct complaints, counted by every label; the newest %d passes "
      "carry a summary of all %d labels, the %d older ones a small one. Medians (and 90th percentiles) of %d requests "
      "each, one connection per request, from a client on loopback.\n",
      options.rows, options.rows, options.full, options.labels, options.passes - options.full, options.requests);
  return 0;
}

}  // namespace orch::bench

int main(int argc, char** argv) { return orch::bench::Main(argc, argv); }
