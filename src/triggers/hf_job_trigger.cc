#include "triggers/hf_job_trigger.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <set>

#include "config/target.h"
#include "triggers/command_trigger.h"
#include "util/fnv.h"

namespace orch {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr const char* kActiveStages[] = {"SCHEDULING", "RUNNING"};

std::string RunIdOf(const std::string& job_namespace, const std::string& id) { return job_namespace + "/" + id; }

// "namespace/id" split; nothing for anything else.
std::optional<JobRef> JobRefOf(std::string_view run_id) {
  const size_t slash = run_id.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  JobRef ref{std::string(run_id.substr(0, slash)), std::string(run_id.substr(slash + 1))};
  if (!IsJobName(ref.job_namespace) || !IsJobName(ref.id)) return std::nullopt;
  return ref;
}

std::string LabelOf(const JobInfo& job, std::string_view key) {
  const auto found = job.labels.find(std::string(key));
  return found == job.labels.end() ? "" : found->second;
}

// Of the jobs labelled with one request's key, the one that tells most: an active one, else the last.
const JobInfo* BestOf(const std::vector<const JobInfo*>& jobs) {
  for (const JobInfo* job : jobs)
    if (HealthOfJobStage(job->stage) == WorkerState::Health::kActive) return job;
  return jobs.empty() ? nullptr : jobs.back();
}

TimeBudget Remaining(const std::optional<SteadyClock::time_point>& deadline) {
  if (!deadline) return std::nullopt;
  return std::max(std::chrono::milliseconds(1),
                  std::chrono::ceil<std::chrono::milliseconds>(*deadline - SteadyClock::now()));
}

}  // namespace

std::string JobLabelValue(std::string_view text) {
  std::string value;
  for (char c : text)
    value +=
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ? c : '-';
  if (!value.empty() && value.size() <= kMaxJobLabelValueBytes) return value;
  char hash[9];
  std::snprintf(hash, sizeof hash, "%08llx",
                static_cast<unsigned long long>(Fnv1a64(std::string(text)) & 0xffffffffULL));
  value.resize(std::min(value.size(), kMaxJobLabelValueBytes - 9));
  return value + "-" + hash;
}

WorkerState::Health HealthOfJobStage(std::string_view stage) {
  if (stage == "SCHEDULING" || stage == "RUNNING" || stage == "UPDATING") return WorkerState::Health::kActive;
  if (stage == "COMPLETED") return WorkerState::Health::kFinished;
  if (stage == "ERROR" || stage == "CANCELED" || stage == "DELETED") return WorkerState::Health::kFailed;
  return WorkerState::Health::kUnknown;
}

HfJobTrigger::HfJobTrigger(HfJobs& jobs, HfHub& hub, HfJobOptions options)
    : jobs_(jobs), hub_(hub), options_(std::move(options)) {}

const HfJobSettings& HfJobTrigger::SettingsFor(const std::string& label, bool prepare) const {
  if (prepare) return options_.prepare;
  const auto found = options_.labels.find(label);
  return found == options_.labels.end() ? options_.prepare : found->second;
}

std::optional<std::string> HfJobTrigger::NamespaceFor(const std::string& label, bool prepare, TimeBudget budget,
                                                      std::string& error) {
  const HfJobSettings& settings = SettingsFor(label, prepare);
  if (!settings.job_namespace.empty()) return settings.job_namespace;
  if (user_) return user_;
  if (!whoami_failure_.empty()) {  // asked already in this call: not again for every worker
    error = whoami_failure_;
    return std::nullopt;
  }
  const HfHub::Identity identity = hub_.WhoAmI(budget);
  if (identity.ok && IsJobName(identity.name)) {
    user_ = identity.name;
    return user_;
  }
  whoami_failure_ = "cannot tell in which namespace to run the job: " +
                    (identity.ok ? "whoami-v2 named no usable account" : identity.error) + "; set HF_JOB_NAMESPACE";
  error = whoami_failure_;
  return std::nullopt;
}

