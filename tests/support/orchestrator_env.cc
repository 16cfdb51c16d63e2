#include "support/orchestrator_env.h"

namespace orch::testing {

std::map<std::string, std::string> OrchestratorEnv(const FakeHub& hub, const std::string& database_url,
                                                   const std::string& token) {
  return {{"PATH", "/usr/bin:/bin"},
          {"DATABASE_URL", database_url},
          {"HF_ENDPOINT", hub.endpoint()},
          {"HF_TOKEN", token},
          {"PREPARE_DATASET_REPO", "owner/prepare"},
          {"RETRAIN_DEPT_REPO", "owner/retrain_dept"},
          {"RETRAIN_URGENCY_REPO", "owner/retrain_urgency"},
          {"HF_HUB_METADATA_DEPT", hub.MetadataUrl("owner/department")},
          {"HF_HUB_METADATA_URGENCY", hub.MetadataUrl("owner/urgency")},
          {"THRESHOLD_DEPARTMENT", "20"},
          {"THRESHOLD_URGENCY", "10"},
          {"POLL_INTERVAL", "0.02"},
          {"POLL_TIMEOUT", "20"},
          {"HTTP_RETRY_BASE", "0.01"},
          {"HTTP_RETRY_MAX", "0.05"}};
}

}  // namespace orch::testing
