// What an action throws, for tests that check the message a failure gives.
#pragma once

#include <string>

#include "util/error.h"

namespace orch::testing {

// The message of the `E` that `action` throws; "" when it throws none.
template <typename E, typename Action>
std::string MessageOf(Action&& action) {
  try {
    action();
  } catch (const E& error) {
    return error.what();
  }
  return "";
}

// The message of the WorkerError that `action` throws; "" when it throws none.
template <typename Action>
std::string WorkerErrorOf(Action&& action) {
  return MessageOf<WorkerError>(action);
}

// The message of the DatabaseError that `action` throws; "" when it throws none.
template <typename Action>
std::string DatabaseErrorOf(Action&& action) {
  return MessageOf<DatabaseError>(action);
}

}  // namespace orch::testing
