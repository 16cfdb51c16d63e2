// How well a classifier's predictions match the truth: macro-F1 and accuracy.
//
// The retrain worker compares a new model with the deployed one by macro-F1 on the same test split:
// the unweighted mean of the per-class F1 scores, so a rare class weighs as much as a common one.
// Classes are the ids that occur in the truth or in the predictions; a class with no true positive
// scores 0 (scikit-learn's f1_score(average="macro") with its default zero_division gives the same).
#pragma once

#include <span>

namespace orch {

struct ClassificationScores {
  double macro_f1 = 0;
  double accuracy = 0;
};

// Scores `predicted` against `truth`, element by element. Throws WorkerError when the two differ
// in length or are empty.
ClassificationScores ScoreClassification(std::span<const int> truth, std::span<const int> predicted);

}  // namespace orch
