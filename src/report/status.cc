#include "report/status.h"

#include "db/open_database.h"
#include "engine/counts.h"
#include "hub/hf_jobs.h"
#include "util/time.h"

namespace orch {
namespace {

using Json = nlohmann::ordered_json;

}  // namespace

Json JsonOrNull(const std::optional<std::string>& value) { return value ? Json(*value) : Json(nullptr); }
Json JsonOrNull(const std::optional<WallTime>& value) { return value ? Json(FormatTimestamp(*value)) : Json(nullptr); }

std::vector<LabelStatus> ReadStatus(const Config& config, WallTime now) {
  std::unique_ptr<Database> database = OpenDatabase(config.database);
  std::unique_ptr<StateStore> store = OpenStateStore(config.database);
  std::vector<std::string> names;
  for (const LabelConfig& label : config.labels) names.push_back(label.name);
  const std::vector<int64_t> misclassified = CountMisclassified(config, *database);
  const std::vector<std::optional<int64_t>> pools = CountPools(config, *database, misclassified);
  std::vector<LabelState> states = store->LoadLabels(names);
  std::vector<LabelStatus> status;
  for (size_t i = 0; i < config.labels.size(); ++i) {
    const LabelConfig& label = config.labels[i];
    const Decision decision = Decide(misclassified[i], pools[i], config.correct_ratio, label.threshold);
    const Evidence evidence = Weigh(decision, states[i], misclassified[i], label, now);
    LabelStatus& entry =
        status.emplace_back(LabelStatus{&label, misclassified[i], decision, std::move(states[i]), evidence});
    if (entry.state.prepare_run_id) entry.prepare_run_url = JobPageUrl(config.hf_endpoint, *entry.state.prepare_run_id);
    if (entry.state.retrain_run_id) entry.retrain_run_url = JobPageUrl(config.hf_endpoint, *entry.state.retrain_run_id);
  }
  return status;
}

bool Ready(const LabelStatus& label) { return label.decision.prepare && label.evidence.hold == Hold::kNone; }

const char* HoldName(Hold hold) {
  switch (hold) {
    case Hold::kPaused: return "paused";
    case Hold::kUpToDate: return "up_to_date";
    case Hold::kCoolingDown: return "cooling_down";
    case Hold::kNone: break;
  }
  return nullptr;
}

Json StatusJson(const std::vector<LabelStatus>& status) {
  Json labels = Json::array();
  for (const LabelStatus& label : status)
    labels.push_back(
        {{"label", label.config->name},
         {"misclassified", label.misclassified},
         {"sampled_correct", label.decision.sampled_correct},
         {"upper_bound", label.decision.upper_bound},
         {"dataset_len", label.decision.dataset_len},
         {"threshold", label.config->threshold},
         {"new_rows", label.evidence.new_rows ? Json(*label.evidence.new_rows) : Json(nullptr)},
         {"min_new_rows", label.evidence.min_new_rows},
         {"ready", Ready(label)},
         {"up_to_date", label.evidence.hold == Hold::kUpToDate},
         {"held_by", HoldName(label.evidence.hold) ? Json(HoldName(label.evidence.hold)) : Json(nullptr)},
         {"cooldown_until", JsonOrNull(label.evidence.cooldown_until)},
         {"paused_at", JsonOrNull(label.state.paused_at)},
         {"paused_reason", JsonOrNull(label.state.paused_reason)},
         {"phase", PhaseName(label.state.phase)},
         {"baseline_version", JsonOrNull(label.state.baseline_version)},
         {"required_len", label.state.required_len ? Json(*label.state.required_len) : Json(nullptr)},
         {"prepare_requested_at", JsonOrNull(label.state.prepare_requested_at)},
         {"dataset_version", JsonOrNull(label.state.dataset_version)},
         {"retrain_requested_at", JsonOrNull(label.state.retrain_requested_at)},
         {"retrain_confirmed", label.state.retrain_confirmed},
         {"last_retrained_version", JsonOrNull(label.state.last_retrained_version)},
         {"last_retrained_at", JsonOrNull(label.state.last_retrained_at)},
         {"prepare_run_id", JsonOrNull(label.state.prepare_run_id)},
         {"prepare_run_url", label.prepare_run_url.empty() ? Json(nullptr) : Json(label.prepare_run_url)},
         {"retrain_run_id", JsonOrNull(label.state.retrain_run_id)},
         {"retrain_run_url", label.retrain_run_url.empty() ? Json(nullptr) : Json(label.retrain_run_url)}});
  return {{"labels", labels}};
}

}  // namespace orch
