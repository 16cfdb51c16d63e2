// Hugging Face Jobs over real HTTP, for FakeHub: run, inspect, list (stage and label filters, pages
// linked by a `Link: <...>; rel="next"` header), cancel, and the logs as server-sent events, as the
// Hub's API answers them (the shapes of huggingface_hub's JobInfo and list_jobs).
//
// FakeHub owns one and hands it the requests its auth and fault injection let through (so every
// fault of FakeHub::Fault, the lost answers among them, applies to the Jobs calls too). A job moves
// SCHEDULING -> RUNNING -> COMPLETED or ERROR on a thread of its own, as its image's Behavior says:
// after set delays, when the test says (Finish, Cancel), never (a job that never leaves SCHEDULING),
// or as a real process run here: the job's command, its first word replaced by the local program
// that stands for the image, with the job's environment and secrets as its whole environment (PATH
// aside); its exit status ends the job and its output is the job's log. A job that outlives its
// timeoutSeconds ends in ERROR with "Job timeout", as on the Hub.
//
// Rules chosen where the Hub's are not visible from its clients:
//  - the namespaces a token may run jobs in are its user's ("tester") and those AddNamespace adds;
//    another one is refused with 403;
//  - a run is refused with 400 when it has not exactly one of dockerImage and spaceId, no command,
//    a flavor not in kFlavors, a timeoutSeconds that is not a positive whole number, an environment,
//    secrets or labels that are not objects of strings, or a label whose key or value is not 1 to 63
//    (a value 0 to 63) letters, digits, '-', '_' or '.';
//  - secrets are answered back as their names only, never their values;
//  - a listing is in the order the jobs were created, kDefaultPageSize jobs a page (SetListPageSize);
//    its next page is `cursor=N` on the same query; repeated `stage=` are alternatives, repeated
//    `label=key=value` must all hold;
//  - the log of a job begins with "===== Job started at ... =====", as the Hub's does; `tail=N` keeps
//    the last N events; the stream ends when the job has ended and everything is sent.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.h"
#include "util/child_process.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace orch::testing {

class FakeHubJobs {
 public:
  static constexpr size_t kDefaultPageSize = 20;
  static constexpr const char* kUser = "tester";  // the token's user, as FakeHub's whoami-v2 names it
  static constexpr const char* kFlavors[] = {"cpu-basic", "cpu-upgrade", "cpu-performance", "cpu-xl",     "t4-small",
                                             "t4-medium", "l4x1",        "a10g-small",      "a10g-large", "a100-large",
                                             "h200"};

  // A job as the fake holds it.
  struct Job {
    std::string id, job_namespace, docker_image, space_id, flavor;
    std::vector<std::string> command, arguments;
    std::map<std::string, std::string> environment, secrets, labels;
    long long timeout_seconds = 0;
    std::string stage = "SCHEDULING";
    std::string message;
    std::vector<std::string> log;
    std::string created_at;  // as the Hub writes it
    int exit_status = -1;    // a job run as a process, once it ended
  };

  // What a job does once created; chosen by its image (SetBehavior).
  struct Behavior {
    enum class Kind {
      kRun,             // SCHEDULING for `scheduling`, RUNNING for `running`, then `end_stage` with `end_message`
      kStayScheduling,  // never leaves SCHEDULING (no hardware for its flavor, say)
      kManual,          // SCHEDULING for `scheduling`, then RUNNING until Finish or Cancel
      kExecute,         // SCHEDULING for `scheduling`, then runs here as a process (see above)
    };
    Kind kind = Kind::kRun;
    std::chrono::milliseconds scheduling{0};
    std::chrono::milliseconds running{0};
    std::string end_stage = "COMPLETED";
    std::string end_message{};
    std::vector<std::string> log{};  // kRun, kManual: the lines it logs when it starts running
    std::string program{};           // kExecute: the local program standing for the command's first word
    // Called once the job runs (RUNNING), with no lock held: it may call FakeHub.
    std::function<void(const Job&)> on_running{};

    static Behavior Run(std::chrono::milliseconds running, std::string end_stage = "COMPLETED",
                        std::string end_message = "") {
      Behavior behavior;
      behavior.running = running;
      behavior.end_stage = std::move(end_stage);
      behavior.end_message = std::move(end_message);
      return behavior;
    }
    static Behavior StayScheduling() {
      Behavior behavior;
      behavior.kind = Kind::kStayScheduling;
      return behavior;
    }
    static Behavior Manual() {
      Behavior behavior;
      behavior.kind = Kind::kManual;
      return behavior;
    }
    static Behavior Execute(std::string program) {
      Behavior behavior;
      behavior.kind = Kind::kExecute;
      behavior.program = std::move(program);
      return behavior;
    }
  };

  // `changed` is called (without this object's lock) after every change of a job, for FakeHub::WaitFor;
  // `scheme` is how the Hub is reached ("http" or "https"), for the Link headers.
  FakeHubJobs(std::function<void()> changed, std::string scheme);
  ~FakeHubJobs();
  FakeHubJobs(const FakeHubJobs&) = delete;
  FakeHubJobs& operator=(const FakeHubJobs&) = delete;

  // Answers `request` when it is a Jobs endpoint and returns true; false leaves it to FakeHub.
  bool Route(const httplib::Request& request, httplib::Response& response);

  // Setup. An image is a Docker image as run, or a Space id for a job run with spaceId; a job of an
  // image without a behavior of its own takes the default one (kRun, completing at once).
  void SetBehavior(const std::string& image, Behavior behavior);
  void SetDefaultBehavior(Behavior behavior);
  void AddNamespace(const std::string& job_namespace);
  void SetListPageSize(size_t jobs);

  // From outside, as another client would: ends a job that has not ended (false otherwise), or
  // cancels it (CANCELED, "Job canceled", its process killed).
  bool Finish(const std::string& id, const std::string& stage, const std::string& message = "");
  bool Cancel(const std::string& id);

  // What there is.
  std::vector<Job> Jobs() const;
  std::optional<Job> Find(const std::string& id) const;
  // The jobs whose label `key` is `value`, in the order they were created.
  std::vector<Job> WithLabel(const std::string& key, const std::string& value) const;
  std::string Stage(const std::string& id) const;  // "" for an unknown job

  // The JobInfo answer for a job.
  static nlohmann::json JobJson(const Job& job);

 private:
  struct Entry {
    Job job;
    Behavior behavior;
    std::chrono::steady_clock::time_point created, started;
    std::unique_ptr<ChildProcess> process;
    std::string log_path;
  };

  void RunJob(const std::string& job_namespace, const httplib::Request& request, httplib::Response& response);
  void ListJobs(const std::string& job_namespace, const httplib::Request& request, httplib::Response& response);
  void StreamLog(const std::string& id, const httplib::Request& request, httplib::Response& response);
  Entry* FindEntry(const std::string& job_namespace, const std::string& id);
  // Ends a job (under the lock), killing its process if it has one.
  void End(Entry& entry, const std::string& stage, const std::string& message);
  void Advance();  // the thread that moves jobs through their stages
  void Notify();

  std::function<void()> changed_callback_;
  const std::string scheme_;
  TempDir logs_{"orch-fake-jobs"};

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::map<std::string, Behavior> behaviors_;
  Behavior default_behavior_;
  std::vector<std::string> namespaces_{kUser};
  size_t page_size_ = kDefaultPageSize;
  std::vector<std::unique_ptr<Entry>> entries_;  // in the order created
  uint64_t sequence_ = 0;
  uint64_t generation_ = 0;  // bumped at every change, for the log streams

  std::thread thread_;  // last: started once everything above exists
};

}  // namespace orch::testing
