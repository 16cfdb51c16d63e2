#include "support/fake_hub_jobs.h"

#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <limits>
#include <set>

#include "hub/http_client.h"
#include "util/time.h"

namespace orch::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using Json = nlohmann::json;

constexpr char kJson[] = "application/json";
constexpr auto kProcessPoll = milliseconds(20);  // how often a running process is looked at
constexpr auto kStreamWait = milliseconds(100);  // how long a log stream waits for news at a time
constexpr size_t kMaxLabelBytes = 63;

void SetError(httplib::Response& response, int status, const std::string& message) {
  response.status = status;
  response.set_header("X-Error-Message", message);
  response.set_content(Json{{"error", message}}.dump(), kJson);
}

bool IsLabelText(const std::string& text, bool may_be_empty) {
  if (text.size() > kMaxLabelBytes || (text.empty() && !may_be_empty)) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
}

// A JSON object of strings as a map; nothing for anything else.
std::optional<std::map<std::string, std::string>> StringMap(const Json& body, const char* key) {
  std::map<std::string, std::string> values;
  const auto found = body.find(key);
  if (found == body.end() || found->is_null()) return values;
  if (!found->is_object()) return std::nullopt;
  for (const auto& [name, value] : found->items()) {
    if (!value.is_string()) return std::nullopt;
    values[name] = value.get<std::string>();
  }
  return values;
}

std::optional<std::vector<std::string>> StringList(const Json& body, const char* key) {
  std::vector<std::string> values;
  const auto found = body.find(key);
  if (found == body.end() || found->is_null()) return values;
  if (!found->is_array()) return std::nullopt;
  for (const Json& value : *found) {
    if (!value.is_string()) return std::nullopt;
    values.push_back(value.get<std::string>());
  }
  return values;
}

std::vector<std::string> LinesOf(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string Event(const std::string& line) {
  return "data: " + Json{{"data", line}, {"timestamp", FormatTimestamp(std::chrono::system_clock::now())}}.dump() +
         "\n\n";
}

bool Ended(const std::string& stage) { return stage != "SCHEDULING" && stage != "RUNNING" && stage != "UPDATING"; }

// The parts of /api/jobs/...: the namespace, then the job's id and an action, when there are.
std::vector<std::string> PathParts(const std::string& path) {
  std::vector<std::string> parts;
  constexpr std::string_view kPrefix = "/api/jobs/";
  std::string_view rest = std::string_view(path).substr(kPrefix.size());
  while (!rest.empty()) {
    const size_t slash = rest.find('/');
    parts.emplace_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return parts;
}

}  // namespace

FakeHubJobs::FakeHubJobs(std::function<void()> changed, std::string scheme)
    : changed_callback_(std::move(changed)), scheme_(std::move(scheme)), thread_([this] { Advance(); }) {}

FakeHubJobs::~FakeHubJobs() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wake_.notify_all();
  }
  thread_.join();
  for (const std::unique_ptr<Entry>& entry : entries_) {
    if (!entry->process || entry->process->Poll()) continue;
    ::kill(-entry->process->pid(), SIGKILL);  // its own session: the whole group
    entry->process->Wait();
  }
}

nlohmann::json FakeHubJobs::JobJson(const Job& job) {
  Json secrets = Json::array();
  for (const auto& [name, value] : job.secrets) secrets.push_back(name);
  Json json = {{"id", job.id},
               {"createdAt", job.created_at},
               {"command", job.command},
               {"arguments", job.arguments},
               {"environment", job.environment},
               {"secrets", secrets},
               {"flavor", job.flavor},
               {"labels", job.labels},
               {"status", {{"stage", job.stage}, {"message", job.message.empty() ? Json(nullptr) : Json(job.message)}}},
               {"owner", {{"id", "5e9ecfc04957053f60648a3e"}, {"name", job.job_namespace}, {"type", "user"}}},
               {"initiator", {{"type", "user"}, {"id", "5e9ecfc04957053f60648a3e"}, {"name", kUser}}}};
  if (job.space_id.empty()) {
    json["dockerImage"] = job.docker_image;
  } else {
    json["spaceId"] = job.space_id;
  }
  if (job.timeout_seconds > 0) json["timeoutSeconds"] = job.timeout_seconds;
  return json;
}

