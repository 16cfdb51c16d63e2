// What an hf-job: worker's Job gets besides its request, from the pass's configuration.
//
// It is a command: worker's environment (Config::worker_environment: the settings given by name,
// the variables WORKER_ENV names), less what only this machine has (PATH, HOME and the other
// system variables, the path of the --config file), with the secrets apart: HF_TOKEN, DATABASE_URL
// when it holds a password, and every variable WORKER_ENV names (which may be credentials) go as
// the Job's secrets, which the Hub keeps encrypted and never shows; the rest is its environment,
// which the Hub shows on the Job's page.
#pragma once

#include <map>
#include <string>

#include "config/config.h"

namespace orch {

struct JobEnvironment {
  std::map<std::string, std::string> environment;
  std::map<std::string, std::string> secrets;
};

JobEnvironment JobEnvironmentOf(const Config& config);

}  // namespace orch
