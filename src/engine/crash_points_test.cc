// Every point at which a pass can die, or lose its run lock, tried one by one rather than sampled.
//
// A reference run of a scenario counts the pass's outside effects: each state write (before it,
// and after it committed), each request (before it left, and after it reached the worker or the
// Hub with its answer lost; for a restart of several workers at once, each one reaching its
// worker alone), and on SQLite each renewal of the run lock. Then, for every point k, the same
// scenario runs again and the pass meets its fate at point k:
//   - killed: from there on the world ignores it (its writes are dropped, its restarts send
//     nothing, every call it makes throws);
//   - its lock lost (SQLite): it stalls at point k past its lease, a rival pass takes the lock and
//     runs to its end, then the stalled pass carries on. From there on it must send no restart and
//     make no write.
// The world goes on (the prepare worker publishes, workers run), fresh passes take over until one
// finds nothing to do, and the pass's promises must hold: every dataset version the prepare worker
// published is retrained exactly once, every label is idle again with its latest dataset
// retrained, and on SQLite the run lock was checked right before every restart.
//
// Scenarios have two labels at different phases; each runs with every kind of worker (Space,
// command, webhook, Hugging Face Job: see support/worker_world.h) and on a state store in memory and on a real
// SQLite file, where each pass holds the lease of the run lock and its writes are fenced by it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "db/state_codec.h"
#include "engine/pass.h"
#include "support/app_database.h"
#include "support/engine_fakes.h"
#include "support/sqlite_pass_state.h"
#include "support/temp_dir.h"
#include "support/worker_world.h"

namespace orch {
namespace {

using namespace std::chrono_literals;
using namespace orch::testing;

// What a dead pass meets at its crash point and at every call after it. Not a std::exception, so
// no handler of the pass can take it for a failure it could handle and carry on.
struct PassKilled {};

constexpr const char* kAfterRenewing = "after renewing the run lock";

// Counts a pass's crash points as it reaches them and, at the chosen one, kills it or has its lock
// taken by a rival meanwhile; notes what the pass does that it must not (a breach).
class CrashPoints {
 public:
  struct Point {
    std::string name;
    bool sending = false;  // within a restart: the pass has already decided to send it
  };

  // At point `at` (1-based; 0: none) the pass dies, or, with `rival`, runs it and carries on.
  explicit CrashPoints(int at, std::function<void()> rival = nullptr) : at_(at), rival_(std::move(rival)) {}

  // A crash point. A pass killed here makes `partly` happen first (a restart that reached only
  // some of its workers).
  void At(const std::string& what, bool sending = false, const std::function<void()>& partly = nullptr) {
    Alive();
    points_.push_back({what, sending});
    if (static_cast<int>(points_.size()) != at_) return;
    if (rival_) return rival_();
    if (partly) partly();
    dead_ = true;
    throw PassKilled{};
  }
  // Every call of a dead pass ends here: nothing it asks for happens.
  void Alive() const {
    if (dead_) throw PassKilled{};
  }
  bool dead() const { return dead_; }
  // Whether the lock was lost by point `index` (1-based).
  bool LostBy(size_t index) const { return rival_ && at_ > 0 && static_cast<size_t>(at_) <= index; }
  int at() const { return at_; }
  const std::vector<Point>& points() const { return points_; }
  void Breach(const std::string& what) { breaches_.push_back(what); }
  const std::vector<std::string>& breaches() const { return breaches_; }