JobSpec HfJobTrigger::SpecFor(const StartRequest& request) const {
  const Target target = ParseTarget(request.target);
  const bool prepare = request.dataset_version.empty();
  const HfJobSettings& settings = SettingsFor(request.label, prepare);
  JobSpec spec;
  spec.docker_image = target.image;
  spec.space_id = target.space_id;
  spec.command = target.argv;
  spec.environment = options_.environment;
  spec.environment["ORCHESTRATOR_LABEL"] = request.label;
  spec.environment["ORCHESTRATOR_REQUIRED_LEN"] = std::to_string(request.required_len);
  spec.environment["ORCHESTRATOR_BASELINE_VERSION"] = request.baseline_version;
  spec.environment["ORCHESTRATOR_DATASET_VERSION"] = request.dataset_version;
  spec.environment["ORCHESTRATOR_IDEMPOTENCY_KEY"] = request.idempotency_key;
  spec.secrets = options_.secrets;
  spec.flavor = settings.flavor;
  spec.timeout_seconds = static_cast<long long>(std::ceil(settings.timeout));
  const std::string role = prepare ? "prepare" : "retrain";
  spec.labels = {{std::string(kJobOrchestratorLabel), JobLabelValue(options_.orchestrator)},
                 {std::string(kJobLabelLabel), JobLabelValue(request.label)},
                 {std::string(kJobRoleLabel), role},
                 {std::string(kJobKeyLabel), JobLabelValue(request.idempotency_key)},
                 {"name", JobLabelValue(options_.orchestrator + "-" + role + (prepare ? "" : "-" + request.label))}};
  return spec;
}

WorkerState HfJobTrigger::StateOf(const JobInfo& job, const std::string& job_namespace) const {
  const std::string run_id = RunIdOf(job.owner.empty() ? job_namespace : job.owner, job.id);
  const std::string page = JobPageUrl(jobs_.endpoint(), run_id);
  const std::string stage = job.stage.empty() ? "no stage" : job.stage;
  WorkerState state;
  state.health = HealthOfJobStage(job.stage);
  state.evidence = WorkerState::Evidence::kProcess;  // the very run: its end is certain
  state.request = WorkerState::Request::kReceived;
  state.run_id = run_id;
  switch (state.health) {
    case WorkerState::Health::kActive:
    case WorkerState::Health::kFinished: state.detail = "job " + run_id + " " + stage + ", " + page; break;
    case WorkerState::Health::kFailed:
      state.detail = "job " + run_id + " " + stage + (job.message.empty() ? "" : ": " + job.message) + "; see " + page;
      break;
    case WorkerState::Health::kUnknown:
      state.detail = "job " + run_id + " shows " + stage + ", which is none the orchestrator knows; see " + page;
      break;
  }
  return state;
}

