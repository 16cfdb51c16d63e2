#include "config/job_environment.h"

#include <set>

#include "util/strings.h"

namespace orch {

JobEnvironment JobEnvironmentOf(const Config& config) {
  std::set<std::string> named;  // by WORKER_ENV
  for (size_t start = 0; start <= config.worker_env.size();) {
    const size_t comma = std::min(config.worker_env.find(',', start), config.worker_env.size());
    named.insert(std::string(Trim(std::string_view(config.worker_env).substr(start, comma - start))));
    start = comma + 1;
  }
  JobEnvironment job;
  for (const std::string& entry : config.worker_environment) {
    const size_t equals = entry.find('=');
    if (equals == std::string::npos) continue;
    const std::string name = entry.substr(0, equals), value = entry.substr(equals + 1);
    if (IsWorkerSystemVariable(name) || name == "ORCHESTRATOR_CONFIG") continue;  // this machine's
    const bool secret =
        name == "HF_TOKEN" || named.contains(name) || (name == "DATABASE_URL" && !config.database.password.empty());
    (secret ? job.secrets : job.environment)[name] = value;
  }
  if (!config.hf_token.empty()) job.secrets["HF_TOKEN"] = config.hf_token;
  return job;
}

}  // namespace orch