 private:
  int at_;
  std::function<void()> rival_;
  bool dead_ = false;
  std::vector<Point> points_;
  std::vector<std::string> breaches_;
};

std::vector<std::string> Names(const std::vector<CrashPoints::Point>& points) {
  std::vector<std::string> names;
  for (const CrashPoints::Point& point : points) names.push_back(point.name);
  return names;
}

std::string Describe(const LabelState& state) {
  switch (state.phase) {
    case Phase::kIdle:
      return state.label + " idle" +
             (state.last_retrained_version ? " (" + *state.last_retrained_version + " retrained)" : "");
    case Phase::kPreparing:
      return state.label + " preparing (" + (state.prepare_confirmed ? "confirmed" : "unconfirmed") + ")";
    case Phase::kRetraining:
      return state.label + " retraining " + state.dataset_version.value_or("?") + " (" +
             (state.retrain_confirmed      ? "confirmed"
              : state.retrain_requested_at ? "unconfirmed"
                                           : "not sent") +
             ")";
  }
  return state.label;
}

std::string Join(const std::vector<std::string>& parts) {
  std::string text;
  for (const std::string& part : parts) text += (text.empty() ? "" : ", ") + part;
  return text;
}

// ---- the pass's outside effects, each a crash point ------------------------------------------

class MortalStateStore final : public StateStore {
 public:
  MortalStateStore(StateStore& inner, CrashPoints& points) : inner_(inner), points_(points) {}
  std::vector<int> Migrate() override {
    points_.Alive();
    return inner_.Migrate();
  }
  int SchemaVersion() override {
    points_.Alive();
    return inner_.SchemaVersion();
  }
  std::vector<LabelState> LoadLabels(std::span<const std::string> labels) override {
    points_.Alive();
    return inner_.LoadLabels(labels);
  }
  void SaveLabels(std::span<const LabelState> states) override {
    std::vector<std::string> parts;
    for (const LabelState& state : states) parts.push_back(Describe(state));
    const std::string what = "the write of " + Join(parts);
    points_.At("before " + what + ": not made");
    const size_t before = points_.points().size();
    inner_.SaveLabels(states);
    if (points_.LostBy(before))
      points_.Breach(what + " was made after the run lock was lost at point " + std::to_string(points_.at()));
    points_.At("after " + what + ": committed");
  }
  int64_t BeginRun(const RunRecord& run) override {
    points_.Alive();
    return inner_.BeginRun(run);
  }
  void FinishRun(int64_t id, WallTime finished_at, const std::string& status, const std::string& summary) override {
    points_.Alive();
    inner_.FinishRun(id, finished_at, status, summary);
  }
  std::vector<RunRecord> History(int limit) override {
    points_.Alive();
    return inner_.History(limit);
  }
  std::optional<RunRecord> FindRun(int64_t id) override {
    points_.Alive();
    return inner_.FindRun(id);
  }

 private:
  StateStore& inner_;
  CrashPoints& points_;
};

class MortalHub final : public Hub {
 public:
  MortalHub(Hub& inner, CrashPoints& points, const Config& config) : inner_(inner), points_(points), config_(config) {}
  std::vector<MetadataRead> ReadMetadata(std::span<const std::string> urls, TimeBudget budget) override {
    if (urls.empty()) return inner_.ReadMetadata(urls, budget);  // no request at all
    std::vector<std::string> labels;
    for (const std::string& url : urls)
      for (const LabelConfig& label : config_.labels)
        if (label.metadata_url == url) labels.push_back(label.name);
    const std::string what = "reading the metadata of " + Join(labels);
    points_.At("before " + what);
    std::vector<MetadataRead> reads = inner_.ReadMetadata(urls, budget);
    points_.At("after " + what + ": answer lost");
    return reads;
  }

 private:
  Hub& inner_;
  CrashPoints& points_;
  const Config& config_;
};

class MortalTrigger final : public Trigger {
 public:
  // `locked`: the pass holds a run lock, which it must check right before each restart.
  MortalTrigger(Trigger& inner, CrashPoints& points, const Config& config, bool locked)
      : inner_(inner), points_(points), config_(config), locked_(locked) {}