// Called by FakeHub with its lock held: FakeHub notifies its waiters itself once the request is handled.
bool FakeHubJobs::Route(const httplib::Request& request, httplib::Response& response) {
  if (!request.path.starts_with("/api/jobs/")) return false;
  const std::vector<std::string> parts = PathParts(request.path);
  if (parts.empty() || parts.size() > 3) return false;
  const bool read = request.method == "GET" || request.method == "HEAD";
  {
    std::lock_guard lock(mutex_);
    if (std::find(namespaces_.begin(), namespaces_.end(), parts[0]) == namespaces_.end()) {
      SetError(response, 403, "You don't have access to the jobs of " + parts[0]);
      return true;
    }
  }
  if (parts.size() == 1 && request.method == "POST") {
    RunJob(parts[0], request, response);
  } else if (parts.size() == 1 && read) {
    ListJobs(parts[0], request, response);
  } else if (parts.size() == 3 && parts[2] == "logs" && read) {
    std::lock_guard lock(mutex_);
    if (!FindEntry(parts[0], parts[1])) return SetError(response, 404, "Job not found"), true;
    StreamLog(parts[1], request, response);
  } else if (parts.size() == 3 && parts[2] == "cancel" && request.method == "POST") {
    std::unique_lock lock(mutex_);
    Entry* entry = FindEntry(parts[0], parts[1]);
    if (!entry) return SetError(response, 404, "Job not found"), true;
    if (!Ended(entry->job.stage)) End(*entry, "CANCELED", "Job canceled");
    response.set_content("{}", kJson);
  } else if (parts.size() == 2 && read) {
    std::lock_guard lock(mutex_);
    Entry* entry = FindEntry(parts[0], parts[1]);
    if (!entry) return SetError(response, 404, "Job not found"), true;
    response.set_content(JobJson(entry->job).dump(), kJson);
  } else {
    return false;
  }
  return true;
}

void FakeHubJobs::RunJob(const std::string& job_namespace, const httplib::Request& request,
                         httplib::Response& response) {
  const Json body = Json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return SetError(response, 400, "The body is not a JSON object");
  Job job;
  job.job_namespace = job_namespace;
  const bool image = body.contains("dockerImage") && body["dockerImage"].is_string();
  const bool space = body.contains("spaceId") && body["spaceId"].is_string();
  if (image == space) return SetError(response, 400, "Exactly one of dockerImage and spaceId is required");
  if (image) job.docker_image = body["dockerImage"].get<std::string>();
  if (space) job.space_id = body["spaceId"].get<std::string>();
  if ((image && job.docker_image.empty()) || (space && job.space_id.empty()))
    return SetError(response, 400, "The image is empty");
  const auto command = StringList(body, "command");
  const auto arguments = StringList(body, "arguments");
  if (!command || command->empty()) return SetError(response, 400, "command must be a non-empty array of strings");
  if (!arguments) return SetError(response, 400, "arguments must be an array of strings");
  job.command = *command;
  job.arguments = *arguments;
  const auto environment = StringMap(body, "environment");
  const auto secrets = StringMap(body, "secrets");
  const auto labels = StringMap(body, "labels");
  if (!environment || !secrets || !labels)
    return SetError(response, 400, "environment, secrets and labels must be objects of strings");
  job.environment = *environment;
  job.secrets = *secrets;
  job.labels = *labels;
  for (const auto& [key, value] : job.labels)
    if (!IsLabelText(key, false) || !IsLabelText(value, true))
      return SetError(response, 400, "Invalid label " + key + "=" + value);
  const std::string flavor = body.value("flavor", "");
  if (std::none_of(std::begin(kFlavors), std::end(kFlavors), [&](const char* known) { return flavor == known; }))
    return SetError(response, 400, "Unknown flavor '" + flavor + "'");
  job.flavor = flavor;
  if (const auto timeout = body.find("timeoutSeconds"); timeout != body.end()) {
    if (!timeout->is_number_integer() || timeout->get<long long>() <= 0)
      return SetError(response, 400, "timeoutSeconds must be a positive integer");
    job.timeout_seconds = timeout->get<long long>();
  }
  job.created_at = FormatTimestamp(std::chrono::system_clock::now());
  {
    std::lock_guard lock(mutex_);
    char id[25];
    std::snprintf(id, sizeof id, "68a1f0c2%016llx", static_cast<unsigned long long>(++sequence_));
    job.id = id;
    auto entry = std::make_unique<Entry>();
    const std::string& key = job.space_id.empty() ? job.docker_image : job.space_id;
    const auto behavior = behaviors_.find(key);
    entry->behavior = behavior == behaviors_.end() ? default_behavior_ : behavior->second;
    entry->created = steady_clock::now();
    entry->job = std::move(job);
    response.set_content(JobJson(entry->job).dump(), kJson);
    entries_.push_back(std::move(entry));
    ++generation_;
    wake_.notify_all();
  }
}

