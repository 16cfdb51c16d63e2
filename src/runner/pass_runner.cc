#include "runner/pass_runner.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include "config/job_environment.h"
#include "config/target.h"
#include "config/url_policy.h"
#include "db/open_database.h"
#include "engine/pass.h"
#include "hub/hf_hub.h"
#include "hub/hf_jobs.h"
#include "hub/local_metadata.h"
#include "report/alerts.h"
#include "report/metrics.h"
#include "report/summary.h"
#include "triggers/command_trigger.h"
#include "triggers/hf_job_trigger.h"
#include "triggers/hf_space_trigger.h"
#include "triggers/target_triggers.h"
#include "triggers/webhook_trigger.h"
#include "util/error.h"

namespace orch {
namespace {

std::string EnvironmentValue(const std::map<std::string, std::string>& environment, const std::string& name) {
  auto found = environment.find(name);
  return found == environment.end() ? "" : found->second;
}

// Who started this pass: the request says, or what GitHub Actions sets, or "cli".
RunRecord NewRunRecord(const Config& config, const PassRequest& request, WallTime now) {
  RunRecord run;
  run.started_at = now;
  run.status = "running";
  run.dry_run = config.dry_run;
  const std::string event = EnvironmentValue(request.environment, "GITHUB_EVENT_NAME");
  run.started_by = !request.started_by.empty()    ? request.started_by
                   : event.empty()                ? "cli"
                   : event == "workflow_dispatch" ? "manual"
                                                  : event;
  run.github_run_id = EnvironmentValue(request.environment, "GITHUB_RUN_ID");
  run.commit = EnvironmentValue(request.environment, "GITHUB_SHA");
  return run;
}

// Under the run lock, a run still recorded as running belongs to a pass that was killed.
void CloseAbandonedRuns(StateStore& state, WallTime now) {
  for (const RunRecord& run : state.History(20))
    if (run.status == "running") state.FinishRun(run.id, now, "abandoned", "");
}

// A pass that failed before it could count: the summary still says why.
PassReport FailedReport(const Config& config, Clock& clock, const std::string& error) {
  PassReport report;
  report.dry_run = config.dry_run;
  report.started_at = report.finished_at = clock.WallNow();
  report.error = error;
  return report;
}

// The longest a pass can last, every wait at its bound (docs/manual.md, "How long a pass can
// take"): connecting, the wait for the datasets and the one of --wait, each ending by one
// HTTP_TIMEOUT past POLL_TIMEOUT, six steps of requests (the baseline reads, the prepare restart,
// the checks of unconfirmed restarts, the retrain restarts, the alert, the push) and a webhook
// worker's POST per label, each of the longest a request with its retries can take, and a minute
// for the rest. hf-job: workers add the requests of a start and of asking about Jobs outside the
// waits (whoami, the listing by key after a lost answer, the listings, reads and log tails).
double LongestPass(const Config& config) {
  const HttpSettings& http = config.http;
  const double request = (http.max_retries + 1) * http.request_timeout + http.max_retries * http.retry_max;
  const auto is_job = [](const std::string& target) {
    return !target.empty() && ParseTarget(target).kind == Target::Kind::kHfJob;
  };
  const bool jobs = is_job(config.prepare_target) ||
                    std::any_of(config.labels.begin(), config.labels.end(),
                                [&](const LabelConfig& label) { return is_job(label.retrain_target); });
  const double steps = 6 + static_cast<double>(config.labels.size()) + (jobs ? 6 : 0);
  return 10 + 2 * (config.poll_timeout + http.request_timeout) + steps * request + 60;
}

// The Jobs of hf-job: workers: the prepare worker's settings are the global ones, each label's
// retrain worker's its own.
HfJobOptions JobOptionsOf(const Config& config) {
  HfJobOptions options;
  options.orchestrator = config.name;
  options.prepare = config.hf_job;
  for (const LabelConfig& label : config.labels) options.labels[label.name] = label.hf_job;
  JobEnvironment environment = JobEnvironmentOf(config);
  options.environment = std::move(environment.environment);
  options.secrets = std::move(environment.secrets);
  return options;
}

// A pass stopped while it connected to the database or waited for the lock: it did nothing.
PassReport CancelledBeforeStart(const Config& config, Clock& clock, const Cancellation& cancellation, Log& log) {
  log.Warning("", "stopped before the pass began: nothing was done", {{"signal", cancellation.signal_number()}});
  PassReport report = FailedReport(config, clock, "stopped before the pass began");
  report.cancelled_by = cancellation.signal_number();
  return report;
}

// Alerts and metrics, sent after the pass; they never fail it. The token is not given to this
// client: neither the webhook nor the Pushgateway ever receives it.
class Notifier {
 public:
  Notifier(const Config& config, Log& log, const std::vector<std::string>& secrets)
      : config_(config), log_(log), http_(config.http, "", "") {
    if (!config.alert_webhook_url.empty())
      alerter_ = std::make_unique<WebhookAlerter>(http_, config.alert_webhook_url, log, secrets, config.name);
    else
      alerter_ = std::make_unique<NullAlerter>();
  }

