// Opening the database named by DATABASE_URL: the one place that chooses between PostgreSQL and
// SQLite. Everything above db/ sees only the interfaces (Database, StateStore, RunLock,
// TrainingRows, ApplicationWriter), never libpq or sqlite3.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "config/database_url.h"
#include "db/application_writer.h"
#include "db/database.h"
#include "db/state_store.h"
#include "db/training_rows.h"
#include "util/cancellation.h"

namespace orch {

// Connects to PostgreSQL or opens the SQLite file, read-only. Throws DatabaseError when the
// database cannot be used; the message names it by its redacted URL or path.
std::unique_ptr<Database> OpenDatabase(const DatabaseUrl& url);

// A read-write connection for the orchestrator's tables.
std::unique_ptr<StateStore> OpenStateStore(const DatabaseUrl& url);

// `name` keys the lock (ORCHESTRATOR_NAME); `holder` describes this process ("host:pid");
// `lease` is how long a SQLite lease lasts without renewal.
std::unique_ptr<RunLock> OpenRunLock(const DatabaseUrl& url, const std::string& name, const std::string& holder,
                                     std::chrono::seconds lease);

// The prepare worker's reader: a read-only PostgreSQL session, or the SQLite file read-only.
std::unique_ptr<TrainingRows> OpenTrainingRows(const DatabaseUrl& url);

// The demo's and the tests' writer of the application's tables (SQLite: the file is created when
// missing, not its directory).
std::unique_ptr<ApplicationWriter> OpenApplicationWriter(const DatabaseUrl& url);

// Everything a pass needs from its database: the counts, the state, and the run lock.
struct PassDatabases {
  std::unique_ptr<Database> counts;
  std::unique_ptr<RunLock> lock;      // null when not asked for (a dry run takes no lock)
  std::unique_ptr<StateStore> state;  // fenced by `lock` (declared after it, so it goes first)
};

// Opens what a pass needs. On PostgreSQL all three share one connection, named after `holder` so
// a pass that finds the lock taken can say who holds it, and a state write can only be made while
// the session that holds the lock lives; on SQLite each opens the file its own way (the counts
// read-only), and every state write checks the lease in its own transaction (a LockLostError
// once another pass took it). `name` keys the lock; `lease` is how long a SQLite lease lasts.
// Once `cancellation` is set, connecting, a statement that runs on and a wait for a lock are given
// up after their second (see PgSession and SqliteSession).
PassDatabases OpenPassDatabases(const DatabaseUrl& url, bool with_lock, const std::string& name,
                                const std::string& holder, std::chrono::seconds lease,
                                const Cancellation* cancellation = nullptr);

}  // namespace orch