std::vector<StartResult> HfJobTrigger::Start(std::span<const StartRequest> requests) {
  whoami_failure_.clear();
  std::vector<StartResult> results(requests.size());
  std::vector<std::pair<std::string, JobSpec>> runs;
  std::vector<size_t> run_of;  // the request of each run
  for (size_t i = 0; i < requests.size(); ++i) {
    std::string error;
    const std::optional<std::string> job_namespace =
        NamespaceFor(requests[i].label, requests[i].dataset_version.empty(), std::nullopt, error);
    if (!job_namespace) {
      results[i] = {false, error};
      continue;
    }
    runs.emplace_back(*job_namespace, SpecFor(requests[i]));
    run_of.push_back(i);
  }
  const std::vector<JobAnswer> answers = jobs_.Run(runs);
  std::vector<size_t> lost;  // runs that may have created a job, their answer lost
  for (size_t k = 0; k < answers.size(); ++k) {
    StartResult& result = results[run_of[k]];
    const JobAnswer& answer = answers[k];
    if (answer.status == 200 && answer.job) {
      const WorkerState state = StateOf(*answer.job, runs[k].first);
      result = {true, state.detail, false, state.run_id};
      continue;
    }
    result = {false, answer.error, answer.may_have_arrived};
    if (answer.may_have_arrived) lost.push_back(k);
  }
  if (lost.empty()) return results;
  // Looked for at once, by the labels it was sent with: a job found is the start.
  std::vector<JobListQuery> queries;
  for (size_t k : lost) {
    const JobSpec& spec = runs[k].second;
    queries.push_back({runs[k].first,
                       {},
                       {{std::string(kJobOrchestratorLabel), spec.labels.at(std::string(kJobOrchestratorLabel))},
                        {std::string(kJobKeyLabel), spec.labels.at(std::string(kJobKeyLabel))}}});
  }
  const std::vector<JobListAnswer> listed = jobs_.List(queries, std::nullopt);
  for (size_t n = 0; n < lost.size(); ++n) {
    StartResult& result = results[run_of[lost[n]]];
    std::vector<const JobInfo*> found;
    if (listed[n].ok)
      for (const JobInfo& job : listed[n].jobs) found.push_back(&job);
    if (const JobInfo* job = BestOf(found)) {
      const WorkerState state = StateOf(*job, runs[lost[n]].first);
      result = {true,
                state.detail + " (the answer to its run call was lost: " + result.detail +
                    "; the jobs listed by its key show it)",
                false, state.run_id};
      continue;
    }
    result.detail += listed[n].ok ? "; no job is listed with its key yet"
                                  : "; the jobs could not be listed by its key (" + listed[n].error + ")";
  }
  return results;
}

