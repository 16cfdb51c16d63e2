// In-memory stand-ins for the engine's collaborators, so a whole pass runs in microseconds:
// a clock that moves only when the pass sleeps, counts from a map, metadata on a timeline,
// workers that record their starts, a state store in memory and a log that remembers; and gates
// that hold one request of a pass while the test does something else.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "db/database.h"
#include "db/state_store.h"
#include "hub/hub.h"
#include "triggers/trigger.h"
#include "util/clock.h"
#include "util/error.h"
#include "util/log.h"

namespace orch::testing {

// A clock that moves only when the pass sleeps: minutes of polling take microseconds.
class FakeClock : public Clock {
 public:
  TimePoint Now() override { return now_; }
  std::chrono::system_clock::time_point WallNow() override {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(now_.time_since_epoch()));
  }
  void SleepUntil(TimePoint deadline) override {
    ++sleeps;
    if (deadline > now_) now_ = deadline;
  }
  double Seconds() const { return std::chrono::duration<double>(now_.time_since_epoch()).count(); }
  int sleeps = 0;

 private:
  TimePoint now_{};
};

class FakeDatabase : public Database {
 public:
  std::map<std::string, int64_t> misclassified;
  std::map<std::string, int64_t> pool;
  std::map<std::string, int64_t> query_results;
  bool fail = false;
  int scans = 0, pool_scans = 0, queries = 0;
  std::vector<std::string> pooled_labels;

  std::vector<int64_t> CountMisclassified(std::span<const LabelColumns> labels) override {
    if (fail) throw DatabaseError("connection lost");
    ++scans;
    std::vector<int64_t> counts;
    for (const LabelColumns& label : labels) counts.push_back(misclassified[label.label]);
    return counts;
  }
  std::vector<int64_t> CountCorrectPool(std::span<const LabelColumns> labels) override {
    ++pool_scans;
    std::vector<int64_t> counts;
    for (const LabelColumns& label : labels) {
      pooled_labels.push_back(label.label);
      counts.push_back(pool[label.label]);
    }
    return counts;
  }
  int64_t CountWithQuery(const std::string& sql) override {
    ++queries;
    return query_results.at(sql);
  }
  bool HasComplaintIdIndex() override { return true; }
  std::string ServerVersion() override { return "fake"; }
};

// Metadata that changes over (fake) time: each URL has a timeline of answers.
class TimelineHub : public Hub {
 public:
  explicit TimelineHub(FakeClock& clock) : clock_(clock) {}

  void Set(const std::string& url, MetadataRead read, Clock::TimePoint from) { timeline_[url][from] = std::move(read); }
  // `rows_dropped`: counted rows the worker says it could not use (0: as the original worker).
  void Publish(const std::string& url, const std::string& version, int64_t samples, Clock::TimePoint from,
               int64_t rows_dropped = 0) {
    MetadataRead read;
    read.status = MetadataRead::Status::kOk;
    read.metadata = DatasetMetadata{version, samples, rows_dropped};
    Set(url, read, from);
  }
  std::vector<MetadataRead> ReadMetadata(std::span<const std::string> urls, TimeBudget budget) override {
    budgets_.push_back(budget);
    std::vector<MetadataRead> reads;
    for (const std::string& url : urls) {
      ++reads_[url];
      reads.push_back(At(url, clock_.Now()));
    }
    return reads;
  }
  int reads(const std::string& url) { return reads_[url]; }
  // The budget of each round of reads, in order.
  const std::vector<TimeBudget>& budgets() const { return budgets_; }

 private:
  MetadataRead At(const std::string& url, Clock::TimePoint now) {
    auto& events = timeline_[url];
    auto after = events.upper_bound(now);
    if (after == events.begin()) {
      MetadataRead missing;
      missing.status = MetadataRead::Status::kNotFound;
      missing.detail = "404";
      return missing;
    }
    return std::prev(after)->second;
  }
  FakeClock& clock_;
  std::map<std::string, std::map<Clock::TimePoint, MetadataRead>> timeline_;
  std::map<std::string, int> reads_;
  std::vector<TimeBudget> budgets_;
};

// Records every start; runs `on_start` so a test can script what the worker then publishes.
class FakeTrigger : public Trigger {
 public:
  explicit FakeTrigger(FakeClock& clock) : clock_(clock) {}
  struct Started {
    StartRequest request;
    double at_seconds;
  };
  std::vector<Started> started;
  std::map<std::string, StartResult> results;  // by target; default ok
  std::map<std::string, WorkerState> states;   // by target; default active
  std::function<void(const StartRequest&)> on_start;
  std::function<void()> on_inspect;                           // called before each Inspect answers
  std::vector<std::pair<std::string, TimeBudget>> inspected;  // each target asked, with its round's budget
  std::vector<WorkerRef> asked;                               // each worker asked, as the pass named it

  std::vector<StartResult> Start(std::span<const StartRequest> requests) override {
    std::vector<StartResult> out;
    for (const StartRequest& request : requests) {
      started.push_back({request, clock_.Seconds()});
      if (on_start) on_start(request);
      auto result = results.find(request.target);
      out.push_back(result != results.end() ? result->second : StartResult{true, "stage BUILDING"});
    }
    return out;
  }
  std::vector<WorkerState> Inspect(std::span<const WorkerRef> workers, TimeBudget budget) override {
    if (on_inspect) on_inspect();
    std::vector<WorkerState> out;
    for (const WorkerRef& worker : workers) {
      inspected.emplace_back(worker.target, budget);
      asked.push_back(worker);
      auto state = states.find(worker.target);
      out.push_back(state != states.end() ? state->second : WorkerState{WorkerState::Health::kActive, "stage RUNNING"});
    }
    return out;
  }
  int StartsOf(const std::string& target) const {
    int count = 0;
    for (const Started& s : started) count += s.request.target == target;
    return count;
  }
  const Started* Find(const std::string& target) const {
    for (const Started& s : started)
      if (s.request.target == target) return &s;
    return nullptr;
  }

