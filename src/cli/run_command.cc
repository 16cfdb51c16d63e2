#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cli/sources.h"
#include "config/url_policy.h"
#include "db/open_database.h"
#include "engine/pass.h"
#include "hub/hf_hub.h"
#include "report/stream_log.h"
#include "report/summary.h"
#include "triggers/hf_space_trigger.h"
#include "util/error.h"
#include "util/peak_memory.h"
#include "util/redact.h"

namespace orch {
namespace {

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

PassReport RunPass(const Config& config, Clock& clock, Log& log) {
  std::unique_ptr<Database> database;
  try {
    database = OpenDatabase(config.database);
  } catch (const DatabaseError& error) {
    PassReport report;
    report.dry_run = config.dry_run;
    report.started_at = report.finished_at = clock.WallNow();
    report.error = error.what();
    log.Error("", "database", {{"error", error.what()}});
    return report;
  }
  HttpClient http(config.http, config.hf_token, UrlOrigin(config.hf_endpoint), [&log](const RetryNotice& retry) {
    log.Warning("", "retry", {{"method", retry.method}, {"url", retry.url}, {"attempt", retry.attempt},
                              {"reason", retry.reason}, {"wait_ms", retry.wait.count()}});
  });
  HfHub hub(http, config.hf_endpoint);
  HfSpaceTrigger trigger(hub);
  Pass pass(config, {*database, hub, trigger, clock, log});
  return pass.Run();
}

}  // namespace

int RunCommand(const CommonOptions& common, const RunOptions& options) {
  Config config = LoadConfig(SourcesFrom(common, options));
  if (!config.dry_run) RequireForRun(config);
  std::optional<std::ofstream> summary_file = OpenSummaryFile(options.summary_path);

  SystemClock clock;
  if (config.github_actions && !config.hf_token.empty()) std::cerr << "::add-mask::" << config.hf_token << '\n';
  StreamLog log(std::cerr, FormatOf(config), clock, {config.hf_token, config.database.password});
  log.Info("", "pass started", {{"dry_run", config.dry_run}, {"labels", config.labels.size()},
                                {"database", config.database.redacted}});
  PassReport report = RunPass(config, clock, log);

  // An error may quote bytes that are not UTF-8 (a file path, a server's message); they must not cost the summary.
  std::string summary = Redact(SummaryJson(report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace),
                               {config.hf_token, config.database.password});
  std::cout << summary << '\n' << std::flush;
  if (summary_file) *summary_file << summary << '\n';
  AppendStepSummary(config, report, log);
  Fields finished = {{"status", report.ok() ? "ok" : "failed"}, {"exit_code", report.exit_code()}};
  if (std::optional<long> peak = PeakResidentKib()) finished.push_back({"peak_rss_kib", *peak});
  log.Info("", "pass finished", finished);
  return report.exit_code();
}

}  // namespace orch
