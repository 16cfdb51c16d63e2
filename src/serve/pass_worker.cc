#include "serve/pass_worker.h"

#include <algorithm>

#include "db/open_database.h"
#include "report/summary.h"
#include "runner/pass_runner.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/redact.h"

namespace orch {

PassWorker::PassWorker(const Config& config, Settings settings, Log& log, Cancellation& cancellation,
                       std::function<void()> on_finished)
    : config_(config),
      settings_(std::move(settings)),
      log_(log),
      cancellation_(cancellation),
      on_finished_(std::move(on_finished)) {}

void PassWorker::Run() {
  if (settings_.schedule_seconds) PlanNextScheduled();
  thread_ = std::thread([this] { Loop(); });
}

PassWorker::~PassWorker() { Stop(); }

std::optional<int64_t> PassWorker::Start(PassOrder order) {
  std::lock_guard lock(mutex_);
  if (current_ || stopping_ || cancellation_.cancelled()) return std::nullopt;
  PassJob job;
  job.id = next_id_++;
  job.order = std::move(order);
  job.started_at = std::chrono::system_clock::now();
  current_ = std::move(job);
  current_started_ = false;
  wake_.notify_all();
  return current_->id;
}

std::optional<PassJob> PassWorker::Find(int64_t id) const {
  std::lock_guard lock(mutex_);
  if (current_ && current_->id == id) return current_;
  for (const PassJob& job : finished_)
    if (job.id == id) return job;
  return std::nullopt;
}

std::vector<PassJob> PassWorker::Jobs() const {
  std::lock_guard lock(mutex_);
  std::vector<PassJob> jobs;
  if (current_) jobs.push_back(*current_);
  jobs.insert(jobs.end(), finished_.begin(), finished_.end());
  return jobs;
}

std::optional<PassJob> PassWorker::Running() const {
  std::lock_guard lock(mutex_);
  return current_;
}

std::map<std::string, int64_t> PassWorker::Totals() const {
  std::lock_guard lock(mutex_);
  return totals_;
}

std::optional<WallTime> PassWorker::NextScheduled() const {
  std::lock_guard lock(mutex_);
  return next_due_;
}

int PassWorker::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(mutex_);
  return cut_by_signal_;
}

void PassWorker::PlanNextScheduled() {
  // The newest pass recorded, whoever ran it: a pass run by hand or by another scheduler moves
  // the next one back. The database being unreadable is no reason to stop the schedule.
  std::optional<WallTime> recorded;
  try {
    std::vector<RunRecord> newest = OpenStateStore(config_.database)->History(1);
    if (!newest.empty()) recorded = newest.front().started_at;
  } catch (const DatabaseError& error) {
    log_.Warning("", "could not read the last pass to plan the next scheduled one", {{"error", error.what()}});
  }
  std::lock_guard lock(mutex_);
  if (recorded && (!last_started_ || *recorded > *last_started_)) last_started_ = recorded;
  const WallTime now = std::chrono::system_clock::now();
  const auto interval = std::chrono::duration_cast<WallTime::duration>(SecondsToDuration(*settings_.schedule_seconds));
  next_due_ = last_started_ ? std::max(now, *last_started_ + interval) : now;
}

void PassWorker::Loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    if (stopping_ || cancellation_.cancelled()) return;
    if (!current_ && next_due_ && std::chrono::system_clock::now() >= *next_due_) {
      // Due: look again at what the database recorded meanwhile, then run if still due.
      lock.unlock();
      PlanNextScheduled();
      lock.lock();
      if (!current_ && next_due_ && std::chrono::system_clock::now() >= *next_due_) {
        PassJob job;
        job.id = next_id_++;
        job.order.started_by = "schedule";
        job.started_at = std::chrono::system_clock::now();
        current_ = std::move(job);
        current_started_ = false;
      }
      continue;
    }
    if (current_ && !current_started_) {
      current_started_ = true;
      PassJob job = *current_;
      last_started_ = job.started_at;
      lock.unlock();
      PassJob done = RunOne(std::move(job));
      const Fields finished = {{"pass", done.id}, {"status", done.status}, {"exit_code", done.exit_code}};
      lock.lock();
      if (done.exit_code > 128) cut_by_signal_ = done.exit_code - 128;
      ++totals_[done.status];
      finished_.push_front(std::move(done));
      while (finished_.size() > settings_.keep_finished) finished_.pop_back();
      current_.reset();
      if (settings_.schedule_seconds) {
        const auto interval =
            std::chrono::duration_cast<WallTime::duration>(SecondsToDuration(*settings_.schedule_seconds));
        next_due_ = std::max(std::chrono::system_clock::now(), *last_started_ + interval);
      }
      lock.unlock();
      // Said once GET /api/passes/<id> shows the outcome.
      log_.Info("", "pass finished", finished);
      on_finished_();
      lock.lock();
      continue;
    }
    // Nothing to do: sleep until asked, until the next scheduled pass, or until the server stops.
    // A signal cancels and wakes nothing here; Stop() follows it at once.
    if (next_due_) {
      const auto wait = *next_due_ - std::chrono::system_clock::now();
      wake_.wait_for(lock, std::max<WallTime::duration>(wait, WallTime::duration::zero()));
    } else {
      wake_.wait(lock);
    }
  }
}

PassJob PassWorker::RunOne(PassJob job) {
  try {
    return RunPassOf(job);  // a copy: `job` is still whole below
  } catch (const std::exception& error) {
    // RunPass reports what goes wrong with the database, the Hub and the workers; anything else
    // ends this pass, not the server.
    log_.Error("", "the pass stopped on an internal error", {{"pass", job.id}, {"error", error.what()}});
    job.finished_at = std::chrono::system_clock::now();
    job.status = "failed";
    job.exit_code = kExitFailed;
    job.summary = nlohmann::json({{"status", "failed"}, {"error", std::string("internal error: ") + error.what()}})
                      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return job;
  }
}

PassJob PassWorker::RunPassOf(PassJob job) {
  Config config = config_;
  config.dry_run = config.dry_run || job.order.dry_run;
  if (!job.order.labels.empty()) KeepOnlyLabels(config, job.order.labels);  // checked when it was asked for
  log_.Info("", "pass started",
            {{"pass", job.id},
             {"started_by", job.order.started_by},
             {"labels", config.labels.size()},
             {"dry_run", config.dry_run},
             {"wait", job.order.wait_for_retrains},
             {"force", job.order.force}});
  SystemClock clock(&cancellation_);
  PassReport report = RunPass(config,
                              {.wait_lock = std::nullopt,
                               .wait_for_retrains = job.order.wait_for_retrains,
                               .force = job.order.force,
                               .started_by = job.order.started_by,
                               .environment = settings_.environment},
                              clock, log_, cancellation_);
  job.finished_at = std::chrono::system_clock::now();
  job.status = report.status();
  job.exit_code = report.exit_code();
  job.summary =
      Redact(SummaryJson(report).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), settings_.secrets);
  return job;
}

}  // namespace orch
