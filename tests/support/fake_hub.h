// A local stand-in for the Hugging Face Hub HTTP API, for the endpoints src/hub/hf_hub.h calls.
//
// FakeHub answers the calls the orchestrator makes (Space restart/pause/runtime, whoami, a dataset's
// dataset_metadata.json) the way the Hub does, over real HTTP on a loopback address, and lets tests
// script what a prepare worker publishes after a restart and which faults the network shows.
// Every request is recorded, so tests can assert on exactly what a client sent.
//
// Rules the fake enforces, as the Hub does:
//  - every endpoint needs `Authorization: Bearer <token>`; a wrong token is refused even where
//    anonymous access is allowed (AllowAnonymous only excuses a missing header);
//  - every answer carries an X-Request-Id of its own ("fake-<n>"), as the Hub's do;
//  - a request first meets the injected faults, then the redirects, then authentication, then its
//    route; only requests that reach a metadata route count as polls of that dataset. The faults
//    that carry a request out (CarryOutThenClose, CarryOutThenStatus) let it through to its route
//    first, and only then lose its answer: the Space restarted, the poll counted;
//  - pausing a Space cancels the publications still pending from its last restart.
// The fake never pauses a Space by itself (the real prepare worker pauses its own when done).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "support/fake_hub_jobs.h"
#include "support/fake_hub_repos.h"
#include "support/test_tls.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace orch::testing {

class FakeHub {
 public:
  // Publication and Fault give every member an initializer, so designated initializers may name only
  // what they need without warnings; their factories cover the usual cases.
  //
  // What a prepare worker publishes after its Space is restarted (or StartPublications, for a worker
  // that is no Space). It becomes visible once its dataset's metadata has been served `after_polls`
  // times since the restart (0: before the first poll), or `after_delay` after the restart when set,
  // or never.
  struct Publication {
    std::string dataset_repo{};
    int64_t num_samples = 0;
    int after_polls = 0;
    std::optional<std::chrono::milliseconds> after_delay{};
    bool never = false;
    std::string version_tag{};  // empty: a fresh tag, unique within this FakeHub

    static Publication AfterPolls(std::string dataset_repo, int64_t num_samples, int polls, std::string tag = "") {
      return {std::move(dataset_repo), num_samples, polls, std::nullopt, false, std::move(tag)};
    }
    static Publication AfterDelay(std::string dataset_repo, int64_t num_samples, std::chrono::milliseconds delay,
                                  std::string tag = "") {
      return {std::move(dataset_repo), num_samples, 0, delay, false, std::move(tag)};
    }
    static Publication Never(std::string dataset_repo) {
      return {std::move(dataset_repo), 0, 0, std::nullopt, true, ""};
    }
  };

  // A misbehaviour shown to the next `times` requests whose path contains the fault's substring.
  // kSlowBody and the last two let the request through to its route; the others replace its
  // handling, so that nothing is carried out.
  struct Fault {
    enum class Kind {
      kStatus,           // answer `status` with a JSON error body
      kRetryAfter,       // 429 with Retry-After and RateLimit (r=0;t=) of retry_after_seconds
      kRateLimited,      // 429 with the Hub's `RateLimit: "api";r=0;t=<retry_after_seconds>`, no Retry-After
      kSlowBody,         // the real answer, its body sent in small chunks spread over `delay`
      kMalformedJson,    // 200 with the body "{not json"
      kOversized,        // 200 with a 2 MiB JSON body, chunked (no Content-Length to trust)
      kCloseConnection,  // the connection is closed before any byte of an answer (libcurl silently
                         // retries once on a fresh connection when this hits a reused one)
      kRedirect,         // 302 to `location`
      // The request is handled as without the fault (a restart restarts, a poll counts), then its
      // answer is lost:
      kCarryOutThenClose,   // the connection is closed before any byte of the real answer
      kCarryOutThenStatus,  // `status` goes out instead of the real answer (a gateway's 502 or 504)
    };
    Kind kind = Kind::kStatus;
    int status = 503;
    int retry_after_seconds = 1;
    std::chrono::milliseconds delay{0};
    int times = 1;
    std::string location{};
    std::string method{};  // only requests of this method meet it ("": any)

    // The same fault, shown only to requests of `method` (a Jobs listing and a run share a path).
    Fault Only(std::string only_method) const {
      Fault fault = *this;
      fault.method = std::move(only_method);
      return fault;
    }