  std::vector<StartResult> Start(std::span<const StartRequest> requests) override {
    std::vector<std::string> parts, labels;
    for (const StartRequest& request : requests) {
      parts.push_back(Restart(request));
      labels.push_back(request.label);
    }
    const std::string what = Join(parts);
    const bool checked = !points_.points().empty() && points_.points().back().name == kAfterRenewing;
    points_.At("before " + what + ": never left", /*sending=*/true);
    const size_t before = points_.points().size();
    if (locked_ && !checked) points_.Breach(what + " was sent without checking the run lock right before");
    // Lost between that check and this restart, the lock could not have stopped it.
    if (points_.LostBy(before - 2))
      points_.Breach(what + " was sent after the run lock was lost at point " + std::to_string(points_.at()));
    if (requests.size() > 1) {
      for (size_t i = 0; i < requests.size(); ++i)
        points_.At("of " + what + " at once, only that of " + labels[i] + " reached its worker; answers lost",
                   /*sending=*/true, [&] { inner_.Start(requests.subspan(i, 1)); });
    }
    std::vector<StartResult> results = inner_.Start(requests);
    points_.At("after " + what + ": reached, answer lost");
    return results;
  }
  std::vector<WorkerState> Inspect(std::span<const WorkerRef> refs, TimeBudget budget) override {
    if (refs.empty()) return inner_.Inspect(refs, budget);  // no request at all
    std::vector<std::string> workers;
    for (const WorkerRef& ref : refs) workers.push_back(Worker(ref.target));
    const std::string what = "asking " + Join(workers) + " how it is doing";
    points_.At("before " + what);
    std::vector<WorkerState> states = inner_.Inspect(refs, budget);
    points_.At("after " + what + ": answer lost");
    return states;
  }

 private:
  std::string Worker(const std::string& target) const {
    if (target == config_.prepare_target) return "the prepare worker";
    for (const LabelConfig& label : config_.labels)
      if (label.retrain_target == target) return "the retrain worker of " + label.name;
    return target;
  }
  std::string Restart(const StartRequest& request) const {
    if (request.target == config_.prepare_target) return "the restart of the prepare worker (" + request.label + ")";
    return "the retrain restart of " + request.label + " (" + request.dataset_version + ")";
  }

  Trigger& inner_;
  CrashPoints& points_;
  const Config& config_;
  bool locked_;
};

class MortalLock final : public RunLock {
 public:
  MortalLock(RunLock& inner, CrashPoints& points) : inner_(inner), points_(points) {}
  bool TryAcquire() override {
    points_.Alive();
    return inner_.TryAcquire();
  }
  LockHolder Holder() override {
    points_.Alive();
    return inner_.Holder();
  }
  bool Renew() override {
    points_.At("before renewing the run lock");
    const bool held = inner_.Renew();
    points_.At(kAfterRenewing);
    return held;
  }
  void Release() override {
    points_.Alive();
    inner_.Release();
  }
  UnlockResult Unlock() override {
    points_.Alive();
    return inner_.Unlock();
  }
  std::optional<std::chrono::seconds> lease() const override { return inner_.lease(); }

