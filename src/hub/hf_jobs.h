// Hugging Face Jobs, as hf-job: workers use them: run a job (POST /api/jobs/{namespace}), read one
// job (GET /api/jobs/{namespace}/{id}), list jobs filtered by stage and labels (GET
// /api/jobs/{namespace}?stage=...&label=key=value, page after page by the Link header), and read the
// tail of a job's log (its server-sent events, GET /api/jobs/{namespace}/{id}/logs?tail=N).
//
// Every call of one kind goes out at once, over the HttpClient's bounded connections, and the reads
// within a time budget. The answers come from whatever server answered: every value kept from them
// is checked and bounded (ids and stages by their alphabet, messages and log lines as Excerpts), so
// nothing a server says can garble a message or a log line.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hub/http_client.h"

namespace orch {

inline constexpr size_t kMaxJobIdBytes = 128;            // a job's id or its owner's name
inline constexpr size_t kMaxJobMessageBytes = 300;       // a job's status message
inline constexpr size_t kMaxJobLogLineBytes = 1000;      // one line of a job's log, as kept
inline constexpr size_t kMaxJobLabelBytes = 128;         // a label's key or value, as kept
inline constexpr size_t kMaxJobListPages = 200;          // pages of one listing followed at most
inline constexpr size_t kMaxJobLogBytes = 512 << 10;     // a log tail's answer, at most
inline constexpr size_t kMaxJobListPageBytes = 8 << 20;  // one page of a listing, at most

// What a job runs, as the Run call's body says it.
struct JobSpec {
  std::string docker_image;          // or
  std::string space_id;              // the Space whose image runs ("owner/name")
  std::vector<std::string> command;  // the command and its arguments
  std::map<std::string, std::string> environment;
  std::map<std::string, std::string> secrets;  // kept encrypted by the Hub; never answered back
  std::string flavor;
  long long timeout_seconds = 0;  // 0: the Hub's default
  std::map<std::string, std::string> labels;
};

// The JSON body of a Run call.
std::string JobSpecJson(const JobSpec& spec);

// A job as the Hub describes it, what of it is kept.
struct JobInfo {
  std::string id;
  std::string owner;    // the namespace it runs in (owner.name)
  std::string stage;    // SCHEDULING, RUNNING, COMPLETED, ERROR, CANCELED, DELETED, ...; "" when unreadable
  std::string message;  // its status message, e.g. "Job timeout" (an Excerpt)
  std::map<std::string, std::string> labels;
};

// What the Hub's answers hold, read from any bytes, never throwing: a job (nothing when the body is
// not a JSON object with a usable "id"), a listing (nothing when the body is not a JSON array; its
// jobs without a usable id are left out), the URL of a Link header's rel="next" ("" when none), and
// the log lines of a logs answer's events (`data: {"data": "..."}` lines; the "===== Job started"
// line the Hub sends first is left out), the last `max_lines` of them.
std::optional<JobInfo> JobInfoOf(std::string_view body);
std::optional<std::vector<JobInfo>> JobListOf(std::string_view body);
std::string NextPageOf(std::string_view link_header);
std::vector<std::string> JobLogLinesOf(std::string_view body, size_t max_lines);

// Whether `id` can be a job's id or a namespace: 1 to kMaxJobIdBytes of letters, digits, '-', '_'
// and '.', not "." or "..".
bool IsJobName(std::string_view id);

// "{endpoint}/jobs/{namespace}/{id}" for a run id "namespace/id", "" for anything else.
std::string JobPageUrl(std::string_view endpoint, std::string_view run_id);

struct JobRef {
  std::string job_namespace;
  std::string id;
};

struct JobListQuery {
  std::string job_namespace;
  std::vector<std::string> stages;                          // any of them (none: every stage)
  std::vector<std::pair<std::string, std::string>> labels;  // all of them
};

struct JobAnswer {
  int status = 0;  // HTTP status; 0 when no answer came
  std::optional<JobInfo> job;
  std::string error;              // why there is no job, on one line (no secret)
  bool may_have_arrived = false;  // see HttpResponse::may_have_arrived
};

struct JobListAnswer {
  bool ok = false;
  int status = 0;
  std::vector<JobInfo> jobs;
  std::string error;
};

struct JobLogAnswer {
  bool ok = false;
  std::vector<std::string> lines;
  std::string error;
};

class HfJobs {
 public:
  // `endpoint` is HF_ENDPOINT without a trailing slash.
  HfJobs(HttpClient& http, std::string endpoint);

  // Runs each job in its namespace, concurrently. A Run call is never sent twice: one whose answer
  // was lost says so (may_have_arrived), for the caller to look for the job by its labels.
  std::vector<JobAnswer> Run(std::span<const std::pair<std::string, JobSpec>> jobs);
  // Reads each job, concurrently, within `budget`.
  std::vector<JobAnswer> Inspect(std::span<const JobRef> jobs, TimeBudget budget);
  // Lists the jobs each query asks for, concurrently, following each listing's pages (at most
  // kMaxJobListPages, and only on the endpoint's own origin), all within `budget`.
  std::vector<JobListAnswer> List(std::span<const JobListQuery> queries, TimeBudget budget);
  // The last `lines` lines of each job's log, concurrently, within `budget`.
  std::vector<JobLogAnswer> LogTails(std::span<const JobRef> jobs, int lines, TimeBudget budget);

  const std::string& endpoint() const { return endpoint_; }

 private:
  std::string JobsUrl(const std::string& job_namespace) const;

  HttpClient& http_;
  std::string endpoint_;
};

}  // namespace orch
