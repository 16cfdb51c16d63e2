// The smallest hyperparameter search that still trains a model worth comparing: one setting, tiny
// vectors, one thread, a fixed seed. For tests that need a retrain to happen, not to be good.
#pragma once

#include "workers/retrain.h"

namespace orch::testing {

inline SearchSpace TinySearch() {
  return {.word_ngrams = {1},
          .learning_rates = {0.5},
          .epochs = {5},
          .dimension = 8,
          .buckets = 1000,
          .threads = 1,
          .seed = 1,
          .first_round_rows = 1000,
          .screening_validation_rows = 100};
}

}  // namespace orch::testing
