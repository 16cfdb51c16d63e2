// What starts the workers: the prepare-dataset worker and each label's retrain worker.
//
// A target names a worker, e.g. "owner/name" or "hf-space:owner/name" for a Hugging Face Space.
// Starting returns as soon as the worker has been asked to run (a Space restart, a Job created),
// and Inspect tells later whether it is still healthy, so the engine can stop waiting for a worker
// that died. A worker whose starts are runs of their own (a Hugging Face Job) names each run: the
// engine records the run's id with the label's state and hands it back to Inspect, with the
// request's idempotency key, by which such a worker finds a run whose id was never received.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/clock.h"

namespace orch {

struct StartRequest {
  std::string target;            // the worker
  std::string label;             // the label concerned (comma-separated for the prepare worker of several)
  int64_t required_len = 0;      // the dataset length wanted
  std::string baseline_version;  // the version_tag before this cycle ("" when none)
  std::string dataset_version;   // the version to retrain ("" for the prepare worker)
  // The same for every repeat of one request (see IdempotencyKey): a worker or receiver that has
  // seen it already can drop the repeat.
  std::string idempotency_key;
};

// A key derived from the label(s) and the dataset version concerned (for a prepare request, what
// identifies its cycle): 32 hex digits.
std::string IdempotencyKey(std::string_view label, std::string_view version);

struct StartResult {
  StartResult() = default;
  StartResult(bool ok_, std::string detail_, bool maybe_started_ = false, std::string run_id_ = "")
      : ok(ok_), detail(std::move(detail_)), maybe_started(maybe_started_), run_id(std::move(run_id_)) {}

  bool ok = false;
  std::string detail;  // the worker's answer ("stage BUILDING") or the reason it failed
  // When not ok: whether the request may still have reached the worker (the connection broke
  // after it was sent), so that only asking the worker can tell. False: certainly not started.
  bool maybe_started = false;
  // When ok, for a worker whose starts are runs of their own: the run's id ("namespace/job id" for
  // a Job); "" for the others.
  std::string run_id;
};

// One worker the engine asks about, with what finds the run it cares about.
struct WorkerRef {
  std::string target{};  // the worker
  std::string label{};   // the label(s) of the request, as in StartRequest::label
  bool prepare = false;  // the prepare worker (else the label's retrain worker): whose settings apply
  std::string run_id{};  // the run a start recorded ("" when none was received)
  // The key of the request the run was started for (see IdempotencyKey): finds a run whose id was
  // never received, and tells that none was started.
  std::string idempotency_key{};
  // A failed run's detail also gives the last lines of its log, when the worker keeps one.
  bool with_log = false;
};

struct WorkerState {
  enum class Health {
    kActive,    // building, starting or running
    kFinished,  // stopped or paused by itself
    kFailed,    // build/runtime/config error, or the worker does not exist
    kUnknown,   // could not be asked (network); try again later
  };
  // How the health is known, which says how far to trust kFinished.
  enum class Evidence {
    kStage,    // a runtime stage: right after a start it may still show the run before
    kProcess,  // the process itself: its exit is certain
    kNone,     // the worker cannot be observed (kFinished means "nothing to wait for")
  };
  // Whether the worker received the request of WorkerRef::idempotency_key: only a worker that keeps
  // its runs with their requests' keys (a Job's labels) can tell.
  enum class Request {
    kUnknown,      // it cannot tell, or could not be asked
    kReceived,     // a run was started for it (run_id names it)
    kNotReceived,  // the worker answered, and no run was ever started for it
  };
  WorkerState() = default;
  WorkerState(Health health_, std::string detail_, std::string decision_ = "", Evidence evidence_ = Evidence::kStage)
      : health(health_), detail(std::move(detail_)), decision(std::move(decision_)), evidence(evidence_) {}

  Health health = Health::kUnknown;
  std::string detail;    // e.g. "stage RUNTIME_ERROR"
  std::string decision;  // a finished worker's decision record (JSON), when it reports one
  Evidence evidence = Evidence::kStage;
  Request request = Request::kUnknown;
  std::string run_id;  // the run the state is of, when the worker names its runs
};

class Trigger {
 public:
  virtual ~Trigger() = default;
  // Starts (or restarts) each requested worker, concurrently. Result i belongs to requests[i].
  virtual std::vector<StartResult> Start(std::span<const StartRequest> requests) = 0;
  // Asks each worker how it is doing, within `budget` (a worker that does not answer in time is
  // kUnknown). Result i belongs to workers[i].
  virtual std::vector<WorkerState> Inspect(std::span<const WorkerRef> workers, TimeBudget budget) = 0;
};

}  // namespace orch
