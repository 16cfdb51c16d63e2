#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/sources.h"
#include "config/target.h"
#include "config/url_policy.h"
#include "db/open_database.h"
#include "hub/hf_hub.h"
#include "hub/local_metadata.h"
#include "util/error.h"
#include "util/redact.h"
#include "util/spawn.h"

namespace orch {
namespace {

enum class CheckStatus { kOk, kWarn, kFail };

struct CheckLine {
  std::string name;
  CheckStatus status;
  std::string detail;
};

const char* StatusName(CheckStatus status) {
  switch (status) {
    case CheckStatus::kOk: return "ok";
    case CheckStatus::kWarn: return "warn";
    case CheckStatus::kFail: return "fail";
  }
  return "fail";
}

// Collects the checks' results; a check that fails never stops the others.
class Checks {
 public:
  explicit Checks(std::vector<std::string> secrets) : secrets_(std::move(secrets)) {}
  void Add(std::string name, CheckStatus status, std::string detail) {
    lines_.push_back({std::move(name), status, Redact(std::move(detail), secrets_)});
  }
  bool ok() const {
    for (const CheckLine& line : lines_)
      if (line.status == CheckStatus::kFail) return false;
    return true;
  }
  void Print(bool json) const {
    if (json) {
      nlohmann::json checks = nlohmann::json::array();
      for (const CheckLine& line : lines_)
        checks.push_back({{"name", line.name}, {"status", StatusName(line.status)}, {"detail", line.detail}});
      nlohmann::json document = {{"ok", ok()}, {"checks", checks}};
      // A detail may quote bytes from outside (a file path, a server's message) that are not UTF-8.
      std::cout << document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
      return;
    }
    for (const CheckLine& line : lines_) {
      std::string status = StatusName(line.status);
      status.resize(5, ' ');
      std::string name = line.name;
      if (name.size() < 28) name.resize(28, ' ');
      std::cout << status << name << ' ' << line.detail << '\n';
    }
  }