std::vector<WorkerState> HfJobTrigger::Inspect(std::span<const WorkerRef> workers, TimeBudget budget) {
  whoami_failure_.clear();
  std::optional<SteadyClock::time_point> deadline;
  if (budget) deadline = SteadyClock::now() + *budget;
  std::vector<WorkerState> states(workers.size());
  // Where each worker's run is: its namespace, and its id when recorded.
  std::vector<std::optional<JobRef>> refs(workers.size());
  std::vector<std::string> namespaces(workers.size());
  std::set<std::string> listed_namespaces;
  for (size_t i = 0; i < workers.size(); ++i) {
    const WorkerRef& worker = workers[i];
    if (!worker.run_id.empty()) {
      refs[i] = JobRefOf(worker.run_id);
      if (!refs[i]) {
        states[i] = {WorkerState::Health::kUnknown, "the recorded run " + worker.run_id + " names no job"};
        continue;
      }
      namespaces[i] = refs[i]->job_namespace;
    } else if (worker.idempotency_key.empty()) {
      states[i] = {WorkerState::Health::kFinished, "no job was recorded for this worker", "",
                   WorkerState::Evidence::kNone};
      continue;
    } else {
      std::string error;
      const std::optional<std::string> job_namespace =
          NamespaceFor(worker.label, worker.prepare, Remaining(deadline), error);
      if (!job_namespace) {
        states[i] = {WorkerState::Health::kUnknown, error};
        continue;
      }
      namespaces[i] = *job_namespace;
    }
    listed_namespaces.insert(namespaces[i]);
  }

  // One listing per namespace of the orchestrator's active jobs.
  std::vector<JobListQuery> active_queries;
  for (const std::string& job_namespace : listed_namespaces)
    active_queries.push_back({job_namespace,
                              {std::begin(kActiveStages), std::end(kActiveStages)},
                              {{std::string(kJobOrchestratorLabel), JobLabelValue(options_.orchestrator)}}});
  const std::vector<JobListAnswer> active = jobs_.List(active_queries, Remaining(deadline));
  std::map<std::string, const JobListAnswer*> active_of;
  for (size_t q = 0; q < active_queries.size(); ++q) active_of[active_queries[q].job_namespace] = &active[q];

  std::vector<size_t> inspect_of, list_of;  // the workers whose run is read alone, or looked for by key
  std::vector<JobRef> to_inspect;
  std::vector<JobListQuery> to_list;
  for (size_t i = 0; i < workers.size(); ++i) {
    if (namespaces[i].empty()) continue;  // settled above
    const JobListAnswer& listing = *active_of.at(namespaces[i]);
    const std::string key = JobLabelValue(workers[i].idempotency_key);
    const JobInfo* found = nullptr;
    if (listing.ok)
      for (const JobInfo& job : listing.jobs)
        if (refs[i] ? job.id == refs[i]->id : LabelOf(job, kJobKeyLabel) == key) found = &job;
    if (found) {
      states[i] = StateOf(*found, namespaces[i]);
    } else if (refs[i]) {
      inspect_of.push_back(i);
      to_inspect.push_back(*refs[i]);
    } else {
      list_of.push_back(i);
      to_list.push_back({namespaces[i],
                         {},
                         {{std::string(kJobOrchestratorLabel), JobLabelValue(options_.orchestrator)},
                          {std::string(kJobKeyLabel), key}}});
    }
  }
  const std::vector<JobAnswer> inspected = jobs_.Inspect(to_inspect, Remaining(deadline));
  for (size_t k = 0; k < inspect_of.size(); ++k) {
    const size_t i = inspect_of[k];
    const JobAnswer& answer = inspected[k];
    if (answer.status == 200 && answer.job) {
      states[i] = StateOf(*answer.job, namespaces[i]);
    } else if (answer.status == 404) {
      states[i] = {WorkerState::Health::kFailed, "job " + workers[i].run_id + " was not found: " + answer.error, "",
                   WorkerState::Evidence::kProcess};
      states[i].request = WorkerState::Request::kReceived;
      states[i].run_id = workers[i].run_id;
    } else {
      states[i] = {WorkerState::Health::kUnknown, answer.error};
    }
  }
  const std::vector<JobListAnswer> by_key = jobs_.List(to_list, Remaining(deadline));
  for (size_t k = 0; k < list_of.size(); ++k) {
    const size_t i = list_of[k];
    if (!by_key[k].ok) {
      states[i] = {WorkerState::Health::kUnknown, by_key[k].error};
      continue;
    }
    std::vector<const JobInfo*> found;
    for (const JobInfo& job : by_key[k].jobs) found.push_back(&job);
    if (const JobInfo* job = BestOf(found)) {
      states[i] = StateOf(*job, namespaces[i]);
      continue;
    }
    states[i] = {WorkerState::Health::kFinished,
                 "no job was started for request " + workers[i].idempotency_key + " (none in " + namespaces[i] +
                     " is labelled with its key)",
                 "", WorkerState::Evidence::kNone};
    states[i].request = WorkerState::Request::kNotReceived;
  }

  // The last lines of the log of each run that ended, for the workers asked with_log.
  std::vector<size_t> log_of;
  std::vector<JobRef> logs;
  for (size_t i = 0; i < workers.size(); ++i) {
    const bool ended =
        states[i].health == WorkerState::Health::kFailed || states[i].health == WorkerState::Health::kFinished;
    if (!workers[i].with_log || !ended || states[i].run_id.empty()) continue;
    if (const std::optional<JobRef> ref = JobRefOf(states[i].run_id)) {
      log_of.push_back(i);
      logs.push_back(*ref);
    }
  }
  const std::vector<JobLogAnswer> tails = jobs_.LogTails(logs, kLogTailLines, Remaining(deadline));
  for (size_t k = 0; k < log_of.size(); ++k) {
    WorkerState& state = states[log_of[k]];
    std::string text;
    for (const std::string& line : tails[k].lines) text += (text.empty() ? "" : "\n") + line;
    if (state.health == WorkerState::Health::kFinished) {
      state.decision = LastJsonLine(text);  // what a worker reports last, as a command's log holds it
    } else if (!tails[k].ok) {
      state.detail += " (its log could not be read: " + tails[k].error + ")";
    } else if (!text.empty()) {
      state.detail += "; the last lines of its log:\n" + text;
    }
  }
  return states;
}

}  // namespace orch
