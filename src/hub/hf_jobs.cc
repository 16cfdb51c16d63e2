#include "hub/hf_jobs.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "config/url_policy.h"
#include "hub/hf_hub.h"
#include "util/redact.h"
#include "util/strings.h"

namespace orch {
namespace {

using Json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

bool IsStageName(std::string_view text) {
  if (text.empty() || text.size() > kMaxStageBytes) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; });
}

std::string StringOf(const Json& object, const char* key) {
  if (!object.is_object()) return "";
  const auto found = object.find(key);
  return found != object.end() && found->is_string() ? found->get<std::string>() : "";
}

// A job of a parsed answer, with every value checked; nothing without a usable id.
std::optional<JobInfo> JobOf(const Json& document) {
  if (!document.is_object()) return std::nullopt;
  JobInfo job;
  job.id = StringOf(document, "id");
  if (!IsJobName(job.id)) return std::nullopt;
  if (const auto owner = document.find("owner"); owner != document.end()) {
    const std::string name = StringOf(*owner, "name");
    if (IsJobName(name)) job.owner = name;
  }
  if (const auto status = document.find("status"); status != document.end()) {
    const std::string stage = StringOf(*status, "stage");
    if (IsStageName(stage)) job.stage = stage;
    job.message = Excerpt(StringOf(*status, "message"), kMaxJobMessageBytes);
  }
  if (const auto labels = document.find("labels"); labels != document.end() && labels->is_object())
    for (const auto& [key, value] : labels->items())
      if (value.is_string() && key.size() <= kMaxJobLabelBytes &&
          value.get_ref<const std::string&>().size() <= kMaxJobLabelBytes)
        job.labels[key] = value.get<std::string>();
  return job;
}

std::string ListUrl(const std::string& base, const JobListQuery& query) {
  std::string url = base;
  for (const std::string& stage : query.stages) url = WithQueryParameter(url, "stage", stage);
  for (const auto& [key, value] : query.labels) url = WithQueryParameter(url, "label", key + "=" + value);
  return url;
}

// What is left of `deadline`, for a Perform; nothing when there is no deadline.
TimeBudget Remaining(const std::optional<SteadyClock::time_point>& deadline) {
  if (!deadline) return std::nullopt;
  return std::max(std::chrono::milliseconds(1),
                  std::chrono::ceil<std::chrono::milliseconds>(*deadline - SteadyClock::now()));
}

}  // namespace

bool IsJobName(std::string_view id) {
  if (id.empty() || id.size() > kMaxJobIdBytes || id == "." || id == "..") return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
}

std::string JobPageUrl(std::string_view endpoint, std::string_view run_id) {
  const size_t slash = run_id.find('/');
  if (slash == std::string_view::npos || !IsJobName(run_id.substr(0, slash)) || !IsJobName(run_id.substr(slash + 1)))
    return "";
  return std::string(endpoint) + "/jobs/" + std::string(run_id);
}

std::string JobSpecJson(const JobSpec& spec) {
  Json body = Json::object();
  if (spec.space_id.empty()) {
    body["dockerImage"] = spec.docker_image;
  } else {
    body["spaceId"] = spec.space_id;
  }
  body["command"] = spec.command;
  body["arguments"] = Json::array();
  body["environment"] = spec.environment;
  if (!spec.secrets.empty()) body["secrets"] = spec.secrets;
  body["flavor"] = spec.flavor;
  if (spec.timeout_seconds > 0) body["timeoutSeconds"] = spec.timeout_seconds;
  if (!spec.labels.empty()) body["labels"] = spec.labels;
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<JobInfo> JobInfoOf(std::string_view body) {
  return JobOf(Json::parse(body, nullptr, /*allow_exceptions=*/false));
}

std::optional<std::vector<JobInfo>> JobListOf(std::string_view body) {
  const Json document = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!document.is_array()) return std::nullopt;
  std::vector<JobInfo> jobs;
  for (const Json& item : document)
    if (std::optional<JobInfo> job = JobOf(item)) jobs.push_back(std::move(*job));
  return jobs;
}

std::string NextPageOf(std::string_view link_header) {
  // `<url>; rel="next", <url>; rel="prev"`: links separated by commas outside the angle brackets.
  size_t at = 0;
  while (at < link_header.size()) {
    const size_t open = link_header.find('<', at);
    if (open == std::string_view::npos) return "";
    const size_t close = link_header.find('>', open);
    if (close == std::string_view::npos) return "";
    const size_t end = std::min(link_header.find(',', close), link_header.size());
    const std::string params = ToLower(link_header.substr(close + 1, end - close - 1));
    if (params.find("rel=\"next\"") != std::string::npos || params.find("rel=next") != std::string::npos)
      return std::string(link_header.substr(open + 1, close - open - 1));
    at = end + 1;
  }
  return "";
}

std::vector<std::string> JobLogLinesOf(std::string_view body, size_t max_lines) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    start = end + 1;
    if (!line.starts_with("data: {")) continue;  // comments (keep-alives), other fields
    const Json event = Json::parse(line.substr(6), nullptr, /*allow_exceptions=*/false);
    const std::string text = StringOf(event, "data");
    if (text.starts_with("===== Job started")) continue;
    lines.push_back(Excerpt(text, kMaxJobLogLineBytes));
    if (lines.size() > max_lines) lines.erase(lines.begin());
  }
  return lines;
}

HfJobs::HfJobs(HttpClient& http, std::string endpoint) : http_(http), endpoint_(std::move(endpoint)) {}

std::string HfJobs::JobsUrl(const std::string& job_namespace) const { return endpoint_ + "/api/jobs/" + job_namespace; }

