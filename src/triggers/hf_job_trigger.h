// Workers that are Hugging Face Jobs (`hf-job:IMAGE COMMAND [ARGS...]`): each start runs a job of
// its own on the Hub, and Inspect reads that very job's stage.
//
// A job gets its request in its environment (ORCHESTRATOR_LABEL, ORCHESTRATOR_REQUIRED_LEN,
// ORCHESTRATOR_BASELINE_VERSION, ORCHESTRATOR_DATASET_VERSION, ORCHESTRATOR_IDEMPOTENCY_KEY) besides
// what every job gets (HfJobOptions::environment), and the token only as a secret (HF_TOKEN), which
// the Hub keeps encrypted and never shows. Its labels name the orchestrator (`orchestrator`: the
// ORCHESTRATOR_NAME), the label(s) (`orchestrator-label`), the role (`orchestrator-role`: prepare or
// retrain) and the request's key (`orchestrator-key`), so that every job started can be found by
// them; see JobLabelValue for how a value is made to fit the Hub's rules.
//
// A start returns the job's id as the run id ("namespace/id"). A run call whose answer was lost
// (the connection broke after the request went out, a gateway answered 502 or 504) is followed at
// once by a listing of the jobs labelled with its key: a job found is the start. None found leaves
// the start "maybe started", and Inspect, given the key, tells the next pass for certain whether
// the job exists, so a request is never sent again while its job may be out there.
//
// Inspect reads the stages of all the jobs it is asked about with one listing per namespace of the
// orchestrator's active jobs (stage SCHEDULING or RUNNING, label orchestrator=NAME), and reads
// alone only the jobs that listing does not hold (ended, or just created): SCHEDULING, RUNNING and
// UPDATING are active, COMPLETED finished (as certain as a process's exit), ERROR, CANCELED and
// DELETED failed, with the job's status message and its page ({endpoint}/jobs/{namespace}/{id}),
// and, for a worker asked with_log, the last lines of its log.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "hub/hf_hub.h"
#include "hub/hf_jobs.h"
#include "triggers/trigger.h"

namespace orch {

struct HfJobOptions {
  std::string orchestrator = "orchestrator";       // ORCHESTRATOR_NAME: every job's `orchestrator` label
  HfJobSettings prepare;                           // the prepare worker's flavor, timeout and namespace
  std::map<std::string, HfJobSettings> labels;     // each label's retrain worker's
  std::map<std::string, std::string> environment;  // what every job gets in its environment
  std::map<std::string, std::string> secrets;      // what every job gets as secrets (HF_TOKEN, ...)
};

class HfJobTrigger final : public Trigger {
 public:
  // `hub` answers whoami, for the namespace of a worker that names none.
  HfJobTrigger(HfJobs& jobs, HfHub& hub, HfJobOptions options);

  std::vector<StartResult> Start(std::span<const StartRequest> requests) override;
  std::vector<WorkerState> Inspect(std::span<const WorkerRef> workers, TimeBudget budget) override;

  // The job a start runs for `request`.
  JobSpec SpecFor(const StartRequest& request) const;

  static constexpr int kLogTailLines = 10;

 private:
  const HfJobSettings& SettingsFor(const std::string& label, bool prepare) const;
  // The namespace the worker's jobs run in; nothing, with `error` set, when it cannot be told.
  std::optional<std::string> NamespaceFor(const std::string& label, bool prepare, TimeBudget budget,
                                          std::string& error);
  WorkerState StateOf(const JobInfo& job, const std::string& job_namespace) const;

  HfJobs& jobs_;
  HfHub& hub_;
  HfJobOptions options_;
  std::optional<std::string> user_;  // the token's user, once whoami answered
  std::string whoami_failure_;       // why whoami did not answer, within one Start or Inspect
};

// The label keys every job gets.
inline constexpr std::string_view kJobOrchestratorLabel = "orchestrator";
inline constexpr std::string_view kJobLabelLabel = "orchestrator-label";
inline constexpr std::string_view kJobRoleLabel = "orchestrator-role";
inline constexpr std::string_view kJobKeyLabel = "orchestrator-key";
inline constexpr size_t kMaxJobLabelValueBytes = 63;

// `text` as a label value the Hub takes (a job's name must match [a-zA-Z0-9._-]*, and is kept as a
// tag, of letters, digits, '-' and '_'): every other byte becomes '-' (a list of labels
// "department,urgency" reads department-urgency), and a value longer than kMaxJobLabelValueBytes,
// or empty, is cut to leave room for '-' and 8 hex digits of a hash of the whole text, so that two
// texts never share a value by being cut alike.
std::string JobLabelValue(std::string_view text);

// What a job's stage says about the worker.
WorkerState::Health HealthOfJobStage(std::string_view stage);

}  // namespace orch
