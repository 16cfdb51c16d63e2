// `orchestrator migrate`, `status` and `history`: the orchestrator's own tables, for people.
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "cli/sources.h"
#include "db/open_database.h"
#include "db/state_store.h"
#include "report/history.h"
#include "report/status.h"
#include "util/error.h"
#include "util/redact.h"
#include "util/time.h"

namespace orch {
namespace {

using Json = nlohmann::ordered_json;
constexpr auto kReplace = nlohmann::json::error_handler_t::replace;

// "[#######.............]  35%": how far a label's dataset is from its threshold.
std::string ProgressBar(int64_t value, int64_t threshold, int width = 20) {
  double fraction = threshold > 0 ? std::min(1.0, static_cast<double>(value) / static_cast<double>(threshold)) : 1.0;
  int filled = static_cast<int>(fraction * width);
  std::ostringstream bar;
  bar << '[' << std::string(filled, '#') << std::string(width - filled, '.') << "] " << std::setw(3)
      << static_cast<int>(fraction * 100) << '%';
  return bar.str();
}

std::string Readiness(const LabelStatus& label) {
  switch (label.evidence.hold) {
    case Hold::kPaused: return ", paused";
    case Hold::kUpToDate: return ", up to date: too few new corrections since the dataset last retrained";
    case Hold::kCoolingDown:
      return ", cooling down until " + FormatTimestamp(*label.evidence.cooldown_until) + " (RETRAIN_COOLDOWN)";
    case Hold::kNone: break;
  }
  return label.decision.prepare ? ", ready to prepare" : "";
}

const char* RetrainProgress(const LabelState& state) {
  if (state.retrain_confirmed) return "";
  if (!state.retrain_requested_at) return " not sent yet (the last attempt failed; the next pass sends it)";
  return " not confirmed yet";
}

void PrintStatusText(const std::vector<LabelStatus>& status) {
  for (const LabelStatus& label : status) {
    std::cout << label.config->name << "\n  " << ProgressBar(label.decision.dataset_len, label.config->threshold)
              << "  " << (label.decision.upper_bound ? "at most " : "") << label.decision.dataset_len << " / "
              << label.config->threshold << " rows (" << label.misclassified << " misclassified + "
              << label.decision.sampled_correct << " correct), " << NewRowsText(label.evidence) << Readiness(label)
              << "\n  phase " << PhaseName(label.state.phase);
    if (label.state.phase == Phase::kPreparing)
      std::cout << " since " << FormatTimestamp(label.state.prepare_requested_at.value_or(WallTime{}))
                << ", waiting for " << label.state.required_len.value_or(0) << " samples after "
                << Printable(label.state.baseline_version.value_or("no dataset"));
    if (label.state.phase == Phase::kRetraining)
      std::cout << ", retrain of " << Printable(label.state.dataset_version.value_or("?"))
                << RetrainProgress(label.state);
    if (label.state.prepare_run_id)
      std::cout << "\n  prepare job " << Printable(*label.state.prepare_run_id)
                << (label.prepare_run_url.empty() ? "" : " " + label.prepare_run_url);
    if (label.state.retrain_run_id)
      std::cout << "\n  retrain job " << Printable(*label.state.retrain_run_id)
                << (label.retrain_run_url.empty() ? "" : " " + label.retrain_run_url);
    if (label.state.paused_at)
      std::cout << "\n  paused since " << FormatTimestamp(*label.state.paused_at) << ": "
                << Printable(label.state.paused_reason.value_or("")) << " (orchestrator label resume "
                << label.config->name << ")";
    std::cout << "\n  last retrained: "
              << (label.state.last_retrained_version
                      ? Printable(*label.state.last_retrained_version) + " at " +
                            FormatTimestamp(label.state.last_retrained_at.value_or(WallTime{}))
                      : std::string("never"))
              << "\n";
  }
}

}  // namespace

int MigrateCommand(const CommonOptions& common) {
  Config config = LoadConfigAndWarn(SourcesFrom(common));
  std::unique_ptr<StateStore> store = OpenStateStore(config.database);
  std::vector<int> applied = store->Migrate();
  if (applied.empty()) {
    std::cout << "the orchestrator's tables are up to date (schema version " << store->SchemaVersion() << ")\n";
  } else {
    for (int version : applied) std::cout << "applied migration " << version << "\n";
  }
  return kExitOk;
}

int StatusCommand(const CommonOptions& common, bool json) {
  Config config = LoadConfigAndWarn(SourcesFrom(common));
  std::vector<LabelStatus> status = ReadStatus(config, std::chrono::system_clock::now());
  if (json) {
    std::cout << StatusJson(status).dump(2, ' ', false, kReplace) << "\n";
  } else {
    PrintStatusText(status);
  }
  return kExitOk;
}

int HistoryCommand(const CommonOptions& common, const HistoryOptions& options) {
  Config config = LoadConfigAndWarn(SourcesFrom(common));
  std::unique_ptr<StateStore> store = OpenStateStore(config.database);
  if (options.run) {
    const std::optional<RunRecord> run = store->FindRun(*options.run);
    if (!run)
      throw ConfigError("no pass " + std::to_string(*options.run) +
                        " in orchestrator_runs: `orchestrator history` lists the recorded ones");
    if (options.json) {
      std::cout << RunJson(*run).dump(2, ' ', false, kReplace) << "\n";
    } else {
      std::cout << RunText(*run);
    }
    return kExitOk;
  }
  std::vector<RunRecord> runs = store->History(options.limit);
  if (options.json) {
    Json out = Json::array();
    for (const RunRecord& run : runs) out.push_back(RunJson(run));
    std::cout << out.dump(2, ' ', false, kReplace) << "\n";
    return kExitOk;
  }
  if (runs.empty()) std::cout << "no pass recorded yet\n";
  for (const RunRecord& run : runs) std::cout << RunLine(run) << "\n";
  return kExitOk;
}

}  // namespace orch
