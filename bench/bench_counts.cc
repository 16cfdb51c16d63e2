// Benchmark: a pass with nothing to do on a large PostgreSQL database.
//
// Builds 2M complaints and 1M reviewed misclassifications on a private PostgreSQL server, then
// compares, in one run, the orchestrator's whole pass (process start to exit) with the same
// queries run alone through psql, counts how often each table is read, and records the
// orchestrator's peak memory. Prints Markdown for docs/benchmarks.md.
//
//   bench_counts [--rows N] [--runs N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "db/count_sql.h"
#include "support/app_database.h"
#include "support/postgres_server.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"

namespace orch::bench {
namespace {

using namespace std::chrono_literals;
using testing::AppDatabase;
using testing::ProcessResult;
using testing::Subprocess;

struct Sample {
  double seconds;
  long max_rss_kb;
};

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

Sample Timed(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  auto start = std::chrono::steady_clock::now();
  ProcessResult result = Subprocess::Run(argv, env, "", 300s);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (result.exit_code != 0) {
    std::cerr << "command failed (" << result.exit_code << "): " << argv[0] << "\n" << result.err << "\n";
    std::exit(1);
  }
  return {seconds, ReportedPeakKib(result.err)};
}

std::string PsqlPath() {
  for (const char* path : {"/usr/bin/psql", "/usr/local/bin/psql"})
    if (access(path, X_OK) == 0) return path;
  return "psql";
}

struct Scenario {
  std::string name;
  std::map<std::string, std::string> env;  // the orchestrator's settings
  std::vector<std::string> sql;            // the queries it runs, for psql
};

long long ReadTableReads(AppDatabase& database, const std::string& table) {
  database.Exec("SELECT pg_stat_clear_snapshot()");
  return database.QueryInt(
      "SELECT coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables "
      "WHERE relname = '" +
      table + "'");
}

// Sequential and index scans of a table so far. A backend reports its statistics as it exits, a little
// after its client has gone, so wait until the counter has stood still for half a second.
long long TableReads(AppDatabase& database, const std::string& table) {
  long long last = ReadTableReads(database, table);
  for (int settled = 0; settled < 5;) {
    std::this_thread::sleep_for(100ms);
    long long now = ReadTableReads(database, table);
    settled = now == last ? settled + 1 : 0;
    last = now;
  }
  return last;
}

// Every scan node of a plan: "Seq Scan on misclassified_complaints", "Index Only Scan on …".
void CollectScans(const nlohmann::json& plan, std::map<std::string, std::vector<std::string>>& scans) {
  if (plan.contains("Relation Name"))
    scans[plan["Relation Name"].get<std::string>()].push_back(plan["Node Type"].get<std::string>());
  if (plan.contains("Plans"))
    for (const nlohmann::json& child : plan["Plans"]) CollectScans(child, scans);
}

// How each table is read by the queries, from PostgreSQL's plans for them.
std::string PlannedScans(const std::string& url, const std::vector<std::string>& queries, const std::string& table) {
  std::map<std::string, std::vector<std::string>> scans;
  for (const std::string& sql : queries) {
    ProcessResult result =
        Subprocess::Run({PsqlPath(), "-X", "-A", "-t", "-d", url, "-c", "EXPLAIN (FORMAT JSON) " + sql},
                        {{"PATH", "/usr/bin:/bin"}}, "", 60s);
    CollectScans(nlohmann::json::parse(result.out)[0]["Plan"], scans);
  }
  std::string text;
  for (const std::string& node : scans[table]) text += (text.empty() ? "" : " + ") + node;
  return text.empty() ? "not read" : text;
}

}  // namespace

int Main(int argc, char** argv) {
  int rows = 1'000'000;
  int runs = 15;
  std::string binary = ORCH_BINARY;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--rows") rows = std::stoi(argv[i + 1]);
    if (flag == "--runs") runs = std::stoi(argv[i + 1]);
    if (flag == "--binary") binary = argv[i + 1];  // another build of the program, to compare two
  }
  std::cerr << "building " << rows << " misclassified and " << 2 * rows << " complaints...\n";
  auto database = AppDatabase::Postgres();
  database->CreateSchema(true);
  database->AddMisclassified(rows, "department");
  database->AddCorrectComplaints(rows);
  database->Exec("VACUUM ANALYZE");

