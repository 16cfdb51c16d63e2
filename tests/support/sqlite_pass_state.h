// A pass's run lock and state store on a real SQLite file, wired as OpenPassDatabases wires them
// (every label state write fenced by the lease, in its own transaction), with the lease read on
// the test's clock, so that a lease expires when the test moves the clock past it.
#pragma once

#include <chrono>
#include <string>

#include "db/sqlite_run_lock.h"
#include "db/sqlite_state_store.h"
#include "util/clock.h"

namespace orch::testing {

struct SqlitePassState {
  // `path`: a file the orchestrator's migrations have run on; `holder`: who this pass is.
  SqlitePassState(const std::string& path, const std::string& holder, Clock& clock,
                  std::chrono::seconds lease = std::chrono::seconds(60))
      : lock(path, "main", holder, lease, nullptr, [&clock] { return clock.WallNow(); }), state(path) {
    state.SetFence([this](SqliteSession& session) { lock.CheckHeldIn(session); });
  }
  SqlitePassState(const SqlitePassState&) = delete;
  SqlitePassState& operator=(const SqlitePassState&) = delete;

  SqliteRunLock lock;
  SqliteStateStore state;  // fenced by `lock` (declared after it, so it goes first)
};

}  // namespace orch::testing
