// Where each label stands, as `orchestrator status` and the status page show it: its counts
// against its threshold (taken as a pass takes them), the decision a pass would make, and the
// state saved between passes.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "config/config.h"
#include "db/state_store.h"
#include "engine/decision.h"

namespace orch {

struct LabelStatus {
  const LabelConfig* config;
  int64_t misclassified;
  Decision decision;
  LabelState state;
  Evidence evidence;  // weighed at the time of the counts
  // The pages of the recorded prepare and retrain runs, for workers that are Hugging Face Jobs ("" for none).
  std::string prepare_run_url = "";
  std::string retrain_run_url = "";
};

// Counts and loads every configured label, weighing the evidence at `now`. Throws DatabaseError
// when the database cannot be read.
std::vector<LabelStatus> ReadStatus(const Config& config, WallTime now);

// At its threshold and held by nothing: the next pass prepares it (unless a cycle is in flight).
bool Ready(const LabelStatus& label);

// "paused", "up_to_date", "cooling_down", or nothing when nothing holds the label.
const char* HoldName(Hold hold);

// A value, or JSON null when there is none; times as FormatTimestamp writes them.
nlohmann::ordered_json JsonOrNull(const std::optional<std::string>& value);
nlohmann::ordered_json JsonOrNull(const std::optional<WallTime>& value);

// {"labels": [...]}: what `status --json` prints.
nlohmann::ordered_json StatusJson(const std::vector<LabelStatus>& status);

}  // namespace orch