    static Fault Status(int status, int times = 1) { return {Kind::kStatus, status, 1, {}, times, ""}; }
    static Fault RetryAfter(int seconds, int times = 1) { return {Kind::kRetryAfter, 429, seconds, {}, times, ""}; }
    static Fault RateLimited(int seconds, int times = 1) { return {Kind::kRateLimited, 429, seconds, {}, times, ""}; }
    static Fault SlowBody(std::chrono::milliseconds delay) { return {Kind::kSlowBody, 200, 1, delay, 1, ""}; }
    static Fault Redirect(std::string location) { return {Kind::kRedirect, 302, 1, {}, 1, std::move(location)}; }
    static Fault CarryOutThenClose(int times = 1) { return {Kind::kCarryOutThenClose, 200, 1, {}, times, ""}; }
    static Fault CarryOutThenStatus(int status, int times = 1) {
      return {Kind::kCarryOutThenStatus, status, 1, {}, times, ""};
    }
    // kMalformedJson, kOversized, kCloseConnection.
    static Fault Of(Kind kind, int times = 1) { return {kind, 200, 1, {}, times, ""}; }
  };

  struct RecordedCall {
    std::string method, path, query, host, authorization, if_none_match, body;
    std::chrono::steady_clock::time_point at;
    int status = 0;  // what was answered; 0: the connection was closed without an answer
    // Whether the fake did what the request asked: it reached its route, which accepted it (2xx or
    // 304), whatever answer then went out. A fault that lets the request through leaves it as the
    // route decided (`status` then says what the client got instead: 0, 502 or 504 when a
    // CarryOutThen fault lost the answer); any other fault leaves it false.
    bool carried_out = false;
    // For a restart carried out of a Space that TrainsOn a dataset, its answer lost or not: the
    // version it started on.
    std::string trained_version;
  };

  static constexpr size_t kOversizedBytes = 2 << 20;

  explicit FakeHub(std::string host = "127.0.0.1");
  // Speaks HTTPS with `tls`'s certificate (see support/test_tls.h).
  FakeHub(std::string host, const TestTls& tls);
  ~FakeHub();
  FakeHub(const FakeHub&) = delete;
  FakeHub& operator=(const FakeHub&) = delete;

  // "http://HOST:PORT" (https with TLS), what HF_ENDPOINT is set to.
  std::string endpoint() const;
  int port() const { return port_; }
  // The full URL of a dataset's dataset_metadata.json on this fake.
  std::string MetadataUrl(const std::string& dataset_repo) const;

  // Authentication. The default accepted token is "hf_test_token".
  void SetToken(std::string token);
  // Lets requests without an Authorization header read this dataset's metadata (a public dataset).
  void AllowAnonymous(const std::string& dataset_repo);

  // Spaces, by "owner/name".
  void AddSpace(const std::string& space, const std::string& stage = "RUNNING");
  void SetSpaceStage(const std::string& space, const std::string& stage);  // adds an unknown Space
  std::string SpaceStage(const std::string& space) const;                  // "" for an unknown Space
  // After every restart, the restart answer and the following runtime reads walk through `stages`
  // (the restart answer and first read show stages[0], each further read the next; the last stays).
  void SetStageAfterRestart(const std::string& space, std::vector<std::string> stages);
  // Makes `space` a retrain worker of `dataset_repo`: each restart carried out starts a run on the
  // version then published, recorded in the restart's RecordedCall::trained_version.
  void TrainsOn(const std::string& space, const std::string& dataset_repo);

  // Datasets, by "owner/name". The ETag is derived from the content, so it changes with it.
  void PublishMetadata(const std::string& dataset_repo, const nlohmann::json& metadata);
  void SetRawMetadata(const std::string& dataset_repo, std::string body);
  // The version_tag currently served for a dataset ("" when none or not parseable).
  std::string VersionTag(const std::string& dataset_repo) const;
  // Every version_tag the dataset has served so far, oldest first (those of unparseable bodies left
  // out), whether or not anyone read it before the next replaced it.
  std::vector<std::string> VersionsPublished(const std::string& dataset_repo) const;
  // A dataset_metadata.json document as the prepare worker writes it.
  static nlohmann::json Metadata(const std::string& version_tag, int64_t num_samples,
                                 const std::string& label_column = "",
                                 const std::string& dataset_name = "owner/misclassified_dataset");

  // Replaces what restarting `prepare_space` publishes; the script runs again after every restart.
  void OnRestart(const std::string& prepare_space, std::vector<Publication> publications);
  // The same, with a script decided at each restart carried out, by `script`: for a worker whose work
  // depends on what its caller recorded before restarting it. `script` runs without the fake's lock
  // (it may look elsewhere, e.g. in a database) and must not call this fake.
  void OnRestart(const std::string& prepare_space, std::function<std::vector<Publication>()> script);
  // Arms `publications` as a restart of `worker` arms its script, dropping what is still pending
  // from its last start: for a prepare worker that is not a Space (a command, a webhook) but
  // publishes to this Hub.
  void StartPublications(const std::string& worker, std::vector<Publication> publications);
  // Whether publications armed by `worker`'s last start (or restart) have yet to appear.
  bool PublicationsPending(const std::string& worker) const;

