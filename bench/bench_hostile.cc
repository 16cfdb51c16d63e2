// Benchmark: how long a pass runs past POLL_TIMEOUT when the Hub misbehaves, and how long SIGTERM
// takes to stop it.
//
// The real binary waits for a dataset against support/hostile_server.h, misbehaving in each of its
// modes either at the metadata reads or at the prepare Space's runtime reads (support/hostile_pass.h).
// The wait starts when the prepare restart arrives; the figure is how long after that plus
// POLL_TIMEOUT the process has exited, against the bound docs/manual.md states for the wait: one
// HTTP_TIMEOUT past POLL_TIMEOUT (a round of reads may only take the time the wait has left, and the
// last look at the deadline one attempt). For the modes that keep the
// client waiting, SIGTERM is sent during the wait (at each step, the restart included), with
// POLL_TIMEOUT and HTTP_TIMEOUT at 600 s, and the figure is how long until the process has exited.
// Prints Markdown; medians of --runs runs.
//
//   bench_hostile [--runs N] [--poll-timeout S] [--http-timeout S] [--retries N] [--retry-max S]
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "support/app_database.h"
#include "support/hostile_pass.h"
#include "support/hostile_server.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"

namespace orch::bench {
namespace {

using namespace std::chrono_literals;
using testing::HostileServer;
using testing::HostileStep;
using testing::ProcessResult;
using testing::Subprocess;
using testing::TempDir;
using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;
using Mode = HostileServer::Mode;

struct Settings {
  int runs = 3;
  // A round of requests that each time out takes about 2 x HTTP_TIMEOUT: with 4.5 s the second round
  // starts just before POLL_TIMEOUT, the case the bound is for (with 3 s the first round ends just
  // after it).
  double poll_timeout = 4.5;
  double http_timeout = 2;
  int retries = 1;
  double retry_max = 0.5;
};

std::string Text(double number) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", number);
  return text;
}

// A database with the department label over its threshold, and the pass's environment.
struct Setup {
  Setup(HostileServer& server, const Settings& settings) {
    database->CreateSchema();
    database->AddMisclassified(20, "department");
    database->AddCorrectComplaints(100);
    env = testing::HostilePassEnv(server, database->url(), "hf_bench_token");
    env["POLL_INTERVAL"] = "0.5";
    env["POLL_TIMEOUT"] = Text(settings.poll_timeout);
    env["HTTP_CONNECT_TIMEOUT"] = Text(settings.http_timeout);
    env["HTTP_TIMEOUT"] = Text(settings.http_timeout);
    env["HTTP_RETRIES"] = std::to_string(settings.retries);
    env["HTTP_RETRY_BASE"] = "0.1";
    env["HTTP_RETRY_MAX"] = Text(settings.retry_max);
  }
  TempDir dir{"orch-bench"};
  std::unique_ptr<testing::AppDatabase> database = testing::AppDatabase::Sqlite(dir.File("app.db"));
  std::map<std::string, std::string> env;
};

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// Seconds from POLL_TIMEOUT after the prepare restart to the pass's exit.
double PastTimeout(Mode mode, HostileStep step, const Settings& settings) {
  HostileServer server;
  server.set_delay(10s);
  testing::ArrangeHostileHub(server, mode, step);
  Setup setup(server, settings);
  Subprocess pass({ORCH_BINARY, "run"}, setup.env, setup.dir.path().string());
  const ProcessResult result = pass.Wait(600s);
  const Clock::time_point ended = Clock::now();
  const Clock::time_point restarted = server.FirstArrival(testing::kHostileRestartPath);
  if (result.timed_out || result.exit_code != 1 || restarted == Clock::time_point{}) {
    std::cerr << HostileServer::ModeName(mode) << " at " << testing::HostileStepName(step) << ": exit "
              << result.exit_code << (result.timed_out ? " (killed after 600 s)" : "") << "\n"
              << result.err.substr(0, 4000) << "\n";
    std::exit(1);
  }
  return Seconds(ended - restarted).count() - settings.poll_timeout;
}

// Seconds from SIGTERM, sent while the pass waits on the misbehaving step, to the pass's exit.
double StopTime(Mode mode, HostileStep step, const Settings& settings) {
  HostileServer server;
  server.set_delay(600s);
  testing::ArrangeHostileHub(server, mode, step);
  Setup setup(server, settings);
  setup.env["POLL_TIMEOUT"] = "600";
  setup.env["HTTP_TIMEOUT"] = "600";
  Subprocess pass({ORCH_BINARY, "run"}, setup.env, setup.dir.path().string());
  if (!server.WaitFor(HostilePath(step), FirstHostileRequest(step), 120s)) {
    std::cerr << "the pass never reached " << testing::HostileStepName(step) << "\n" << pass.err() << "\n";
    std::exit(1);
  }
  const Clock::time_point signalled = Clock::now();
  pass.Signal(SIGTERM);
  const ProcessResult result = pass.Wait(120s);
  const double seconds = Seconds(Clock::now() - signalled).count();
  if (result.timed_out || result.exit_code != 143) {
    std::cerr << HostileServer::ModeName(mode) << " at " << testing::HostileStepName(step) << ": exit "
              << result.exit_code << " after SIGTERM\n"
              << result.err.substr(0, 4000) << "\n";
    std::exit(1);
  }
  return seconds;
}

}  // namespace