 private:
  FakeClock& clock_;
};

class RecordingLog : public Log {
 public:
  struct Line {
    Level level;
    std::string label, message;
    Fields fields;
  };
  std::vector<Line> lines;
  void Event(Level level, std::string_view label, std::string_view message, const Fields& fields) override {
    lines.push_back({level, std::string(label), std::string(message), fields});
  }
  int Count(std::string_view label, std::string_view message) const {
    int count = 0;
    for (const Line& line : lines) count += line.label == label && line.message == message;
    return count;
  }
  // The value of `key` on the first line with this label and message; null when there is none.
  nlohmann::json FieldOf(std::string_view label, std::string_view message, std::string_view key) const {
    for (const Line& line : lines) {
      if (line.label != label || line.message != message) continue;
      for (const Field& field : line.fields)
        if (field.key == key) return field.value;
    }
    return nullptr;
  }
};

// The orchestrator's state in memory; `fail` makes every call throw, as a database gone away, and
// `lock_lost` every label write, as a fenced write of a pass whose lease was taken.
class MemoryStateStore : public StateStore {
 public:
  std::map<std::string, LabelState> labels;
  std::vector<RunRecord> runs;
  std::vector<LabelState> saves;  // every SaveLabel, in order
  bool fail = false;
  bool lock_lost = false;

  std::vector<int> Migrate() override { return {}; }
  int SchemaVersion() override { return 1; }
  std::vector<LabelState> LoadLabels(std::span<const std::string> names) override {
    Check();
    std::vector<LabelState> states;
    for (const std::string& name : names) {
      auto found = labels.find(name);
      LabelState state;
      state.label = name;
      states.push_back(found != labels.end() ? found->second : state);
    }
    return states;
  }
  void SaveLabels(std::span<const LabelState> states) override {
    Check();
    if (lock_lost) throw LockLostError("the run lock \"orchestrator\" was lost (another pass took it)");
    for (const LabelState& state : states) {
      labels[state.label] = state;
      saves.push_back(state);
    }
  }
  int64_t BeginRun(const RunRecord& run) override {
    Check();
    runs.push_back(run);
    runs.back().id = static_cast<int64_t>(runs.size());
    return runs.back().id;
  }
  void FinishRun(int64_t id, WallTime finished_at, const std::string& status, const std::string& summary) override {
    Check();
    runs.at(id - 1).finished_at = finished_at;
    runs.at(id - 1).status = status;
    runs.at(id - 1).summary_json = summary;
  }
  std::optional<RunRecord> FindRun(int64_t id) override {
    if (id < 1 || id > static_cast<int64_t>(runs.size())) return std::nullopt;
    return runs[static_cast<size_t>(id - 1)];
  }
  std::vector<RunRecord> History(int limit) override {
    std::vector<RunRecord> newest(runs.rbegin(), runs.rend());
    if (static_cast<int>(newest.size()) > limit) newest.resize(limit);
    return newest;
  }

 private:
  void Check() const {
    if (fail) throw DatabaseError("server closed the connection unexpectedly");
  }
};

// One call that hangs until the test lets it go, as a request that outlasts a lease: the pass's
// thread waits inside the call, the test's thread acts meanwhile and then releases it. Calls
// before and after the held one go straight through.
class Gate {
 public:
  // The `n`th call from now on (1: the next) waits.
  void HoldCall(int n) {
    const std::lock_guard<std::mutex> lock(mutex_);
    hold_at_ = calls_ + n;
  }
  // Waits up to `bound` for the held call to begin; false when it did not.
  bool WaitUntilHeld(std::chrono::milliseconds bound) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, bound, [this] { return held_; });
  }
  // Lets the held call go on (also any call held later).
  void Release() {
    const std::lock_guard<std::mutex> lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }
  // Called in each gated call: waits there if it is the one held, for at most a minute, so that
  // a test that forgot to release it fails instead of hanging.
  void Enter() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (++calls_ != hold_at_) return;
    held_ = true;
    changed_.notify_all();
    changed_.wait_for(lock, std::chrono::minutes(1), [this] { return released_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int calls_ = 0;
  int hold_at_ = 0;
  bool held_ = false;
  bool released_ = false;
};

// `inner`'s metadata, with a gate on the reads: a held read answers what `inner` says once released.
class GateHub : public Hub {
 public:
  explicit GateHub(Hub& inner) : inner_(inner) {}
  Gate reads;
  std::vector<MetadataRead> ReadMetadata(std::span<const std::string> urls, TimeBudget budget) override {
    reads.Enter();
    return inner_.ReadMetadata(urls, budget);
  }

 private:
  Hub& inner_;
};

// `inner`'s workers, with gates on the starts and on the questions: a held start reaches its
// worker at once and its answer comes back once released; a held question is answered as the
// worker is once released.
class GateTrigger : public Trigger {
 public:
  explicit GateTrigger(Trigger& inner) : inner_(inner) {}
  Gate starts, inspects;
  std::vector<StartResult> Start(std::span<const StartRequest> requests) override {
    std::vector<StartResult> results = inner_.Start(requests);
    starts.Enter();
    return results;
  }
  std::vector<WorkerState> Inspect(std::span<const WorkerRef> workers, TimeBudget budget) override {
    inspects.Enter();
    return inner_.Inspect(workers, budget);
  }

 private:
  Trigger& inner_;
};

}  // namespace orch::testing