 private:
  std::vector<std::string> secrets_;
  std::vector<CheckLine> lines_;
};

std::string JoinCounts(const Config& config, const std::vector<int64_t>& counts) {
  std::string text;
  for (size_t i = 0; i < counts.size(); ++i)
    text += (i ? " " : "") + config.labels[i].name + "=" + std::to_string(counts[i]);
  return text;
}

void CheckDatabase(const Config& config, Checks& checks) {
  std::unique_ptr<Database> database;
  try {
    database = OpenDatabase(config.database);
    checks.Add("database", CheckStatus::kOk, database->ServerVersion() + " at " + config.database.redacted);
  } catch (const Error& error) {
    checks.Add("database", CheckStatus::kFail, error.what());
    return;
  }
  std::vector<LabelColumns> columns;
  for (const LabelConfig& label : config.labels) columns.push_back(label.columns);
  try {
    std::vector<int64_t> counts = database->CountMisclassified(columns);
    for (size_t i = 0; i < config.labels.size(); ++i)
      if (!config.labels[i].misclassified_sql.empty())
        counts[i] = database->CountWithQuery(config.labels[i].misclassified_sql);
    checks.Add("count query", CheckStatus::kOk, "misclassified: " + JoinCounts(config, counts));
    std::vector<int64_t> pools = database->CountCorrectPool(columns);
    for (size_t i = 0; i < config.labels.size(); ++i)
      if (!config.labels[i].pool_sql.empty()) pools[i] = database->CountWithQuery(config.labels[i].pool_sql);
    checks.Add("pool query", CheckStatus::kOk, "correct rows available: " + JoinCounts(config, pools));
  } catch (const Error& error) {
    checks.Add("count query", CheckStatus::kFail, error.what());
    return;
  }
  if (database->HasComplaintIdIndex()) {
    checks.Add("index", CheckStatus::kOk, "misclassified_complaints.complaint_id is indexed");
  } else {
    checks.Add("index", CheckStatus::kWarn,
               "misclassified_complaints.complaint_id has no index, so counting the pool of correct rows scans it "
               "once per complaint. The orchestrator never changes your tables; to speed it up run: "
               "CREATE INDEX misclassified_complaints_complaint_id_idx ON misclassified_complaints (complaint_id);");
  }
}

void CheckToken(const Config& config, HfHub& hub, Checks& checks) {
  if (!UsesHuggingFace(config)) {
    checks.Add("token", CheckStatus::kOk,
               "not needed: no worker is a Space and no metadata is on " + config.hf_endpoint);
  } else if (config.hf_token.empty()) {
    checks.Add("token", CheckStatus::kFail, "HF_TOKEN is not set; set it in the environment or .env");
  } else {
    HfHub::Identity identity = hub.WhoAmI();
    checks.Add("token", identity.ok ? CheckStatus::kOk : CheckStatus::kFail,
               identity.ok ? "accepted by " + config.hf_endpoint + " (account " + identity.name + ")" : identity.error);
  }
}

// The hf-job: settings of the label named in `of` (" (department)"), or the global ones.
const HfJobSettings& LabelJobSettings(const Config& config, const std::string& of) {
  for (const LabelConfig& label : config.labels)
    if (of == " (" + label.name + ")") return label.hf_job;
  return config.hf_job;
}

// Each worker is checked without starting it: a Space by its runtime, a command by its program,
// a webhook or a Job not at all (any request to it would start a run).
void CheckWorkers(const Config& config, HfHub& hub, Checks& checks) {
  struct Worker {
    std::string role, of;  // "prepare", "" or "retrain", " (department)"
    Target target;
  };
  std::vector<Worker> workers;
  if (config.prepare_target.empty()) {
    checks.Add("prepare space", CheckStatus::kFail, "PREPARE_DATASET_REPO is not set");
  } else {
    workers.push_back({"prepare", "", ParseTarget(config.prepare_target)});
  }
  for (const LabelConfig& label : config.labels) {
    if (label.retrain_target.empty()) {
      checks.Add("retrain space (" + label.name + ")", CheckStatus::kFail,
                 "no retrain Space configured for " + label.name);
    } else {
      workers.push_back({"retrain", " (" + label.name + ")", ParseTarget(label.retrain_target)});
    }
  }
  std::vector<std::string> space_ids;
  for (const Worker& worker : workers)
    if (worker.target.kind == Target::Kind::kHfSpace) space_ids.push_back(worker.target.space_id);
  std::vector<SpaceAnswer> answers = space_ids.empty() ? std::vector<SpaceAnswer>{} : hub.SpaceRuntimes(space_ids);
  size_t next_answer = 0;
  for (const Worker& worker : workers) {
    const Target& target = worker.target;
    const std::string name = worker.role + (target.kind == Target::Kind::kHfSpace ? " space" : " worker") + worker.of;
    if (target.kind == Target::Kind::kHfSpace) {
      const SpaceAnswer& answer = answers[next_answer++];
      checks.Add(name, answer.status == 200 ? CheckStatus::kOk : CheckStatus::kFail,
                 answer.status == 200 ? target.space_id + " exists, stage " + answer.stage : answer.error);
    } else if (target.kind == Target::Kind::kHfJob) {
      const HfJobSettings& job = worker.role == "prepare" ? config.hf_job : LabelJobSettings(config, worker.of);
      checks.Add(name, CheckStatus::kOk,
                 "job of " + (target.image.empty() ? "the Space " + target.space_id : target.image) + " on " +
                     job.flavor + " in " + (job.job_namespace.empty() ? "the token's namespace" : job.job_namespace) +
                     " (not run: a request would start a job)");
    } else if (target.kind == Target::Kind::kCommand) {
      const std::optional<std::string> program = FindProgram(target.argv.front());
      checks.Add(name, program ? CheckStatus::kOk : CheckStatus::kFail,
                 program ? "command " + *program + " found (not started)"
                         : "command " + target.argv.front() + " not found: no such executable file, nor on PATH");
    } else {
      checks.Add(name, CheckStatus::kOk,
                 "webhook at " + UrlOrigin(target.url) + " (not called: a request would start a run)");
    }
  }
}

void CheckMetadata(const Config& config, HfHub& hub, Checks& checks) {
  std::vector<std::string> urls;
  std::vector<std::string> url_names;
  for (const LabelConfig& label : config.labels) {
    if (label.metadata_url.empty()) {
      checks.Add("metadata (" + label.name + ")", CheckStatus::kFail, "no metadata URL configured for " + label.name);
      continue;
    }
    urls.push_back(label.metadata_url);
    url_names.push_back("metadata (" + label.name + ")");
  }
  MetadataSources sources(hub);  // file:// paths too
  std::vector<MetadataRead> reads = sources.ReadMetadata(urls, std::nullopt);
  for (size_t i = 0; i < reads.size(); ++i) {
    const MetadataRead& read = reads[i];
    if (read.status == MetadataRead::Status::kOk) {
      checks.Add(
          url_names[i], CheckStatus::kOk,
          "version " + read.metadata->version_tag + ", " + std::to_string(read.metadata->num_samples) + " samples");
    } else if (read.status == MetadataRead::Status::kNotFound) {
      checks.Add(url_names[i], CheckStatus::kWarn, read.detail + " (fine before the first dataset is published)");
    } else {
      checks.Add(url_names[i], CheckStatus::kFail, read.detail);
    }
  }
}

void CheckHub(const Config& config, Checks& checks) {
  HttpClient http(config.http, config.hf_token, UrlOrigin(config.hf_endpoint));
  HfHub hub(http, config.hf_endpoint);
  CheckToken(config, hub, checks);
  CheckWorkers(config, hub, checks);
  CheckMetadata(config, hub, checks);
}

}  // namespace

int CheckCommand(const CommonOptions& common, bool json) {
  const ConfigSources sources = SourcesFrom(common);
  Config config = LoadConfigAndWarn(sources);
  Checks checks(Secrets(config, sources.environment));
  checks.Add("configuration", CheckStatus::kOk, std::to_string(config.labels.size()) + " labels");
  CheckDatabase(config, checks);
  CheckHub(config, checks);
  checks.Print(json);
  return checks.ok() ? kExitOk : kExitFailed;
}

}  // namespace orch