 private:
  RunLock& inner_;
  CrashPoints& points_;
};

// ---- scenarios -----------------------------------------------------------------------------------

enum class Scenario {
  // Both labels idle with enough new corrections: one prepare restart for both, both datasets in
  // the same poll, one restart of both retrain workers at once.
  kTogether,
  // department retrained v1 half an hour ago and has new corrections since (its retrain worker is
  // asked whether it still runs); urgency was never retrained; their datasets appear two polls apart.
  kStaggered,
  // An earlier pass died twice over: department is retraining v2, whose restart reached its
  // worker unconfirmed; urgency is preparing, whose restart never left.
  kResumed,
};

const char* ScenarioName(Scenario scenario) {
  switch (scenario) {
    case Scenario::kTogether: return "Together";
    case Scenario::kStaggered: return "Staggered";
    case Scenario::kResumed: return "Resumed";
  }
  return "?";
}

void PrintTo(Scenario scenario, std::ostream* out) { *out << ScenarioName(scenario); }

enum class Store { kMemory, kSqlite };

void PrintTo(Store store, std::ostream* out) { *out << (store == Store::kSqlite ? "Sqlite" : "Memory"); }

enum class Fate { kKilled, kLockLost };

constexpr auto kLease = 60s;
// Between two passes: the lease of a dead pass has expired, and a retrain started just before it
// died still runs (so its worker can tell that the restart arrived; see the manual's "one case
// stays ambiguous" for a Space that has already finished).
constexpr auto kBetweenPasses = kLease + 1s;
constexpr int kMaxPasses = 8;

// One try of a scenario: its world, its state, its pass meeting its fate at one point, the passes
// after.
class Trial {
 public:
  Trial(Scenario scenario, WorkerKind kind, Store store, const std::string& sqlite_path)
      : scenario_(scenario), store_(store), sqlite_path_(sqlite_path), world_(clock_, kind) {
    clock_.SleepUntil(clock_.Now() + 1000000s);  // far from the epoch: seeded times are positive
    config_.prepare_target = world_.PrepareTarget();
    config_.poll_interval = 60;
    config_.poll_timeout = 1800;
    config_.labels = {Label("department", 100), Label("urgency", 50)};
    for (LabelConfig& label : config_.labels) label.retrain_target = world_.RetrainTarget(label.name);
    database_.misclassified = {{"department", 100}, {"urgency", 60}};
    database_.pool = {{"department", 1000}, {"urgency", 1000}};
    world_.PublishedBefore("department", "v1");
    world_.SetPublishDelay("department", 90);
    world_.SetPublishDelay("urgency", scenario == Scenario::kStaggered ? 200 : 90);
    Seed();
  }

  // Runs the scenario's pass, which meets `fate` at point `at` (0: never). Returns the crash
  // points it reached.
  std::vector<CrashPoints::Point> RunScenarioPass(int at, Fate fate) {
    CrashPoints points(at, fate == Fate::kLockLost ? std::function<void()>([this] { RunRival(); }) : nullptr);
    MortalHub hub(world_, points, config_);
    MortalTrigger trigger(world_, points, config_, /*locked=*/store_ == Store::kSqlite);
    if (store_ == Store::kMemory) {
      MortalStateStore state(memory_, points);
      RunMortal({database_, hub, trigger, clock_, log_, state});
    } else {
      first_ = std::make_unique<SqlitePassState>(sqlite_path_, "pass-0", clock_, kLease);
      EXPECT_TRUE(first_->lock.TryAcquire());
      MortalStateStore state(first_->state, points);
      MortalLock lock(first_->lock, points);
      RunMortal({database_, hub, trigger, clock_, log_, state, &lock});
      if (!points.dead()) first_->lock.Release();  // a pass that lives releases the lock when done
    }
    if (at > 0 && fate == Fate::kKilled) {
      EXPECT_TRUE(points.dead()) << "the pass ended before its point " << at;
    }
    for (const std::string& breach : points.breaches()) ADD_FAILURE() << breach;
    return points.points();
  }

  // Fresh passes, one after another, until one does nothing. Fails the test when the world never
  // gets quiet.
  void ResumeUntilQuiet() {
    for (int pass = 1; pass <= kMaxPasses; ++pass) {
      clock_.SleepUntil(clock_.Now() + kBetweenPasses);
      const std::vector<LabelState> before = States();
      const size_t deliveries = world_.deliveries();
      const PassReport report = RunFreshPass("pass-" + std::to_string(pass));
      const std::vector<LabelState> after = States();
      bool quiet = world_.deliveries() == deliveries && report.exit_code() == 0;
      for (size_t i = 0; i < after.size(); ++i)
        quiet = quiet && after[i].phase == Phase::kIdle &&
                EncodeLabelState(after[i], SqlDialect::kSqlite) == EncodeLabelState(before[i], SqlDialect::kSqlite);
      if (quiet) return;
    }
    std::vector<std::string> states;
    for (const LabelState& state : States()) states.push_back(Describe(state));
    ADD_FAILURE() << "still not quiet after " << kMaxPasses << " more passes: " << Join(states);
  }