  // Faults are consumed in the order they were injected; redirects stay until the fake is destroyed.
  // A fault injected with `after` lets that many matching requests through before it shows (the
  // second commit onto a branch, say).
  void InjectFault(const std::string& path_substring, Fault fault, int after = 0);
  // Takes back every fault not shown yet (redirects stay).
  void ClearFaults();
  void SetRedirect(const std::string& path_substring, const std::string& location);

  // The repository API (create, commit, LFS, tags, tree, resolve), behind the same auth and faults.
  FakeHubRepos& repos() { return repos_; }
  // Hugging Face Jobs (run, inspect, list, cancel, logs), behind the same auth and faults.
  FakeHubJobs& jobs() { return jobs_; }

  // An http://127.0.0.1:PORT URL where nothing listens, for connection-refused tests.
  static std::string RefusedEndpoint();

  std::vector<RecordedCall> Calls() const;
  int Count(std::string_view method, std::string_view path_substring) const;
  // Requests for exactly `path` that the fake carried out, whether or not their answer was lost.
  int CarriedOut(std::string_view method, std::string_view path) const;
  void ClearCalls();

  // Evaluates `predicate` now and again after every request handled or change made through this
  // fake (a publication, a stage); false when `timeout` passes first. State outside the fake is only
  // seen again at the next such event. The predicate runs without the fake's lock, so it may call Count().
  bool WaitFor(const std::function<bool()>& predicate, std::chrono::milliseconds timeout);

 private:
  using TimePoint = std::chrono::steady_clock::time_point;

  struct SpaceState {
    std::string stage;
    std::vector<std::string> stages_after_restart;
    size_t reads_since_restart = 0;
    std::vector<Publication> script;
    std::function<std::vector<Publication>()> script_source;  // when set, decides `script` at each restart
    std::string trains_on;                                    // dataset repo, see TrainsOn
  };
  struct DatasetState {
    std::string body;
    std::string etag;
    bool published = false;
    bool anonymous = false;
    std::vector<std::string> versions;  // see VersionsPublished
  };
  struct PendingPublication {
    std::string space;
    Publication publication;
    int polls_left = 0;
    std::optional<TimePoint> due;
  };
  struct FaultEntry {
    std::string path_substring;
    Fault fault;
    int remaining = 0;
    int let_through = 0;
  };

  void Stop();
  void Handle(const httplib::Request& request, httplib::Response& response);
  // Answers as the real Hub would.
  void Route(const httplib::Request& request, httplib::Response& response);
  void ServeRestart(const std::string& space, httplib::Response& response);
  void ServePause(const std::string& space, httplib::Response& response);
  void ServeRuntime(const std::string& space, httplib::Response& response);
  void ServeMetadata(const std::string& dataset, const httplib::Request& request, httplib::Response& response);
  bool Authorized(const httplib::Request& request, const std::string& anonymous_dataset) const;
  std::optional<Fault> TakeFault(const std::string& method, const std::string& path);
  void JobsChanged();
  std::optional<std::string> RedirectFor(const std::string& path) const;
  // Both return false when the connection was closed without an answer.
  bool ApplyFault(const Fault& fault, const httplib::Request& request, httplib::Response& response);
  // Applies a fault that lets its request through (see CarriesOut) to the real answer in `response`.
  bool LoseAnswer(const Fault& fault, const httplib::Request& request, httplib::Response& response);
  // Runs the script source of the Space a restart `request` is for, if it has one, without the lock.
  void DecideScript(const httplib::Request& request, std::unique_lock<std::mutex>& lock);
  void SendSlowly(httplib::Response& response, std::chrono::milliseconds delay);

  void ArmPublications(const std::string& worker, const std::vector<Publication>& script, TimePoint started_at);
  void PublishDueByPolls(const std::string& dataset);
  void PublishDueByTime(TimePoint now);
  void Publish(const Publication& publication);
  void SetBody(const std::string& dataset, std::string body);
  std::string VersionTagLocked(const std::string& dataset_repo) const;
  std::string TrainedVersion(const httplib::Request& request) const;
  void RunPublicationTimer();
  void NotifyChanged();

  // Binds, then serves in a thread of its own until Stop().
  void Start();

  const std::string host_;
  const std::string scheme_;  // "http" or "https"
  int port_ = -1;
  std::unique_ptr<httplib::Server> server_;
  FakeHubRepos repos_{host_};

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  uint64_t generation_ = 0;
  bool stopping_ = false;
  std::string token_ = "hf_test_token";
  std::map<std::string, SpaceState> spaces_;
  std::map<std::string, DatasetState> datasets_;
  std::vector<PendingPublication> pending_;
  std::vector<FaultEntry> faults_;
  std::vector<std::pair<std::string, std::string>> redirects_;
  std::vector<RecordedCall> calls_;
  int next_tag_number_ = 1;
  FakeHubJobs jobs_{[this] { JobsChanged(); }, scheme_};

  // Declared last: started once every member above exists, joined before any is destroyed.
  std::thread publication_timer_;
  std::thread server_thread_;
};

}  // namespace orch::testing
