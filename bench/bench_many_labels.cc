// Benchmark: how long a pass waits, and how much memory it takes, with many labels.
//
// The fake Hub publishes each label's new dataset at a random time after the prepare restart.
// A pass should end when the slowest dataset has appeared plus at most one poll interval (not
// the sum over labels), with memory that stays small at 1,000 labels. Prints Markdown rows.
//
// --workers hf-job makes every label's retrain worker a Hugging Face Job (hf-job:) instead of a
// Space: each retrain is a job run on the fake Hub, the Jobs namespace asked of whoami once.
//
//   bench_many_labels [--labels N]... [--interval SECONDS] [--spread SECONDS] [--workers space|hf-job]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "bench_util.h"
#include "support/app_database.h"
#include "support/fake_hub.h"
#include "support/job_workers.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"

namespace orch::bench {
namespace {

using namespace std::chrono_literals;
using testing::AppDatabase;
using testing::FakeHub;
using testing::ProcessResult;
using testing::Subprocess;
using testing::TempDir;
using Seconds = std::chrono::duration<double>;

struct Result {
  int labels;
  double slowest_publication;  // seconds after the prepare restart
  double last_retrain;         // seconds after the prepare restart
  double pass;                 // whole process
  long max_rss_kb;
  int metadata_requests;
  int not_modified;
  int worker_calls;  // restarts, or job runs, listings and reads
};

std::string LabelName(int i) {
  char name[16];
  std::snprintf(name, sizeof name, "l%04d", i);
  return name;
}

Result RunOnce(int labels, double interval, double spread, bool jobs, std::mt19937& random) {
  TempDir dir("orch-bench");
  auto database = AppDatabase::Sqlite(dir.File("app.db"));
  database->CreateSchema(true);
  database->AddMisclassified(20, "department");
  database->AddCorrectComplaints(100);

  FakeHub hub;
  hub.AddSpace("owner/prepare", "PAUSED");
  std::string toml;
  std::vector<FakeHub::Publication> publications;
  std::uniform_int_distribution<int> delay_ms(0, static_cast<int>(spread * 1000));
  int slowest_ms = 0;
  for (int i = 0; i < labels; ++i) {
    std::string name = LabelName(i);
    if (!jobs) hub.AddSpace("owner/retrain_" + name, "PAUSED");
    hub.PublishMetadata("owner/" + name, FakeHub::Metadata("v1", 5));
    int delay = delay_ms(random);
    slowest_ms = std::max(slowest_ms, delay);
    publications.push_back(FakeHub::Publication::AfterDelay("owner/" + name, 30, std::chrono::milliseconds(delay)));
    const std::string retrain = jobs ? testing::RetrainJobTarget(name) : "owner/retrain_" + name;
    toml += "[labels." + name + "]\nthreshold = 10\nretrain = \"" + retrain + "\"\nmetadata_url = \"" +
            hub.MetadataUrl("owner/" + name) +
            "\"\npredicted_column = \"model_predicted_department\"\ncorrect_column = \"correct_department\"\n"
            "pool_column = \"department\"\n\n";
  }
  hub.OnRestart("owner/prepare", publications);
  hub.jobs().SetBehavior(testing::kRetrainJobImage, testing::FakeHubJobs::Behavior::Manual());
  testing::WriteFile(dir.File("labels.toml"), toml);

  std::map<std::string, std::string> env = {{"PATH", "/usr/bin:/bin"},
                                            {"DATABASE_URL", database->url()},
                                            {"HF_ENDPOINT", hub.endpoint()},
                                            {"HF_TOKEN", "hf_test_token"},
                                            {"PREPARE_DATASET_REPO", "owner/prepare"},
                                            {"POLL_INTERVAL", std::to_string(interval)},
                                            {"POLL_TIMEOUT", "120"},
                                            {"HTTP_RETRY_BASE", "0.05"}};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::string> argv = {ORCH_BINARY, "run", "--config", dir.File("labels.toml")};
  if (const char* wrapper = std::getenv("ORCH_BENCH_WRAPPER")) argv.insert(argv.begin(), wrapper);  // e.g. heaptrack
  ProcessResult result = Subprocess::Run(argv, env, dir.path().string(), 300s);
  double pass = Seconds(std::chrono::steady_clock::now() - start).count();
  if (const char* log = std::getenv("ORCH_BENCH_LOG")) testing::WriteFile(log, result.err);
  if (result.exit_code != 0) {
    std::cerr << "pass failed (" << result.exit_code << ")\n" << result.err.substr(0, 4000) << "\n";
    std::exit(1);
  }

  std::chrono::steady_clock::time_point prepared{}, last_retrain{};
  int metadata_requests = 0, not_modified = 0, worker_calls = 0;
  for (const auto& call : hub.Calls()) {
    if (call.path == "/api/spaces/owner/prepare/restart") prepared = call.at;
    const bool retrain_call = jobs ? call.path.starts_with("/api/jobs/") || call.path == "/api/whoami-v2"
                                   : call.path.find("/retrain_") != std::string::npos;
    worker_calls += retrain_call;
    if (call.method == "POST" && retrain_call) last_retrain = std::max(last_retrain, call.at);
    if (call.path.find("dataset_metadata.json") != std::string::npos) {
      ++metadata_requests;
      not_modified += call.status == 304;
    }
  }
  const int retrains = jobs ? static_cast<int>(hub.jobs().Jobs().size()) : hub.Count("POST", "/retrain_");
  if (retrains != labels) {
    std::cerr << "expected " << labels << " retrain restarts, saw " << retrains << "\n";
    std::exit(1);
  }
  return {labels,
          slowest_ms / 1000.0,
          Seconds(last_retrain - prepared).count(),
          pass,
          ReportedPeakKib(result.err),
          metadata_requests,
          not_modified,
          worker_calls};
}

}  // namespace

int Main(int argc, char** argv) {
  std::vector<int> label_counts;
  double interval = 0.5, spread = 3;
  int runs = 3;
  bool jobs = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--labels") label_counts.push_back(std::stoi(argv[i + 1]));
    if (flag == "--interval") interval = std::stod(argv[i + 1]);
    if (flag == "--spread") spread = std::stod(argv[i + 1]);
    if (flag == "--runs") runs = std::stoi(argv[i + 1]);
    if (flag == "--workers") jobs = std::string(argv[i + 1]) == "hf-job";
  }
  if (label_counts.empty()) label_counts = {2, 100, 1000};
  std::mt19937 random(20261126);
  std::printf(
      "| labels | slowest dataset appears | last retrain %s | bound (slowest + interval) | whole pass |"
      " peak RSS | metadata GETs (304s) | %s |\n|---:|---:|---:|---:|---:|---:|---:|---:|\n",
      jobs ? "job run" : "restarted", jobs ? "Jobs calls (runs, listings, whoami)" : "retrain restarts");
  for (int labels : label_counts) {
    std::vector<Result> results;
    for (int run = 0; run < runs; ++run) results.push_back(RunOnce(labels, interval, spread, jobs, random));
    std::sort(results.begin(), results.end(), [](const Result& a, const Result& b) {
      return a.last_retrain - a.slowest_publication < b.last_retrain - b.slowest_publication;
    });
    const Result& median = results[results.size() / 2];
    long peak = 0;
    for (const Result& r : results) peak = std::max(peak, r.max_rss_kb);
    std::printf("| %d | %.2f s | %.2f s | %.2f s | %.2f s | %.1f MiB | %d (%d) | %d |\n", median.labels,
                median.slowest_publication, median.last_retrain, median.slowest_publication + interval, median.pass,
                peak / 1024.0, median.metadata_requests, median.not_modified, median.worker_calls);
    std::fflush(stdout);
  }
  std::printf(
      "\nPoll interval %.2f s; publications spread uniformly over 0–%.1f s after the prepare restart; "
      "median of %d runs (by lateness), peak RSS the largest of them.\n",
      interval, spread, runs);
  return 0;
}

}  // namespace orch::bench

int main(int argc, char** argv) { return orch::bench::Main(argc, argv); }
