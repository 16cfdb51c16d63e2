// A Log that several threads may write to: `orchestrator serve` logs from its request threads, its
// snapshot thread and the pass it runs, and each line must come out whole.
#pragma once

#include <mutex>

#include "util/log.h"

namespace orch {

class SerializedLog final : public Log {
 public:
  explicit SerializedLog(Log& inner) : inner_(inner) {}

  void Event(Level level, std::string_view label, std::string_view message, const Fields& fields) override {
    std::lock_guard lock(mutex_);
    inner_.Event(level, label, message, fields);
  }
  void LabelDone(std::string_view label) override {
    std::lock_guard lock(mutex_);
    inner_.LabelDone(label);
  }

 private:
  Log& inner_;
  std::mutex mutex_;
};

}  // namespace orch
