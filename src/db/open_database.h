// Opening the application's database named by DATABASE_URL, on whichever engine it names.
#pragma once

#include <memory>

#include "config/database_url.h"
#include "db/database.h"

namespace orch {

// Connects to PostgreSQL or opens the SQLite file, read-only. Throws DatabaseError when the
// database cannot be used; the message names it by its redacted URL or path.
std::unique_ptr<Database> OpenDatabase(const DatabaseUrl& url);

}  // namespace orch
