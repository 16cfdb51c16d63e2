// What `orchestrator serve` answers, as plain functions from a request to a response, apart from
// the HTTP library (http_server.h carries them over the socket), so each endpoint can be read and
// tested on its own:
//
//   GET  /                    the status page          GET  /api/runs[?limit=N]   the last passes
//   GET  /labels/<label>      one label's page         GET  /api/runs/<id>        one, with its summary
//   GET  /api/status          as `status --json`       POST /api/passes           start a pass (token)
//   GET  /metrics             Prometheus text          GET  /api/passes[/<id>]    this server's passes
//   GET  /healthz             ok when the database answers
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/config.h"
#include "serve/pass_worker.h"
#include "serve/snapshot_keeper.h"
#include "util/log.h"

namespace orch {

struct HttpRequest {
  std::string method;  // "GET", "HEAD", "POST", ...
  std::string path;    // without the query
  std::map<std::string, std::string> query;
  std::string authorization;  // the Authorization header, "" when absent
  std::string body;
  std::string remote;  // the client's address, for the log
};

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct EndpointSettings {
  std::optional<double> schedule_seconds;
  double refresh_seconds = 60;
  std::vector<std::string> secrets;  // removed from every answer
  std::string lock_holder;           // how this server names itself when it checks the run lock (not as its passes do)
};

class Endpoints {
 public:
  Endpoints(const Config& config, EndpointSettings settings, SnapshotKeeper& snapshots, PassWorker& passes, Log& log);

  // Never throws: a failure inside is a 500 with a JSON error.
  HttpResponse Handle(const HttpRequest& request);

 private:
  HttpResponse Route(const HttpRequest& request);
  HttpResponse StatusPage();
  HttpResponse LabelPage(const std::string& label);
  HttpResponse Status();
  HttpResponse Runs(const HttpRequest& request);
  HttpResponse Run(const std::string& id);
  HttpResponse StartPass(const HttpRequest& request);
  HttpResponse Passes();
  HttpResponse Pass(const std::string& id);
  HttpResponse Metrics();
  HttpResponse Health();
  // The reason a pass cannot start because the run lock is held elsewhere, or nothing.
  std::optional<std::string> LockHeldElsewhere();

  const Config& config_;
  EndpointSettings settings_;
  SnapshotKeeper& snapshots_;
  PassWorker& passes_;
  Log& log_;
};

}  // namespace orch
