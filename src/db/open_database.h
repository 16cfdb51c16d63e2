// Opening the application's database named by DATABASE_URL, on whichever engine it names.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "config/database_url.h"
#include "db/database.h"
#include "db/state_store.h"

namespace orch {

// Connects to PostgreSQL or opens the SQLite file, read-only. Throws DatabaseError when the
// database cannot be used; the message names it by its redacted URL or path.
std::unique_ptr<Database> OpenDatabase(const DatabaseUrl& url);

// Everything a pass needs from its database: the counts, the state, and the run lock.
struct PassDatabases {
  std::unique_ptr<Database> counts;
  std::unique_ptr<StateStore> state;
  std::unique_ptr<RunLock> lock;  // null when not asked for (a dry run takes no lock)
};

// Opens what a pass needs. On PostgreSQL all three share one connection, named after `holder` so
// a pass that finds the lock taken can say who holds it; on SQLite each opens the file its own way
// (the counts read-only). `name` keys the lock; `lease` is how long a SQLite lease lasts.
PassDatabases OpenPassDatabases(const DatabaseUrl& url, bool with_lock, const std::string& name,
                                const std::string& holder, std::chrono::seconds lease);

}  // namespace orch