int Main(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--runs") settings.runs = std::stoi(argv[i + 1]);
    if (flag == "--poll-timeout") settings.poll_timeout = std::stod(argv[i + 1]);
    if (flag == "--http-timeout") settings.http_timeout = std::stod(argv[i + 1]);
    if (flag == "--retries") settings.retries = std::stoi(argv[i + 1]);
    if (flag == "--retry-max") settings.retry_max = std::stod(argv[i + 1]);
  }
  const double request = (settings.retries + 1) * settings.http_timeout + settings.retries * settings.retry_max;
  std::printf(
      "| misbehaviour | past POLL_TIMEOUT, metadata | past POLL_TIMEOUT, runtime | SIGTERM to exit: metadata | "
      "restart | runtime |\n|---|---:|---:|---:|---:|---:|\n");
  for (Mode mode : HostileServer::AllModes()) {
    std::string row = std::string("| ") + HostileServer::ModeName(mode);
    for (HostileStep step : {HostileStep::kMetadata, HostileStep::kRuntime}) {
      std::vector<double> past;
      for (int run = 0; run < settings.runs; ++run) past.push_back(PastTimeout(mode, step, settings));
      char cell[32];
      std::snprintf(cell, sizeof cell, " | %.2f s", Median(past));
      row += cell;
    }
    for (HostileStep step : {HostileStep::kMetadata, HostileStep::kRestart, HostileStep::kRuntime}) {
      if (!HostileServer::Waits(mode)) {
        row += " | -";
        continue;
      }
      std::vector<double> stop;
      for (int run = 0; run < settings.runs; ++run) stop.push_back(StopTime(mode, step, settings));
      char cell[32];
      std::snprintf(cell, sizeof cell, " | %.2f s", Median(stop));
      row += cell;
    }
    std::printf("%s |\n", row.c_str());
    std::fflush(stdout);
  }
  std::printf(
      "\nPOLL_TIMEOUT %s s, HTTP_TIMEOUT and HTTP_CONNECT_TIMEOUT %s s, HTTP_RETRIES %d, HTTP_RETRY_MAX %s s: one "
      "request takes at most %.1f s, and the documented bound of the wait past POLL_TIMEOUT is one HTTP_TIMEOUT, "
      "%s s. "
      "Medians of %d runs; '-' for the misbehaviours that answer at once (nothing to interrupt).\n",
      Text(settings.poll_timeout).c_str(), Text(settings.http_timeout).c_str(), settings.retries,
      Text(settings.retry_max).c_str(), request, Text(settings.http_timeout).c_str(), settings.runs);
  return 0;
}

}  // namespace orch::bench

int main(int argc, char** argv) { return orch::bench::Main(argc, argv); }
