// The program's exceptions and exit codes.
//
// Errors travel as exceptions, and each kind carries the exit status it ends the program with,
// so main() turns any failure into the documented code without knowing where it came from.
// Messages say what was wrong and what to do about it; they never contain a secret.
#pragma once

#include <stdexcept>
#include <string>

namespace orch {

// Documented exit statuses (docs/manual.md, "OUTPUT AND EXIT CODES").
enum ExitCode : int {
  kExitOk = 0,       // every label below threshold, dry run, or retrain triggered
  kExitFailed = 1,   // a label timed out or failed, or the database or Hub could not be used
  kExitUsage = 2,    // bad command line or configuration
  kExitLocked = 75,  // another pass holds the run lock (EX_TEMPFAIL: try again later)
  // A pass stopped by a signal exits 128 + the signal: 143 for SIGTERM, 130 for SIGINT.
};

class Error : public std::runtime_error {
 public:
  Error(const std::string& message, int exit_code) : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// Bad command line, configuration value, label name or URL: exit 2, nothing was done.
class ConfigError : public Error {
 public:
  explicit ConfigError(const std::string& message) : Error(message, kExitUsage) {}
};

// The database could not be opened or a query failed.
class DatabaseError : public Error {
 public:
  explicit DatabaseError(const std::string& message) : Error(message, kExitFailed) {}
};

// The run lock was lost while the pass held it (its lease expired and another pass took it, or
// its session ended): the write that found it out was not made, and the pass stops.
class LockLostError : public DatabaseError {
 public:
  explicit LockLostError(const std::string& message) : DatabaseError(message) {}
};

// An HTTP exchange failed in a way the caller cannot recover from.
class HubError : public Error {
 public:
  explicit HubError(const std::string& message) : Error(message, kExitFailed) {}
};

// A reference worker (prepare, retrain, predict) met bad data or could not read or write its files:
// exit 1, and nothing published or deployed is changed.
class WorkerError : public Error {
 public:
  explicit WorkerError(const std::string& message) : Error(message, kExitFailed) {}
};

}  // namespace orch