void FakeHubJobs::ListJobs(const std::string& job_namespace, const httplib::Request& request,
                           httplib::Response& response) {
  std::vector<std::string> stages;
  std::vector<std::pair<std::string, std::string>> labels;
  size_t cursor = 0;
  for (const auto& [name, value] : request.params) {
    if (name == "stage") stages.push_back(value);
    if (name == "label") {
      const size_t equals = value.find('=');
      labels.emplace_back(value.substr(0, equals), equals == std::string::npos ? "" : value.substr(equals + 1));
    }
    if (name == "cursor") cursor = static_cast<size_t>(std::stoull(value));
  }
  // The next page's link repeats the filters, each value encoded (httplib's request holds them decoded).
  std::string next = scheme_ + "://" + request.get_header_value("Host") + "/api/jobs/" + job_namespace;
  for (const auto& [name, value] : request.params)
    if (name != "cursor") next = WithQueryParameter(next, name, value);
  std::lock_guard lock(mutex_);
  Json page = Json::array();
  size_t at = cursor;
  for (; at < entries_.size() && page.size() < page_size_; ++at) {
    const Job& job = entries_[at]->job;
    if (job.job_namespace != job_namespace) continue;
    if (!stages.empty() && std::find(stages.begin(), stages.end(), job.stage) == stages.end()) continue;
    const bool labelled = std::all_of(labels.begin(), labels.end(), [&](const auto& label) {
      const auto found = job.labels.find(label.first);
      return found != job.labels.end() && (label.second.empty() || found->second == label.second);
    });
    if (labelled) page.push_back(JobJson(job));
  }
  if (at < entries_.size())
    response.set_header("Link", "<" + WithQueryParameter(next, "cursor", std::to_string(at)) + ">; rel=\"next\"");
  response.set_content(page.dump(), kJson);
}