  // `state` is null when the database could not be opened.
  void PassEnded(const PassReport& report, StateStore* state) {
    for (const Alert& alert : AlertsFor(report)) alerter_->Send(alert);
    if (config_.pushgateway_url.empty()) return;
    std::vector<std::string> names;
    for (const LabelConfig& label : config_.labels) names.push_back(label.name);
    std::vector<LabelState> states;
    try {
      if (state != nullptr) states = state->LoadLabels(names);
    } catch (const DatabaseError&) {
      // The metrics still go out, with the labels' phases unknown (idle).
    }
    PushMetrics(http_, config_.pushgateway_url, config_.name, MetricsFor(report, states), log_);
  }

  // Alerts when the holder has kept the lock longer than a whole pass may last.
  void LockContended(const std::string& holder, StateStore& state, WallTime now) {
    const double longest_pass = LongestPass(config_);
    try {
      for (const RunRecord& run : state.History(5)) {
        if (run.status != "running") continue;
        if (std::chrono::duration<double>(now - run.started_at).count() > longest_pass)
          alerter_->Send({Alert::Kind::kLockContention, "",
                          "another orchestrator has held the run lock for longer than a pass can last: " + holder});
        return;
      }
    } catch (const DatabaseError&) {
    }
  }

 private:
  const Config& config_;
  Log& log_;
  HttpClient http_;
  std::unique_ptr<Alerter> alerter_;
};

// Renews a lock that has a lease every third of it while a pass runs, so that no wait of the pass
// (a slow HTTP exchange and its retries) outlasts the lease while the process lives; a killed pass
// stops renewing and its lease expires. A lease found lost is left so: the pass's next write or
// restart finds out and stops.
class LeaseKeeper {
 public:
  explicit LeaseKeeper(RunLock* lock) {
    if (lock == nullptr || !lock->lease()) return;
    const auto every = std::max<std::chrono::milliseconds>(std::chrono::milliseconds(100), *lock->lease() / 3);
    thread_ = std::jthread([this, lock, every](std::stop_token stop) {
      std::unique_lock<std::mutex> guard(mutex_);
      while (true) {
        wake_.wait_for(guard, stop, every, [] { return false; });  // woken early only by the stop
        if (stop.stop_requested()) return;
        try {
          if (!lock->Renew()) return;
        } catch (const DatabaseError&) {
          // Busy or gone for now: the next round tries again, and the pass's own checks decide.
        }
      }
    });
  }

 private:
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::jthread thread_;  // last: stopped and joined before the members it uses go
};

// Takes the run lock, waiting up to `wait_seconds` for it. Throws nothing; false when held elsewhere.
bool AcquireLock(RunLock& lock, std::optional<double> wait_seconds, Cancellation& cancellation, Log& log) {
  if (lock.TryAcquire()) return true;
  if (!wait_seconds) return false;
  log.Info("", "waiting for the run lock", {{"holder", lock.Holder().description}, {"wait_seconds", *wait_seconds}});
  auto deadline = std::chrono::steady_clock::now() + SecondsToDuration(*wait_seconds);
  while (std::chrono::steady_clock::now() < deadline && !cancellation.cancelled()) {
    cancellation.WaitUntil(std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(250)));
    if (lock.TryAcquire()) return true;
  }
  return false;
}

}  // namespace

