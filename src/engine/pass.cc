#include "engine/pass.h"

#include <algorithm>
#include <cmath>

#include "engine/decision.h"
#include "util/error.h"

namespace orch {

Pass::Pass(const Config& config, PassServices services) : config_(config), services_(services) {}

PassReport Pass::Run() {
  report_ = PassReport{};
  report_.dry_run = config_.dry_run;
  report_.started_at = services_.clock.WallNow();
  try {
    CountAndDecide();
  } catch (const DatabaseError& error) {
    report_.error = error.what();
    services_.log.Error("", "database", {{"error", error.what()}});
    for (size_t i = 0; i < report_.labels.size(); ++i) Finish(i, Outcome::kFailed, std::string("database: ") + error.what());
    report_.finished_at = services_.clock.WallNow();
    return report_;
  }
  if (config_.dry_run) {
    ReportDryRun();
  } else if (!Pending().empty()) {
    ReadBaselines();
    if (!Pending().empty() && StartPrepare()) WaitForDatasets();
  }
  report_.finished_at = services_.clock.WallNow();
  return report_;
}

// ---- counting -------------------------------------------------------------------------------

void Pass::CountAndDecide() {
  report_.labels.resize(config_.labels.size());
  for (size_t i = 0; i < config_.labels.size(); ++i) {
    report_.labels[i].label = config_.labels[i].name;
    report_.labels[i].threshold = config_.labels[i].threshold;
  }
  std::vector<int64_t> misclassified = CountMisclassified();
  std::vector<std::optional<int64_t>> pools = CountPools(misclassified);
  for (size_t i = 0; i < config_.labels.size(); ++i) {
    LabelReport& label = report_.labels[i];
    Decision decision = Decide(misclassified[i], pools[i], config_.correct_ratio, label.threshold);
    label.misclassified = misclassified[i];
    label.sampled_correct = decision.sampled_correct;
    label.dataset_len = decision.dataset_len;
    label.upper_bound = decision.upper_bound;
    label.prepare = decision.prepare;
    services_.log.Info(label.label, "counts",
                       {{"misclassified", label.misclassified},
                        {"sampled_correct", label.sampled_correct},
                        {"dataset_len", label.dataset_len},
                        {"upper_bound", label.upper_bound},
                        {"threshold", label.threshold},
                        {"decision", label.prepare ? "prepare" : "skip"}});
    if (!label.prepare) Finish(i, Outcome::kBelowThreshold);
  }
}

std::vector<int64_t> Pass::CountMisclassified() {
  std::vector<int64_t> counts(config_.labels.size(), 0);
  std::vector<LabelColumns> scanned;
  std::vector<size_t> scanned_index;
  for (size_t i = 0; i < config_.labels.size(); ++i) {
    const LabelConfig& label = config_.labels[i];
    if (!label.misclassified_sql.empty()) {
      counts[i] = services_.database.CountWithQuery(label.misclassified_sql);
    } else {
      scanned.push_back(label.columns);
      scanned_index.push_back(i);
    }
  }
  if (!scanned.empty()) {
    std::vector<int64_t> scan = services_.database.CountMisclassified(scanned);
    for (size_t k = 0; k < scan.size(); ++k) counts[scanned_index[k]] = scan[k];
  }
  return counts;
}

std::vector<std::optional<int64_t>> Pass::CountPools(const std::vector<int64_t>& misclassified) {
  std::vector<std::optional<int64_t>> pools(config_.labels.size());
  std::vector<LabelColumns> joined;
  std::vector<size_t> joined_index;
  for (size_t i = 0; i < config_.labels.size(); ++i) {
    const LabelConfig& label = config_.labels[i];
    if (!NeedsPoolCount(misclassified[i], config_.correct_ratio, label.threshold)) continue;
    if (!label.pool_sql.empty()) {
      pools[i] = services_.database.CountWithQuery(label.pool_sql);
    } else {
      joined.push_back(label.columns);
      joined_index.push_back(i);
    }
  }
  if (!joined.empty()) {
    std::vector<int64_t> counts = services_.database.CountCorrectPool(joined);
    for (size_t k = 0; k < counts.size(); ++k) pools[joined_index[k]] = counts[k];
  }
  return pools;
}

// ---- dry run --------------------------------------------------------------------------------

void Pass::ReportDryRun() {
  std::vector<size_t> pending = Pending();
  std::vector<std::string> urls;
  std::vector<size_t> with_url;
  for (size_t i : pending) {
    if (config_.labels[i].metadata_url.empty()) continue;
    urls.push_back(config_.labels[i].metadata_url);
    with_url.push_back(i);
  }
  std::vector<MetadataRead> reads = services_.hub.ReadMetadata(urls);
  for (size_t k = 0; k < reads.size(); ++k)
    if (reads[k].status == MetadataRead::Status::kOk) report_.labels[with_url[k]].baseline_version = reads[k].metadata->version_tag;
  if (!pending.empty())
    services_.log.Info("", "dry run: would restart the prepare worker",
                       {{"target", config_.prepare_target.empty() ? "(PREPARE_DATASET_REPO not set)" : config_.prepare_target}});
  for (size_t i : pending) {
    const LabelConfig& label = config_.labels[i];
    services_.log.Info(label.name, "dry run: would wait for a new dataset, then restart the retrain worker",
                       {{"required_len", report_.labels[i].dataset_len},
                        {"current_version", report_.labels[i].baseline_version.value_or("none")},
                        {"retrain", label.retrain_target.empty() ? "(not set)" : label.retrain_target}});
    Finish(i, Outcome::kDryRun);
  }
}

// ---- preparing ------------------------------------------------------------------------------

void Pass::ReadBaselines() {
  std::vector<size_t> pending = Pending();
  std::vector<std::string> urls;
  for (size_t i : pending) urls.push_back(config_.labels[i].metadata_url);
  std::vector<MetadataRead> reads = services_.hub.ReadMetadata(urls);
  for (size_t k = 0; k < pending.size(); ++k) {
    size_t i = pending[k];
    const MetadataRead& read = reads[k];
    switch (read.status) {
      case MetadataRead::Status::kOk:
        report_.labels[i].baseline_version = read.metadata->version_tag;
        services_.log.Info(report_.labels[i].label, "baseline", {{"version", read.metadata->version_tag},
                                                                  {"num_samples", read.metadata->num_samples}});
        break;
      case MetadataRead::Status::kNotFound:
      case MetadataRead::Status::kInvalid:
        // No usable current dataset: any valid version that appears will be a new one.
        services_.log.Info(report_.labels[i].label, "baseline", {{"version", "none"}, {"detail", read.detail}});
        break;
      case MetadataRead::Status::kRefused:
      case MetadataRead::Status::kUnavailable:
        Finish(i, Outcome::kFailed,
               "cannot read the current dataset version, so a new one could not be recognised: " + read.detail);
        break;
    }
  }
}

bool Pass::StartPrepare() {
  std::vector<size_t> pending = Pending();
  StartRequest request;
  request.target = config_.prepare_target;
  for (size_t i : pending) {
    request.label += (request.label.empty() ? "" : ",") + report_.labels[i].label;
    request.required_len = std::max(request.required_len, report_.labels[i].dataset_len);
  }
  StartResult result = services_.trigger.Start(std::span<const StartRequest>(&request, 1)).front();
  prepare_started_ = services_.clock.Now();
  deadline_ = prepare_started_ + SecondsToDuration(config_.poll_timeout);
  if (!result.ok) {
    services_.log.Error("", "prepare restart failed", {{"target", request.target}, {"error", result.detail}});
    for (size_t i : pending)
      Finish(i, Outcome::kFailed, "restarting the prepare worker " + request.target + " failed: " + result.detail);
    return false;
  }
  report_.prepare_triggered = true;
  services_.log.Info("", "prepare restart requested",
                     {{"target", request.target}, {"labels", request.label}, {"detail", result.detail}});
  return true;
}

void Pass::WaitForDatasets() {
  while (true) {
    Clock::TimePoint round_started = services_.clock.Now();
    PollOnce();
    if (!Pending().empty()) WatchPrepareWorker();
    ExpireDeadlines();
    if (Pending().empty()) return;
    Clock::TimePoint next = round_started + SecondsToDuration(config_.poll_interval);
    services_.clock.SleepUntil(std::min(next, deadline_));
  }
}

void Pass::PollOnce() {
  std::vector<size_t> pending = Pending();
  std::vector<std::string> urls;
  for (size_t i : pending) urls.push_back(config_.labels[i].metadata_url);
  std::vector<MetadataRead> reads = services_.hub.ReadMetadata(urls);
  std::vector<size_t> ready;
  for (size_t k = 0; k < pending.size(); ++k) {
    size_t i = pending[k];
    LabelReport& label = report_.labels[i];
    const MetadataRead& read = reads[k];
    if (read.status == MetadataRead::Status::kOk) {
      const DatasetMetadata& metadata = *read.metadata;
      bool is_new = IsNewDataset(metadata, label.baseline_version, label.dataset_len);
      services_.log.Info(label.label, "poll",
                         {{"current_len", metadata.num_samples},
                          {"required_len", label.dataset_len},
                          {"version", metadata.version_tag},
                          {"ready", is_new}});
      if (is_new) {
        label.dataset_version = metadata.version_tag;
        label.dataset_samples = metadata.num_samples;
        ready.push_back(i);
      }
    } else if (read.status == MetadataRead::Status::kRefused || read.status == MetadataRead::Status::kInvalid) {
      Finish(i, Outcome::kFailed, read.detail);
    } else {
      services_.log.Info(label.label, "poll",
                         {{"required_len", label.dataset_len}, {"status", MetadataStatusName(read.status)},
                          {"detail", read.detail}});
    }
  }
  if (!ready.empty()) StartRetrains(ready);
}

void Pass::StartRetrains(const std::vector<size_t>& ready) {
  std::vector<StartRequest> requests;
  for (size_t i : ready) {
    const LabelReport& label = report_.labels[i];
    requests.push_back({config_.labels[i].retrain_target, label.label, label.dataset_len,
                        label.baseline_version.value_or("")});
  }
  std::vector<StartResult> results = services_.trigger.Start(requests);
  for (size_t k = 0; k < ready.size(); ++k) {
    size_t i = ready[k];
    if (results[k].ok) {
      services_.log.Info(report_.labels[i].label, "retrain restart requested",
                         {{"target", requests[k].target},
                          {"dataset_version", *report_.labels[i].dataset_version},
                          {"detail", results[k].detail}});
      Finish(i, Outcome::kRetrainTriggered);
    } else {
      Finish(i, Outcome::kFailed, "restarting the retrain worker " + requests[k].target + " failed: " + results[k].detail);
    }
  }
}

void Pass::WatchPrepareWorker() {
  std::string target = config_.prepare_target;
  WorkerState state = services_.trigger.Inspect(std::span<const std::string>(&target, 1)).front();
  if (state.health == WorkerState::Health::kFailed) {
    for (size_t i : Pending())
      Finish(i, Outcome::kFailed, "the prepare worker " + target + " failed: " + state.detail);
  } else if (state.health == WorkerState::Health::kActive) {
    prepare_seen_active_ = true;
  } else if (state.health == WorkerState::Health::kFinished && prepare_seen_active_ && !prepare_finish_noted_) {
    // Only after it was seen running: right after a restart the runtime may still show the old stage.
    prepare_finish_noted_ = true;
    services_.log.Warning("", "the prepare worker stopped before every dataset appeared; still waiting",
                          {{"target", target}, {"detail", state.detail}});
  }
}

void Pass::ExpireDeadlines() {
  if (services_.clock.Now() < deadline_) return;
  for (size_t i : Pending()) {
    const LabelReport& label = report_.labels[i];
    Finish(i, Outcome::kTimeout,
           "no dataset with at least " + std::to_string(label.dataset_len) + " samples and a version other than " +
               label.baseline_version.value_or("none") + " appeared within POLL_TIMEOUT=" +
               std::to_string(static_cast<long long>(std::ceil(config_.poll_timeout))) + " s");
  }
}

// ---- bookkeeping ----------------------------------------------------------------------------

void Pass::Finish(size_t index, Outcome outcome, std::optional<std::string> error) {
  LabelReport& label = report_.labels[index];
  label.outcome = outcome;
  label.error = std::move(error);
  if (report_.prepare_triggered) label.waited_seconds = SecondsSincePrepare();
  Fields fields = {{"outcome", OutcomeName(outcome)}};
  if (label.error) fields.push_back({"error", *label.error});
  Level level = outcome == Outcome::kFailed ? Level::kError : outcome == Outcome::kTimeout ? Level::kWarning : Level::kInfo;
  services_.log.Event(level, label.label, "finished", fields);
  services_.log.LabelDone(label.label);
}

std::vector<size_t> Pass::Pending() const {
  std::vector<size_t> pending;
  for (size_t i = 0; i < report_.labels.size(); ++i)
    if (report_.labels[i].outcome == Outcome::kPending && report_.labels[i].prepare) pending.push_back(i);
  return pending;
}

double Pass::SecondsSincePrepare() const {
  return std::chrono::duration<double>(services_.clock.Now() - prepare_started_).count();
}

}  // namespace orch
