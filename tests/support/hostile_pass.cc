#include "support/hostile_pass.h"

namespace orch::testing {

const char* HostileStepName(HostileStep step) {
  switch (step) {
    case HostileStep::kMetadata: return "metadata";
    case HostileStep::kRestart: return "restart";
    case HostileStep::kRuntime: return "runtime";
  }
  return "unknown";
}

std::string HostilePath(HostileStep step) {
  switch (step) {
    case HostileStep::kMetadata: return kHostileMetadataPath;
    case HostileStep::kRestart: return kHostileRestartPath;
    case HostileStep::kRuntime: return kHostileRuntimePath;
  }
  return "";
}

int FirstHostileRequest(HostileStep step) { return step == HostileStep::kMetadata ? 2 : 1; }

void ArrangeHostileHub(HostileServer& server, HostileServer::Mode mode, HostileStep step) {
  server.Misbehave(HostilePath(step), mode, FirstHostileRequest(step) - 1);
  server.Answer(kHostileRestartPath, 200, R"({"stage": "BUILDING"})");
  server.Answer(kHostileRuntimePath, 200, R"({"stage": "RUNNING"})");
}

std::map<std::string, std::string> HostilePassEnv(const HostileServer& server, const std::string& database_url,
                                                  const std::string& token) {
  return {{"PATH", "/usr/bin:/bin"},
          {"DATABASE_URL", database_url},
          {"HF_ENDPOINT", server.endpoint()},
          {"HF_TOKEN", token},
          {"LABELS", "department"},
          {"PREPARE_DATASET_REPO", "owner/prepare"},
          {"RETRAIN_DEPT_REPO", "owner/retrain_dept"},
          {"HF_HUB_METADATA_DEPT", server.endpoint() + kHostileMetadataPath},
          {"THRESHOLD_DEPARTMENT", "20"},
          {"POLL_INTERVAL", "0.2"},
          {"POLL_TIMEOUT", "3"},
          {"HTTP_CONNECT_TIMEOUT", "1"},
          {"HTTP_TIMEOUT", "1"},
          {"HTTP_RETRIES", "1"},
          {"HTTP_RETRY_BASE", "0.01"},
          {"HTTP_RETRY_MAX", "0.05"}};
}

}  // namespace orch::testing