PassReport RunPass(const Config& config, const PassRequest& request, Clock& clock, Log& log,
                   Cancellation& cancellation) {
  const std::vector<std::string> secrets = Secrets(config, request.environment);
  Notifier notifier(config, log, secrets);
  PassDatabases databases;
  try {
    databases =
        OpenPassDatabases(config.database, !config.dry_run, config.name, HostAndPid(),
                          std::chrono::seconds(static_cast<long long>(std::ceil(config.lock_lease))), &cancellation);
    if (!config.dry_run) {
      for (int version : databases.state->Migrate())
        log.Info("", "migrated the orchestrator's tables", {{"version", version}});
      RunLock& lock = *databases.lock;
      if (!AcquireLock(lock, request.wait_lock, cancellation, log)) {
        if (cancellation.cancelled()) return CancelledBeforeStart(config, clock, cancellation, log);
        std::string holder = lock.Holder().description;
        log.Error("", "another pass holds the run lock; nothing was done",
                  {{"holder", holder}, {"hint", "wait for it, or pass --wait-lock SECONDS"}});
        PassReport locked = FailedReport(config, clock, "another pass holds the run lock: " + holder);
        locked.locked = true;
        notifier.LockContended(holder, *databases.state, clock.WallNow());
        return locked;
      }
    }
  } catch (const DatabaseError& error) {
    if (cancellation.cancelled()) return CancelledBeforeStart(config, clock, cancellation, log);
    log.Error("", "database", {{"error", error.what()}});
    PassReport failed = FailedReport(config, clock, error.what());
    RedactReport(failed, secrets);
    notifier.PassEnded(failed, nullptr);
    return failed;
  }

  StateStore& state = *databases.state;
  int64_t run_id = 0;
  if (!config.dry_run) {
    CloseAbandonedRuns(state, clock.WallNow());
    run_id = state.BeginRun(NewRunRecord(config, request, clock.WallNow()));
  }
  auto on_retry = [&log](const RetryNotice& retry) {
    log.Warning("", "retry",
                {{"method", retry.method},
                 {"url", retry.url},
                 {"attempt", retry.attempt},
                 {"reason", retry.reason},
                 {"wait_ms", retry.wait.count()}});
  };
  HttpClient http(config.http, config.hf_token, UrlOrigin(config.hf_endpoint), on_retry);
  http.SetCancellation(&cancellation);
  HfHub hub(http, config.hf_endpoint);
  MetadataSources metadata(hub);
  HfSpaceTrigger spaces(hub);
  CommandTrigger commands(config.worker_log_dir, config.worker_environment, clock);
  WebhookTrigger webhooks(config.http, EnvironmentValue(request.environment, config.webhook_token_env), on_retry,
                          &cancellation);
  HfJobs jobs(http, config.hf_endpoint);
  HfJobTrigger job_workers(jobs, hub, JobOptionsOf(config));
  TargetTriggers triggers(spaces, commands, webhooks, job_workers);
  Pass pass(config, {*databases.counts, metadata, triggers, clock, log, state, databases.lock.get(), &cancellation});
  const LeaseKeeper keeper(databases.lock.get());
  pass.set_wait_for_retrains(request.wait_for_retrains);
  pass.set_force(request.force);
  PassReport report = pass.Run();
  // Whoever wrote a message (a worker's last log lines, libcurl, the Hub), no secret goes further.
  RedactReport(report, secrets);
  notifier.PassEnded(report, &state);
  if (run_id != 0) {
    try {
      state.FinishRun(run_id, report.finished_at, report.status(),
                      SummaryJson(report).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    } catch (const DatabaseError& error) {
      log.Warning("", "could not record the pass in orchestrator_runs", {{"error", error.what()}});
    }
  }
  return report;
}

std::string HostAndPid() {
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid());
}

}  // namespace orch