std::vector<JobAnswer> HfJobs::Run(std::span<const std::pair<std::string, JobSpec>> jobs) {
  std::vector<HttpRequest> requests(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    requests[i].method = "POST";
    requests[i].url = JobsUrl(jobs[i].first);
    requests[i].body = JobSpecJson(jobs[i].second);
    requests[i].content_type = "application/json";
  }
  std::vector<HttpResponse> responses = http_.Perform(requests);
  std::vector<JobAnswer> answers(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    JobAnswer& answer = answers[i];
    answer.status = responses[i].status;
    answer.may_have_arrived = responses[i].may_have_arrived;
    if (responses[i].status != 200) {
      answer.error = DescribeHttpFailure(responses[i], "running a job in " + jobs[i].first);
      continue;
    }
    answer.job = JobInfoOf(responses[i].body);
    if (!answer.job) {
      // The Hub took the job, and its answer does not say which: as good as lost.
      answer.status = 0;
      answer.may_have_arrived = true;
      answer.error = "running a job in " + jobs[i].first + ": the answer names no job (" +
                     Excerpt(responses[i].body, kMaxServerErrorBytes) + ")";
    }
  }
  return answers;
}

std::vector<JobAnswer> HfJobs::Inspect(std::span<const JobRef> jobs, TimeBudget budget) {
  std::vector<HttpRequest> requests(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) requests[i].url = JobsUrl(jobs[i].job_namespace) + "/" + jobs[i].id;
  std::vector<HttpResponse> responses = http_.Perform(requests, budget);
  std::vector<JobAnswer> answers(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    JobAnswer& answer = answers[i];
    answer.status = responses[i].status;
    const std::string what = "job " + jobs[i].job_namespace + "/" + jobs[i].id;
    if (responses[i].status != 200) {
      answer.error = DescribeHttpFailure(responses[i], what);
      continue;
    }
    answer.job = JobInfoOf(responses[i].body);
    if (!answer.job) {
      answer.status = 0;
      answer.error = what + ": the answer is no job (" + Excerpt(responses[i].body, kMaxServerErrorBytes) + ")";
    }
  }
  return answers;
}

std::vector<JobListAnswer> HfJobs::List(std::span<const JobListQuery> queries, TimeBudget budget) {
  std::optional<SteadyClock::time_point> deadline;
  if (budget) deadline = SteadyClock::now() + *budget;
  std::vector<JobListAnswer> answers(queries.size());
  std::vector<std::string> next(queries.size());
  std::vector<size_t> pages(queries.size(), 0);
  for (size_t i = 0; i < queries.size(); ++i) next[i] = ListUrl(JobsUrl(queries[i].job_namespace), queries[i]);
  const std::string origin = UrlOrigin(endpoint_);
  while (true) {
    std::vector<size_t> asking;
    std::vector<HttpRequest> requests;
    for (size_t i = 0; i < queries.size(); ++i) {
      if (next[i].empty()) continue;
      asking.push_back(i);
      HttpRequest request;
      request.url = next[i];
      request.max_body_bytes = kMaxJobListPageBytes;
      requests.push_back(std::move(request));
    }
    if (requests.empty()) break;
    std::vector<HttpResponse> responses = http_.Perform(requests, Remaining(deadline));
    for (size_t k = 0; k < asking.size(); ++k) {
      const size_t i = asking[k];
      JobListAnswer& answer = answers[i];
      const HttpResponse& response = responses[k];
      const std::string what = "the jobs of " + queries[i].job_namespace;
      next[i].clear();
      answer.status = response.status;
      if (response.status != 200) {
        answer.ok = false;
        answer.error = DescribeHttpFailure(response, what);
        continue;
      }
      std::optional<std::vector<JobInfo>> jobs = JobListOf(response.body);
      if (!jobs) {
        answer.ok = false;
        answer.error = what + ": the answer is no list of jobs (" + Excerpt(response.body, kMaxServerErrorBytes) + ")";
        continue;
      }
      answer.ok = true;
      for (JobInfo& job : *jobs) answer.jobs.push_back(std::move(job));
      const std::string link = NextPageOf(response.Header("link"));
      if (link.empty()) continue;
      // A next page elsewhere would be read without the token, or lead the client anywhere.
      if (UrlOrigin(link) != origin || ++pages[i] >= kMaxJobListPages) {
        answer.ok = false;
        answer.error = what + ": the listing " +
                       (pages[i] >= kMaxJobListPages ? "has more than " + std::to_string(kMaxJobListPages) + " pages"
                                                     : "continues on another origin, " + Excerpt(link, 200));
        continue;
      }
      next[i] = link;
    }
  }
  return answers;
}

std::vector<JobLogAnswer> HfJobs::LogTails(std::span<const JobRef> jobs, int lines, TimeBudget budget) {
  std::vector<HttpRequest> requests(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    requests[i].url = JobsUrl(jobs[i].job_namespace) + "/" + jobs[i].id + "/logs?tail=" + std::to_string(lines);
    requests[i].headers.push_back("Accept: text/event-stream");
    requests[i].max_body_bytes = kMaxJobLogBytes;
  }
  std::vector<HttpResponse> responses = http_.Perform(requests, budget);
  std::vector<JobLogAnswer> answers(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    if (responses[i].status != 200) {
      answers[i].error =
          DescribeHttpFailure(responses[i], "the log of job " + jobs[i].job_namespace + "/" + jobs[i].id);
      continue;
    }
    answers[i].ok = true;
    answers[i].lines = JobLogLinesOf(responses[i].body, static_cast<size_t>(std::max(lines, 0)));
  }
  return answers;
}

}  // namespace orch