void FakeHubJobs::StreamLog(const std::string& id, const httplib::Request& request, httplib::Response& response) {
  size_t tail = std::numeric_limits<size_t>::max();
  if (request.has_param("tail")) tail = static_cast<size_t>(std::stoull(request.get_param_value("tail")));
  // The events sent so far, shared with the provider that httplib calls until it is done.
  auto sent = std::make_shared<size_t>(0);
  auto first = std::make_shared<bool>(true);
  response.set_chunked_content_provider(
      "text/event-stream", [this, id, tail, sent, first](size_t, httplib::DataSink& sink) {
        std::unique_lock lock(mutex_);
        const auto find = [&]() -> Entry* {
          for (const std::unique_ptr<Entry>& entry : entries_)
            if (entry->job.id == id) return entry.get();
          return nullptr;
        };
        const uint64_t seen = generation_;
        Entry* entry = find();
        if (entry == nullptr || stopping_) return false;
        std::vector<std::string> events = {"===== Job started at " + entry->job.created_at + " ====="};
        events.insert(events.end(), entry->job.log.begin(), entry->job.log.end());
        if (*first) {  // `tail` counts from what there is when the stream opens
          *first = false;
          if (events.size() > tail) *sent = events.size() - tail;
        }
        std::string out;
        for (; *sent < events.size(); ++*sent) out += Event(events[*sent]);
        const bool ended = Ended(entry->job.stage);
        if (out.empty() && !ended) {
          wake_.wait_for(lock, kStreamWait, [&] { return generation_ != seen || stopping_; });
          return !stopping_;
        }
        lock.unlock();
        if (!out.empty() && !sink.write(out.data(), out.size())) return false;
        if (ended) sink.done();
        return true;
      });
}

FakeHubJobs::Entry* FakeHubJobs::FindEntry(const std::string& job_namespace, const std::string& id) {
  for (const std::unique_ptr<Entry>& entry : entries_)
    if (entry->job.id == id && entry->job.job_namespace == job_namespace) return entry.get();
  return nullptr;
}

void FakeHubJobs::End(Entry& entry, const std::string& stage, const std::string& message) {
  entry.job.stage = stage;
  entry.job.message = message;
  if (entry.process && !entry.process->Poll()) {
    ::kill(-entry.process->pid(), SIGKILL);
    entry.process->Wait();
  }
  ++generation_;
  wake_.notify_all();
}

void FakeHubJobs::SetBehavior(const std::string& image, Behavior behavior) {
  std::lock_guard lock(mutex_);
  behaviors_[image] = std::move(behavior);
}

void FakeHubJobs::SetDefaultBehavior(Behavior behavior) {
  std::lock_guard lock(mutex_);
  default_behavior_ = std::move(behavior);
}

void FakeHubJobs::AddNamespace(const std::string& job_namespace) {
  std::lock_guard lock(mutex_);
  namespaces_.push_back(job_namespace);
}

void FakeHubJobs::SetListPageSize(size_t jobs) {
  std::lock_guard lock(mutex_);
  page_size_ = std::max<size_t>(jobs, 1);
}

bool FakeHubJobs::Finish(const std::string& id, const std::string& stage, const std::string& message) {
  {
    std::lock_guard lock(mutex_);
    Entry* entry = nullptr;
    for (const std::unique_ptr<Entry>& candidate : entries_)
      if (candidate->job.id == id) entry = candidate.get();
    if (entry == nullptr || Ended(entry->job.stage)) return false;
    End(*entry, stage, message);
  }
  Notify();
  return true;
}

bool FakeHubJobs::Cancel(const std::string& id) { return Finish(id, "CANCELED", "Job canceled"); }

std::vector<FakeHubJobs::Job> FakeHubJobs::Jobs() const {
  std::lock_guard lock(mutex_);
  std::vector<Job> jobs;
  for (const std::unique_ptr<Entry>& entry : entries_) jobs.push_back(entry->job);
  return jobs;
}

std::optional<FakeHubJobs::Job> FakeHubJobs::Find(const std::string& id) const {
  std::lock_guard lock(mutex_);
  for (const std::unique_ptr<Entry>& entry : entries_)
    if (entry->job.id == id) return entry->job;
  return std::nullopt;
}

std::vector<FakeHubJobs::Job> FakeHubJobs::WithLabel(const std::string& key, const std::string& value) const {
  std::vector<Job> jobs;
  for (Job& job : Jobs()) {
    const auto found = job.labels.find(key);
    if (found != job.labels.end() && found->second == value) jobs.push_back(std::move(job));
  }
  return jobs;
}

