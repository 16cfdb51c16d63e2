// `orchestrator migrate`, `status` and `history`: the orchestrator's own tables, for people.
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "cli/sources.h"
#include "db/open_database.h"
#include "db/state_store.h"
#include "report/status.h"
#include "util/error.h"
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
  if (UpToDate(label)) return ", up to date: no more rows than the dataset already retrained";
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
              << label.decision.sampled_correct << " correct)" << Readiness(label) << "\n  phase "
              << PhaseName(label.state.phase);
    if (label.state.phase == Phase::kPreparing)
      std::cout << " since " << FormatTimestamp(label.state.prepare_requested_at.value_or(WallTime{}))
                << ", waiting for " << label.state.required_len.value_or(0) << " samples after "
                << label.state.baseline_version.value_or("no dataset");
    if (label.state.phase == Phase::kRetraining)
      std::cout << ", retrain of " << label.state.dataset_version.value_or("?") << RetrainProgress(label.state);
    std::cout << "\n  last retrained: "
              << (label.state.last_retrained_version
                      ? *label.state.last_retrained_version + " at " + FormatTimestamp(*label.state.last_retrained_at)
                      : std::string("never"))
              << "\n";
  }
}

}  // namespace

int MigrateCommand(const CommonOptions& common) {
  Config config = LoadConfig(SourcesFrom(common));
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
  Config config = LoadConfig(SourcesFrom(common));
  std::vector<LabelStatus> status = ReadStatus(config);
  if (json) {
    std::cout << StatusJson(status).dump(2, ' ', false, kReplace) << "\n";
  } else {
    PrintStatusText(status);
  }
  return kExitOk;
}

int HistoryCommand(const CommonOptions& common, int limit, bool json) {
  Config config = LoadConfig(SourcesFrom(common));
  std::vector<RunRecord> runs = OpenStateStore(config.database)->History(limit);
  if (json) {
    Json out = Json::array();
    for (const RunRecord& run : runs) {
      Json summary = Json::parse(run.summary_json, nullptr, false);
      out.push_back({{"id", run.id},
                     {"started_at", FormatTimestamp(run.started_at)},
                     {"finished_at", JsonOrNull(run.finished_at)},
                     {"status", run.status},
                     {"dry_run", run.dry_run},
                     {"started_by", run.started_by},
                     {"github_run_id", run.github_run_id},
                     {"commit", run.commit},
                     {"summary", summary.is_discarded() ? Json(nullptr) : summary}});
    }
    std::cout << out.dump(2, ' ', false, kReplace) << "\n";
    return kExitOk;
  }
  if (runs.empty()) std::cout << "no pass recorded yet\n";
  for (const RunRecord& run : runs) {
    std::cout << std::setw(6) << run.id << "  " << FormatTimestamp(run.started_at) << "  " << std::left << std::setw(10)
              << run.status << std::right << std::setw(8) << run.started_by;
    Json summary = Json::parse(run.summary_json, nullptr, false);
    if (summary.is_object() && summary.contains("labels"))
      for (const Json& label : summary["labels"])
        std::cout << "  " << label.value("label", "?") << "=" << label.value("outcome", "?");
    std::cout << "\n";
  }
  return kExitOk;
}

}  // namespace orch
