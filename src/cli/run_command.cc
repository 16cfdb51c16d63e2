#include <unistd.h>

#include <cmath>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cli/signals.h"
#include "cli/sources.h"
#include "config/url_policy.h"
#include "db/open_database.h"
#include "db/state_store.h"
#include "engine/pass.h"
#include "hub/hf_hub.h"
#include "hub/local_metadata.h"
#include "report/alerts.h"
#include "report/metrics.h"
#include "report/stream_log.h"
#include "report/summary.h"
#include "triggers/command_trigger.h"
#include "triggers/hf_space_trigger.h"
#include "triggers/target_triggers.h"
#include "triggers/webhook_trigger.h"
#include "util/error.h"
#include "util/peak_memory.h"
#include "util/redact.h"

namespace orch {
namespace {

std::string EnvironmentValue(const std::map<std::string, std::string>& environment, const std::string& name) {
  auto found = environment.find(name);
  return found == environment.end() ? "" : found->second;
}

LogFormat FormatOf(const Config& config) {
  if (config.log_format == "json") return LogFormat::kJson;
  return config.github_actions ? LogFormat::kGithub : LogFormat::kText;
}

// Opens --summary PATH before anything happens, so a wrong path is a usage error, not a lost summary.
std::optional<std::ofstream> OpenSummaryFile(const std::optional<std::string>& path) {
  if (!path) return std::nullopt;
  std::ofstream file(*path, std::ios::trunc);
  if (!file) throw ConfigError("--summary " + *path + ": cannot write this file; choose a writable path");
  return file;
}

void AppendStepSummary(const Config& config, const PassReport& report, Log& log) {
  if (config.github_step_summary.empty()) return;
  std::ofstream file(config.github_step_summary, std::ios::app);
  file << SummaryMarkdown(report);
  if (!file) log.Warning("", "could not append to GITHUB_STEP_SUMMARY", {{"path", config.github_step_summary}});
}

std::string HostAndPid() {
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid());
}

// Who started this pass, from what GitHub Actions sets (or "cli").
RunRecord NewRunRecord(const Config& config, const std::map<std::string, std::string>& environment, WallTime now) {
  RunRecord run;
  run.started_at = now;
  run.status = "running";
  run.dry_run = config.dry_run;
  std::string event = EnvironmentValue(environment, "GITHUB_EVENT_NAME");
  run.started_by = event.empty() ? "cli" : event == "workflow_dispatch" ? "manual" : event;
  run.github_run_id = EnvironmentValue(environment, "GITHUB_RUN_ID");
  run.commit = EnvironmentValue(environment, "GITHUB_SHA");
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
    double longest_pass = config_.poll_timeout + 2 * config_.poll_interval + 60;
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

PassReport RunLocked(const Config& config, const RunOptions& options, const ConfigSources& sources, Clock& clock,
                     Log& log, Cancellation& cancellation, Notifier& notifier) {
  PassDatabases databases;
  try {
    databases = OpenPassDatabases(config.database, !config.dry_run, config.name, HostAndPid(),
                                  std::chrono::seconds(static_cast<long long>(std::ceil(config.lock_lease))));
    if (!config.dry_run) {
      for (int version : databases.state->Migrate())
        log.Info("", "migrated the orchestrator's tables", {{"version", version}});
      RunLock& lock = *databases.lock;
      if (!AcquireLock(lock, options.wait_lock, cancellation, log)) {
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
    log.Error("", "database", {{"error", error.what()}});
    PassReport failed = FailedReport(config, clock, error.what());
    notifier.PassEnded(failed, nullptr);
    return failed;
  }

  StateStore& state = *databases.state;
  int64_t run_id = 0;
  if (!config.dry_run) {
    CloseAbandonedRuns(state, clock.WallNow());
    run_id = state.BeginRun(NewRunRecord(config, sources.environment, clock.WallNow()));
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
  CommandTrigger commands(config.worker_log_dir, clock);
  WebhookTrigger webhooks(config.http, EnvironmentValue(sources.environment, config.webhook_token_env), on_retry,
                          &cancellation);
  TargetTriggers triggers(spaces, commands, webhooks);
  Pass pass(config, {*databases.counts, metadata, triggers, clock, log, state, databases.lock.get(), &cancellation});
  pass.set_wait_for_retrains(options.wait);
  PassReport report = pass.Run();
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

}  // namespace

int RunCommand(const CommonOptions& common, const RunOptions& options) {
  ConfigSources sources = SourcesFrom(common, options);
  Config config = LoadConfig(sources);
  if (!config.dry_run) RequireForRun(config);
  std::optional<std::ofstream> summary_file = OpenSummaryFile(options.summary_path);

  Cancellation cancellation;
  SignalWatcher signals(cancellation);
  SystemClock clock(&cancellation);
  if (config.github_actions && !config.hf_token.empty()) std::cerr << "::add-mask::" << config.hf_token << '\n';
  std::vector<std::string> secrets = {config.hf_token, config.database.password, config.alert_webhook_url};
  StreamLog log(std::cerr, FormatOf(config), clock, secrets);
  Notifier notifier(config, log, secrets);
  log.Info("", "pass started",
           {{"dry_run", config.dry_run},
            {"labels", config.labels.size()},
            {"database", config.database.redacted},
            {"name", config.name}});
  PassReport report = RunLocked(config, options, sources, clock, log, cancellation, notifier);

  constexpr auto kReplace = nlohmann::json::error_handler_t::replace;
  std::string summary = Redact(SummaryJson(report).dump(2, ' ', false, kReplace), secrets);
  std::cout << summary << '\n' << std::flush;
  if (summary_file) *summary_file << summary << '\n';
  AppendStepSummary(config, report, log);
  int exit_code = report.exit_code();
  Fields finished = {{"status", report.status()}, {"exit_code", exit_code}};
  if (std::optional<long> peak = PeakResidentKib()) finished.push_back({"peak_rss_kib", *peak});
  log.Info("", "pass finished", finished);
  return exit_code;
}

}  // namespace orch