  std::map<std::string, std::string> base = {{"PATH", "/usr/bin:/bin"},
                                             {"DATABASE_URL", database->url()},
                                             {"HF_TOKEN", "hf_unused"},
                                             {"HF_ENDPOINT", "http://127.0.0.1:9"},
                                             {"PREPARE_DATASET_REPO", "o/p"},
                                             {"RETRAIN_DEPT_REPO", "o/d"},
                                             {"RETRAIN_URGENCY_REPO", "o/u"},
                                             {"HF_HUB_METADATA_DEPT", "http://127.0.0.1:9/d"},
                                             {"HF_HUB_METADATA_URGENCY", "http://127.0.0.1:9/u"}};
  std::vector<LabelColumns> labels = {LabelColumns::Defaults("department"), LabelColumns::Defaults("urgency")};
  std::string misclassified_sql = MisclassifiedCountSql(SqlDialect::kPostgres, labels);
  std::string pool_sql = CorrectPoolCountSql(std::span<const LabelColumns>(labels.data(), 1));

  Scenario far = {"every label far below its threshold", base, {misclassified_sql}};
  far.env["THRESHOLD_DEPARTMENT"] = std::to_string(10 * rows);
  far.env["THRESHOLD_URGENCY"] = std::to_string(10 * rows);
  // With CORRECT_RATIO=2 department could reach 3N rows, but only N correct rows exist: 2N < 2.5N.
  Scenario near = {"department near its threshold (pool counted)", base, {misclassified_sql, pool_sql}};
  near.env.insert_or_assign("CORRECT_RATIO",
                            std::string("2"));  // (assigning a literal trips a GCC 12 false -Wrestrict)
  near.env["THRESHOLD_DEPARTMENT"] = std::to_string(rows * 5 / 2);
  near.env["THRESHOLD_URGENCY"] = std::to_string(10 * rows);

  std::cout << "| scenario | orchestrator pass (median) | same queries via psql (median) | ratio | peak RSS |"
               " misclassified_complaints in the plans | complaints in the plans | tables the pass read (pg_stat) |\n"
               "|---|---:|---:|---:|---:|---|---|---|\n";
  for (const Scenario& scenario : {far, near}) {
    std::vector<std::string> psql = {PsqlPath(), "-X", "-q", "-A", "-t", "-d", database->url()};
    for (const std::string& sql : scenario.sql) {
      psql.push_back("-c");
      psql.push_back(sql);
    }
    std::vector<double> orchestrator_times, psql_times;
    long peak_kb = 0;
    Timed({binary, "run"}, scenario.env);   // warm the cache once
    for (int run = 0; run < runs; ++run) {  // interleaved, so load on the machine hits both alike
      Sample pass = Timed({binary, "run"}, scenario.env);
      orchestrator_times.push_back(pass.seconds);
      peak_kb = std::max(peak_kb, pass.max_rss_kb);
      psql_times.push_back(Timed(psql, base).seconds);
    }
    // Whether the pass touched each table at all: any sequential or index scan counts.
    long long misclassified_before = TableReads(*database, "misclassified_complaints");
    long long complaints_before = TableReads(*database, "complaints");
    Timed({binary, "run"}, scenario.env);
    bool misclassified_read = TableReads(*database, "misclassified_complaints") > misclassified_before;
    bool complaints_read = TableReads(*database, "complaints") > complaints_before;

    double orchestrator = Median(orchestrator_times), alone = Median(psql_times);
    char line[1024];
    std::string misclassified_plan = PlannedScans(database->url(), scenario.sql, "misclassified_complaints");
    std::string complaints_plan = PlannedScans(database->url(), scenario.sql, "complaints");
    std::snprintf(line, sizeof line, "| %s | %.1f ms | %.1f ms | %.2f× | %.1f MiB | %s | %s | %s |\n",
                  scenario.name.c_str(), orchestrator * 1000, alone * 1000, orchestrator / alone, peak_kb / 1024.0,
                  misclassified_plan.c_str(), complaints_plan.c_str(),
                  complaints_read      ? "both tables"
                  : misclassified_read ? "misclassified_complaints only"
                                       : "none");
    std::cout << line << std::flush;
  }
  return 0;
}

}  // namespace orch::bench

int main(int argc, char** argv) { return orch::bench::Main(argc, argv); }