  // Every version the prepare worker published was retrained once; nothing else was retrained;
  // every label is idle with its latest dataset retrained.
  void CheckPromises() {
    const std::vector<WorkerWorld::Publication> published = world_.Publications();
    for (const WorkerWorld::Publication& publication : published)
      EXPECT_EQ(world_.Trainings(publication.label, publication.version), 1)
          << publication.label << " " << publication.version << " was retrained "
          << world_.Trainings(publication.label, publication.version) << " times";
    for (const auto& [label, versions] : world_.trainings())
      for (const auto& [version, count] : versions)
        EXPECT_TRUE(
            std::any_of(published.begin(), published.end(),
                        [&](const WorkerWorld::Publication& p) { return p.label == label && p.version == version; }))
            << "retrained " << label << " " << version << " (" << count << " times), which was never published";
    for (const LabelState& state : States()) {
      std::optional<std::string> latest;
      for (const WorkerWorld::Publication& publication : published)
        if (publication.label == state.label) latest = publication.version;
      EXPECT_TRUE(latest.has_value()) << "no dataset of " << state.label << " was ever published: its cycle was lost";
      EXPECT_EQ(state.phase, Phase::kIdle) << Describe(state);
      EXPECT_EQ(state.last_retrained_version, latest) << Describe(state);
    }
  }

 private:
  static LabelConfig Label(const std::string& name, int64_t threshold) {
    LabelConfig label;
    label.name = name;
    label.threshold = threshold;
    label.metadata_url = WorkerWorld::MetadataUrl(name);
    label.columns = LabelColumns::Defaults(name);
    return label;
  }

  void RunMortal(PassServices services) {
    try {
      Pass(config_, services).Run();
    } catch (const PassKilled&) {
    }
  }

  // A pass of its own, with the world as it is; on SQLite it first takes the run lock.
  PassReport RunFreshPass(const std::string& holder) {
    if (store_ == Store::kMemory) return Pass(config_, {database_, world_, world_, clock_, log_, memory_}).Run();
    SqlitePassState side(sqlite_path_, holder, clock_, kLease);
    if (!side.lock.TryAcquire()) {
      ADD_FAILURE() << holder << " found the run lock taken: " << side.lock.Holder().description;
      return {};
    }
    const PassReport report = Pass(config_, {database_, world_, world_, clock_, log_, side.state, &side.lock}).Run();
    side.lock.Release();
    return report;
  }

  // While the first pass stalls past its lease, another takes the lock and runs to its end.
  void RunRival() {
    clock_.SleepUntil(clock_.Now() + kBetweenPasses);
    RunFreshPass("rival");
  }

  std::vector<LabelState> States() {
    const std::vector<std::string> names = {"department", "urgency"};
    if (store_ == Store::kMemory) return memory_.LoadLabels(names);
    return SqliteStateStore(sqlite_path_).LoadLabels(names);
  }

  void Save(const std::vector<LabelState>& states) {
    if (store_ == Store::kMemory) return memory_.SaveLabels(states);
    SqliteStateStore(sqlite_path_).SaveLabels(states);
  }

