#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cli/signals.h"
#include "cli/sources.h"
#include "report/stream_log.h"
#include "report/summary.h"
#include "runner/pass_runner.h"
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

// The pass's outputs for the workflow's later steps (GITHUB_OUTPUT).
void AppendGithubOutputs(const Config& config, const PassReport& report, Log& log) {
  if (config.github_output.empty()) return;
  std::ofstream file(config.github_output, std::ios::app);
  file << GithubOutputs(report);
  if (!file) log.Warning("", "could not append to GITHUB_OUTPUT", {{"path", config.github_output}});
}

}  // namespace

int RunCommand(const CommonOptions& common, const RunOptions& options) {
  ConfigSources sources = SourcesFrom(common, options);
  Config config = LoadConfig(sources);
  if (!options.labels.empty()) KeepOnlyLabels(config, options.labels);
  if (!config.dry_run) RequireForRun(config);
  std::optional<std::ofstream> summary_file = OpenSummaryFile(options.summary_path);

  Cancellation cancellation;
  SignalWatcher signals(cancellation);
  SystemClock clock(&cancellation);
  if (config.github_actions && !config.hf_token.empty()) std::cerr << "::add-mask::" << config.hf_token << '\n';
  const std::vector<std::string> secrets = Secrets(config, sources.environment);
  StreamLog log(std::cerr, FormatOf(config), clock, secrets);
  for (const std::string& warning : config.warnings) log.Warning("", warning);
  log.Info("", "pass started",
           {{"dry_run", config.dry_run},
            {"labels", config.labels.size()},
            {"database", config.database.redacted},
            {"name", config.name}});
  PassReport report = RunPass(config,
                              {.wait_lock = options.wait_lock,
                               .wait_for_retrains = options.wait,
                               .force = options.force,
                               .started_by = {},
                               .environment = sources.environment},
                              clock, log, cancellation);

  constexpr auto kReplace = nlohmann::json::error_handler_t::replace;
  const std::string summary = SummaryJson(report).dump(2, ' ', false, kReplace);  // redacted by RunPass
  std::cout << summary << '\n' << std::flush;
  if (summary_file) *summary_file << summary << '\n';
  AppendStepSummary(config, report, log);
  AppendGithubOutputs(config, report, log);
  int exit_code = report.exit_code();
  Fields finished = {{"status", report.status()}, {"exit_code", exit_code}};
  if (std::optional<long> peak = PeakResidentKib()) finished.push_back({"peak_rss_kib", *peak});
  log.Info("", "pass finished", finished);
  return exit_code;
}

}  // namespace orch
