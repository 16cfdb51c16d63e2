#include "workers/classification_metrics.h"

#include <map>
#include <string>

#include "util/error.h"

namespace orch {
namespace {

struct ClassCounts {
  long true_positives = 0;
  long false_positives = 0;
  long false_negatives = 0;
};

double F1(const ClassCounts& counts) {
  // F1 = 2TP / (2TP + FP + FN); the denominator is positive for every class that occurs at all.
  long denominator = 2 * counts.true_positives + counts.false_positives + counts.false_negatives;
  return denominator == 0 ? 0.0 : 2.0 * static_cast<double>(counts.true_positives) / static_cast<double>(denominator);
}

}  // namespace

ClassificationScores ScoreClassification(std::span<const int> truth, std::span<const int> predicted) {
  if (truth.size() != predicted.size())
    throw WorkerError("cannot score " + std::to_string(predicted.size()) + " predictions against " +
                      std::to_string(truth.size()) + " true labels");
  if (truth.empty()) throw WorkerError("cannot score a classifier on no rows");
  std::map<int, ClassCounts> classes;
  long correct = 0;
  for (size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] == predicted[i]) {
      ++correct;
      ++classes[truth[i]].true_positives;
    } else {
      ++classes[truth[i]].false_negatives;
      ++classes[predicted[i]].false_positives;
    }
  }
  double f1_sum = 0;
  for (const auto& [id, counts] : classes) f1_sum += F1(counts);
  return {.macro_f1 = f1_sum / static_cast<double>(classes.size()),
          .accuracy = static_cast<double>(correct) / static_cast<double>(truth.size())};
}

}  // namespace orch