  // What earlier passes and workers left, as of the scenario's start.
  void Seed() {
    if (scenario_ == Scenario::kStaggered) {
      LabelState department;
      department.label = "department";
      department.baseline_version = "v0";
      department.required_len = 120;
      department.dataset_version = department.last_retrained_version = "v1";
      department.requested_misclassified = department.last_retrained_misclassified = 80;
      department.prepare_requested_at = clock_.WallNow() - 2000s;
      department.prepare_confirmed = department.retrain_confirmed = true;
      department.retrain_requested_at = department.last_retrained_at = clock_.WallNow() - 1800s;
      department.updated_at = clock_.WallNow() - 1800s;
      Save({department});
    }
    if (scenario_ != Scenario::kResumed) return;
    // department: a cycle from 300 s ago; its dataset came out, its retrain restart reached the
    // worker 30 s ago and the pass died before confirming it.
    const WallTime start = clock_.WallNow();
    StartRequest prepare;
    prepare.target = config_.prepare_target;
    prepare.label = "department";
    prepare.required_len = 150;
    prepare.baseline_version = "v1";
    prepare.idempotency_key = IdempotencyKey("department", "earlier cycle");
    world_.Deliver(prepare);
    clock_.SleepUntil(clock_.Now() + 270s);
    StartRequest retrain;
    retrain.target = world_.RetrainTarget("department");
    retrain.label = "department";
    retrain.required_len = 150;
    retrain.baseline_version = "v1";
    retrain.dataset_version = "v2";
    retrain.idempotency_key = IdempotencyKey("department", "v2");
    world_.Deliver(retrain);
    LabelState department;
    department.label = "department";
    department.phase = Phase::kRetraining;
    department.baseline_version = "v1";
    department.required_len = 150;
    department.requested_misclassified = 100;
    department.prepare_requested_at = start;
    department.prepare_confirmed = true;
    department.dataset_version = "v2";
    department.retrain_requested_at = clock_.WallNow();
    department.updated_at = clock_.WallNow();
    // urgency: its prepare restart was recorded 20 s ago and never left.
    clock_.SleepUntil(clock_.Now() + 10s);
    LabelState urgency;
    urgency.label = "urgency";
    urgency.phase = Phase::kPreparing;
    urgency.required_len = 90;
    urgency.requested_misclassified = 60;
    urgency.prepare_requested_at = urgency.updated_at = clock_.WallNow();
    Save({department, urgency});
    clock_.SleepUntil(clock_.Now() + 20s);
  }