std::string FakeHubJobs::Stage(const std::string& id) const {
  const std::optional<Job> job = Find(id);
  return job ? job->stage : "";
}

void FakeHubJobs::Notify() {
  if (changed_callback_) changed_callback_();
}

void FakeHubJobs::Advance() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto now = steady_clock::now();
    std::optional<steady_clock::time_point> next;
    const auto due = [&](steady_clock::time_point at) {
      if (!next || at < *next) next = at;
    };
    std::vector<std::pair<std::function<void(const Job&)>, Job>> started;
    bool changed = false;
    for (const std::unique_ptr<Entry>& owned : entries_) {
      Entry& entry = *owned;
      Job& job = entry.job;
      const Behavior& behavior = entry.behavior;
      if (job.stage == "SCHEDULING" && behavior.kind != Behavior::Kind::kStayScheduling) {
        if (now < entry.created + behavior.scheduling) {
          due(entry.created + behavior.scheduling);
          continue;
        }
        job.stage = "RUNNING";
        entry.started = now;
        changed = true;
        if (behavior.kind == Behavior::Kind::kExecute) {
          std::vector<std::string> argv = job.command;
          argv.front() = behavior.program;
          argv.insert(argv.end(), job.arguments.begin(), job.arguments.end());
          std::vector<std::string> environment = {"PATH=/usr/bin:/bin", "HOME=" + logs_.path().string()};
          for (const auto& [name, value] : job.environment) environment.push_back(name + "=" + value);
          for (const auto& [name, value] : job.secrets) environment.push_back(name + "=" + value);
          entry.log_path = logs_.File(job.id + ".log");
          try {
            entry.process = std::make_unique<ChildProcess>(argv, environment, entry.log_path);
          } catch (const std::exception& error) {
            job.stage = "ERROR";
            job.message = std::string("the container could not start: ") + error.what();
            continue;
          }
        } else {
          job.log.insert(job.log.end(), behavior.log.begin(), behavior.log.end());
        }
        if (behavior.on_running) started.emplace_back(behavior.on_running, job);
      }
      if (job.stage != "RUNNING") continue;
      if (job.timeout_seconds > 0) {
        const auto deadline = entry.started + std::chrono::seconds(job.timeout_seconds);
        if (now >= deadline) {
          End(entry, "ERROR", "Job timeout");
          changed = true;
          continue;
        }
        due(deadline);
      }
      if (behavior.kind == Behavior::Kind::kRun) {
        if (now >= entry.started + behavior.running) {
          job.stage = behavior.end_stage;
          job.message = behavior.end_message;
          changed = true;
        } else {
          due(entry.started + behavior.running);
        }
      } else if (behavior.kind == Behavior::Kind::kExecute && entry.process) {
        const std::optional<int> status = entry.process->Poll();
        std::ifstream log(entry.log_path);
        const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
        std::vector<std::string> lines = LinesOf(text);
        if (lines != job.log) {
          job.log = std::move(lines);
          changed = true;
        }
        if (status) {
          job.exit_status = *status;
          job.stage = *status == 0 ? "COMPLETED" : "ERROR";
          job.message = *status == 0 ? "" : "Job failed with exit code: " + std::to_string(*status);
          changed = true;
        } else {
          due(now + kProcessPoll);
        }
      }
    }
    if (changed) {
      ++generation_;
      wake_.notify_all();
    }
    if (changed || !started.empty()) {
      lock.unlock();
      for (const auto& [callback, job] : started) callback(job);
      Notify();
      lock.lock();
      continue;  // look again: a callback may have changed something
    }
    const uint64_t seen = generation_;
    const auto woken = [&] { return stopping_ || generation_ != seen; };
    if (next) {
      wake_.wait_until(lock, *next, woken);
    } else {
      wake_.wait(lock, woken);
    }
  }
}

}  // namespace orch::testing
