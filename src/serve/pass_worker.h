// The passes `orchestrator serve` runs, one at a time, in a thread of their own: those a client
// asks for (POST /api/passes) and, with a schedule, one every interval after the last recorded
// pass started (whoever started it). Each goes through RunPass like `orchestrator run`, with the
// server's cancellation, so a SIGTERM stops it as it stops a run. The thread sleeps on a condition
// variable until a pass is asked for, the next one is due, or the server stops.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "util/cancellation.h"
#include "util/log.h"
#include "util/time.h"

namespace orch {

struct PassOrder {
  std::string started_by;           // "api" or "schedule"
  std::vector<std::string> labels;  // only these configured labels; empty: every one
  bool dry_run = false;
  bool wait_for_retrains = false;  // as `run --wait`
  bool force = false;              // as `run --force`
};

struct PassJob {
  int64_t id = 0;  // this server's number for it (not the orchestrator_runs id)
  PassOrder order;
  WallTime started_at{};
  std::optional<WallTime> finished_at;  // set when it ended; the fields below then hold its outcome
  std::string status;                   // PassReport::status()
  int exit_code = 0;
  std::string summary;  // the JSON summary, secrets removed
};

class PassWorker {
 public:
  struct Settings {
    std::optional<double> schedule_seconds;          // run a pass this often; none: only when asked
    size_t keep_finished = 20;                       // finished passes remembered for GET /api/passes/<id>
    std::map<std::string, std::string> environment;  // for the webhook token (see PassRequest)
    std::vector<std::string> secrets;                // removed from the summaries kept
  };

  // `on_finished` runs in the worker's thread after each pass (the server takes a new snapshot).
  PassWorker(const Config& config, Settings settings, Log& log, Cancellation& cancellation,
             std::function<void()> on_finished);
  // Plans the first scheduled pass and starts the thread; until then, Start(order) only queues.
  void Run();
  // Stop(), then waits for the thread.
  ~PassWorker();
  PassWorker(const PassWorker&) = delete;
  PassWorker& operator=(const PassWorker&) = delete;

  // Starts `order` now; its id, or nothing when a pass is already running or the server stops.
  std::optional<int64_t> Start(PassOrder order);
  // A pass still remembered: the running one or one of the last finished.
  std::optional<PassJob> Find(int64_t id) const;
  // The running pass first, then the finished ones, newest first.
  std::vector<PassJob> Jobs() const;
  std::optional<PassJob> Running() const;
  // Finished passes by status, since the server started.
  std::map<std::string, int64_t> Totals() const;
  // When the next scheduled pass is due; none without a schedule.
  std::optional<WallTime> NextScheduled() const;
  // Starts no more passes and waits for the running one to end (a cancelled one ends within
  // seconds). Returns the signal that cut a pass short, 0 when none was.
  int Stop();

 private:
  void Loop();
  // Runs the job's pass and fills in its outcome; never throws.
  PassJob RunOne(PassJob job);
  PassJob RunPassOf(PassJob job);
  // Moves next_due_ to SCHEDULE after the newest pass recorded in the database, or this server's last.
  void PlanNextScheduled();

  const Config& config_;
  Settings settings_;
  Log& log_;
  Cancellation& cancellation_;
  std::function<void()> on_finished_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<PassJob> current_;  // asked for or running
  bool current_started_ = false;
  std::deque<PassJob> finished_;  // newest first
  std::map<std::string, int64_t> totals_;
  int64_t next_id_ = 1;
  std::optional<WallTime> last_started_;  // the newest pass start known
  std::optional<WallTime> next_due_;
  int cut_by_signal_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace orch