  Scenario scenario_;
  Store store_;
  std::string sqlite_path_;
  FakeClock clock_;
  WorkerWorld world_;
  Config config_;
  FakeDatabase database_;
  RecordingLog log_;
  MemoryStateStore memory_;
  std::unique_ptr<SqlitePassState> first_;  // the scenario's pass; killed, its lease stays until it expires
};

// Whether point `k` (1-based) lies between the check of the run lock and the restart it was made
// for: a pass that stalls there past its lease sends the restart anyway, after another pass may
// have acted. No lock can fence that; the worker's idempotency key is what remains (see the
// manual's "one case stays ambiguous").
bool BetweenCheckAndRestart(const std::vector<CrashPoints::Point>& points, size_t k) {
  if (points[k - 1].sending) return true;
  return points[k - 1].name == kAfterRenewing && k < points.size() && points[k].sending;
}

// Runs the scenario once to enumerate its crash points, then once per point with the pass meeting
// `fate` there, each followed by fresh passes until quiet and the promises checked.
void TryEveryPoint(Scenario scenario, WorkerKind kind, Store store, Fate fate) {
  TempDir dir;
  const std::string template_path = dir.File("template.db");
  if (store == Store::kSqlite) {
    // One migrated file, copied for every try. The application keeps it in WAL mode, which
    // costs a state write one sync instead of several: hundreds of passes run on it.
    const std::unique_ptr<AppDatabase> app = AppDatabase::Sqlite(template_path);
    app->Exec("PRAGMA journal_mode = WAL");
    SqliteStateStore(template_path).Migrate();
  }
  const auto new_trial = [&](size_t number) {
    const std::string path = dir.File("try-" + std::to_string(number) + ".db");
    if (store == Store::kSqlite) std::filesystem::copy_file(template_path, path);
    return std::make_unique<Trial>(scenario, kind, store, path);
  };

  std::vector<CrashPoints::Point> points;
  {
    SCOPED_TRACE("the reference run, where the pass meets no fate");
    const std::unique_ptr<Trial> reference = new_trial(0);
    points = reference->RunScenarioPass(0, fate);
    reference->ResumeUntilQuiet();
    reference->CheckPromises();
  }
  ASSERT_GE(points.size(), 10u) << "the scenario does not reach the pass's effects";
  std::cout << points.size() << " crash points:\n";
  for (size_t k = 1; k <= points.size(); ++k)
    std::cout << "  " << k << ". " << points[k - 1].name
              << (fate == Fate::kLockLost && BetweenCheckAndRestart(points, k) ? " [between check and restart]" : "")
              << "\n";

  const std::vector<std::string> names = Names(points);
  for (size_t k = 1; k <= points.size(); ++k) {
    if (fate == Fate::kLockLost && BetweenCheckAndRestart(points, k)) continue;
    SCOPED_TRACE(std::string(fate == Fate::kKilled ? "killed" : "lock lost") + " at point " + std::to_string(k) +
                 " of " + std::to_string(points.size()) + " (" + names[k - 1] + ")");
    const std::unique_ptr<Trial> trial = new_trial(k);
    const std::vector<std::string> reached = Names(trial->RunScenarioPass(static_cast<int>(k), fate));
    const auto prefix = [k](const std::vector<std::string>& all) {
      return std::vector<std::string>(all.begin(), all.begin() + static_cast<long>(std::min(k, all.size())));
    };
    ASSERT_EQ(prefix(reached), prefix(names)) << "the pass went another way than in the reference run";
    trial->ResumeUntilQuiet();
    trial->CheckPromises();
    if (::testing::Test::HasFailure()) return;  // the first point that breaks a promise says enough
  }
}

class CrashPointsTest : public ::testing::TestWithParam<std::tuple<Scenario, WorkerKind, Store>> {};

std::string KilledName(const ::testing::TestParamInfo<CrashPointsTest::ParamType>& info) {
  return std::string(ScenarioName(std::get<0>(info.param))) + WorkerKindName(std::get<1>(info.param)) +
         (std::get<2>(info.param) == Store::kSqlite ? "Sqlite" : "Memory");
}

INSTANTIATE_TEST_SUITE_P(Pass, CrashPointsTest,
                         ::testing::Combine(::testing::Values(Scenario::kTogether, Scenario::kStaggered,
                                                              Scenario::kResumed),
                                            ::testing::Values(WorkerKind::kSpace, WorkerKind::kCommand,
                                                              WorkerKind::kWebhook, WorkerKind::kJob),
                                            ::testing::Values(Store::kMemory, Store::kSqlite)),
                         KilledName);

TEST_P(CrashPointsTest, EveryPromiseHoldsWhereverThePassIsKilled) {
  TryEveryPoint(std::get<0>(GetParam()), std::get<1>(GetParam()), std::get<2>(GetParam()), Fate::kKilled);
}

class LockLostPointsTest : public ::testing::TestWithParam<std::tuple<Scenario, WorkerKind>> {};

std::string LockLostName(const ::testing::TestParamInfo<LockLostPointsTest::ParamType>& info) {
  return std::string(ScenarioName(std::get<0>(info.param))) + WorkerKindName(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(Pass, LockLostPointsTest,
                         ::testing::Combine(::testing::Values(Scenario::kTogether, Scenario::kStaggered,
                                                              Scenario::kResumed),
                                            ::testing::Values(WorkerKind::kSpace, WorkerKind::kCommand,
                                                              WorkerKind::kWebhook, WorkerKind::kJob)),
                         LockLostName);

// On SQLite: the pass stalls at the point past its lease, a rival pass completes meanwhile, and
// the stalled pass carries on; it must neither send nor write anything from there on.
TEST_P(LockLostPointsTest, APassThatLostItsLockAnywhereSendsAndWritesNothingMore) {
  TryEveryPoint(std::get<0>(GetParam()), std::get<1>(GetParam()), Store::kSqlite, Fate::kLockLost);
}

}  // namespace
}  // namespace orch
