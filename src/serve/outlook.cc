#include "serve/outlook.h"

#include <algorithm>

#include "util/duration.h"

namespace orch {
namespace {

double SecondsBetween(WallTime from, WallTime to) { return std::chrono::duration<double>(to - from).count(); }

bool IsStale(const LabelState& state, const Config& config, WallTime now) {
  return state.prepare_requested_at && SecondsBetween(*state.prepare_requested_at, now) > StaleAfter(config);
}

// "at most 12 of 40 rows" below the threshold, "55 rows (threshold 40)" at or above it.
std::string Rows(const LabelStatus& label) {
  const std::string rows = (label.decision.upper_bound ? "at most " : "") + std::to_string(label.decision.dataset_len);
  const std::string threshold = std::to_string(label.config->threshold);
  if (!label.decision.prepare) return rows + " of " + threshold + " rows";
  return rows + " rows (threshold " + threshold + ")";
}

Outlook Preparing(const LabelStatus& label, const Config& config, WallTime now) {
  const LabelState& state = label.state;
  const double age = state.prepare_requested_at ? SecondsBetween(*state.prepare_requested_at, now) : 0;
  if (IsStale(state, config, now))
    return {NextStep::kWaiting, "the prepare request of " + FormatDuration(age) + " ago is older than STALE_AFTER (" +
                                    FormatInterval(StaleAfter(config)) +
                                    "): the next pass closes this cycle and starts a new one when the data is there"};
  return {NextStep::kWaiting, "for a dataset of at least " + std::to_string(state.required_len.value_or(0)) +
                                  " samples newer than " + state.baseline_version.value_or("none") + ", asked for " +
                                  FormatDuration(age) + " ago: the next pass resumes the wait"};
}

Outlook Retraining(const LabelStatus& label) {
  const LabelState& state = label.state;
  const std::string version = state.dataset_version.value_or("?");
  if (!state.retrain_requested_at)
    return {NextStep::kWaiting,
            "the retrain of " + version + " was not sent (the last attempt failed): the next pass sends it"};
  if (!state.retrain_confirmed)
    return {NextStep::kWaiting,
            "the retrain of " + version + " was sent, not confirmed yet: the next pass confirms it"};
  return {NextStep::kWaiting, "the retrain of " + version + " is confirmed: the next pass closes the cycle"};
}

}  // namespace

const char* NextStepName(NextStep step) {
  switch (step) {
    case NextStep::kBelowThreshold: return "below threshold";
    case NextStep::kReadyToPrepare: return "ready to prepare";
    case NextStep::kUpToDate: return "up to date";
    case NextStep::kCoolingDown: return "cooling down";
    case NextStep::kPaused: return "paused";
    case NextStep::kWaiting: return "waiting";
    case NextStep::kDeferred: return "deferred";
  }
  return "below threshold";
}

std::vector<std::string> CyclesInFlight(const std::vector<LabelStatus>& labels, const Config& config, WallTime now) {
  std::vector<std::string> names;
  for (const LabelStatus& label : labels)
    if (label.state.phase == Phase::kPreparing && !IsStale(label.state, config, now))
      names.push_back(label.config->name);
  return names;
}

Outlook OutlookOf(const LabelStatus& label, const std::vector<std::string>& in_flight, const Config& config,
                  WallTime now) {
  if (label.state.phase == Phase::kPreparing) return Preparing(label, config, now);
  if (label.state.phase == Phase::kRetraining) return Retraining(label);
  const Evidence& evidence = label.evidence;
  if (evidence.hold == Hold::kPaused)
    return {NextStep::kPaused, "paused since " + FormatTimestamp(*label.state.paused_at) + " (" +
                                   label.state.paused_reason.value_or("") +
                                   "): counted, not prepared until `orchestrator "
                                   "label resume " +
                                   label.config->name + "`"};
  if (evidence.hold == Hold::kUpToDate)
    return {NextStep::kUpToDate, Rows(label) + ", " + NewRowsText(evidence) + " corrections needed since the dataset " +
                                     label.state.last_retrained_version.value_or("?") +
                                     " was retrained: too few new ones to prepare again"};
  if (evidence.hold == Hold::kCoolingDown)
    return {NextStep::kCoolingDown, Rows(label) + " reach the threshold, but " +
                                        label.state.last_retrained_version.value_or("the last dataset") +
                                        " was retrained less than RETRAIN_COOLDOWN ago: prepared after " +
                                        FormatTimestamp(*evidence.cooldown_until)};
  if (!label.decision.prepare) {
    const int64_t missing = label.config->threshold - label.decision.dataset_len;
    return {NextStep::kBelowThreshold,
            Rows(label) + ": " + std::to_string(missing) + " more needed before a dataset is prepared"};
  }
  if (!in_flight.empty())
    return {NextStep::kDeferred, Rows(label) + " reach the threshold, but the prepare cycle of " + in_flight.front() +
                                     (in_flight.size() > 1 ? " and others" : "") +
                                     " is still in flight: a later pass prepares it"};
  std::string why = Rows(label) + " reach the threshold: the next pass starts the prepare worker";
  const std::optional<WallTime>& last = label.state.last_retrained_at;
  if (last && SecondsBetween(*last, now) < StaleAfter(config))
    why += " (or defers it, if the retrain worker still runs the retrain of " +
           label.state.last_retrained_version.value_or("the last dataset") + ")";
  return {NextStep::kReadyToPrepare, why};
}

}  // namespace orch
