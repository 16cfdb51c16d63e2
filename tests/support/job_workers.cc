#include "support/job_workers.h"

namespace orch::testing {

std::string PrepareJobTarget() { return std::string("hf-job:") + kPrepareJobImage + " prepare"; }

std::string RetrainJobTarget(const std::string& label) {
  return std::string("hf-job:") + kRetrainJobImage + " retrain " + label;
}

void PrepareJobsPublish(FakeHub& hub, PrepareScript script, FakeHubJobs::Behavior behavior) {
  behavior.on_running = [&hub, script = std::move(script)](const FakeHubJobs::Job& job) {
    const auto labels = job.environment.find("ORCHESTRATOR_LABEL");
    hub.StartPublications("prepare-job", script(labels == job.environment.end() ? "" : labels->second));
  };
  hub.jobs().SetBehavior(kPrepareJobImage, std::move(behavior));
}

std::map<std::pair<std::string, std::string>, int> RetrainJobsStarted(FakeHub& hub) {
  std::map<std::pair<std::string, std::string>, int> started;
  for (const FakeHubJobs::Job& job : hub.jobs().Jobs()) {
    if (job.docker_image != kRetrainJobImage) continue;
    ++started[{job.environment.at("ORCHESTRATOR_LABEL"), job.environment.at("ORCHESTRATOR_DATASET_VERSION")}];
  }
  return started;
}

std::vector<FakeHubJobs::Job> JobsOfRequest(FakeHub& hub, const std::string& orchestrator,
                                            const std::string& idempotency_key) {
  std::vector<FakeHubJobs::Job> jobs;
  for (FakeHubJobs::Job& job : hub.jobs().WithLabel("orchestrator-key", idempotency_key))
    if (job.labels.at("orchestrator") == orchestrator) jobs.push_back(std::move(job));
  return jobs;
}

}  // namespace orch::testing
