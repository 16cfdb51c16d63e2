// Synthetic citizen grievances for the local demo: what the grievance application would hold after
// running a weak first model for a while and having its reviewers correct some of its mistakes.
//
// Three pieces, each a pure function of a seed and a grievance's index, so the same seed gives the
// same data on any machine, and a batch can start at any index (the demo's second batch continues
// where the first ended):
//   - GrievanceGenerator: the complaint texts, in English and in Nepali (Devanagari), with their
//     true department and urgency (the exact strings of the schema's CHECK constraints). Texts are
//     built from per-department templates and vocabularies with urgency cues, plus some ambiguity
//     (a missing or misleading cue, a mention of another department, an issue two departments
//     share, a text saying nothing) and the noise real submissions carry (a URL, an HTML tag, a
//     line break, shouting), so a text classifier can learn a good deal but not everything.
//   - WeakModel: a deliberately poor first model, wrong at a configurable rate per label.
//   - ReviewSimulation: what the application's reviewers recorded in misclassified_complaints for
//     those mistakes: most reviewed and corrected, some still unreviewed, a few reviewed without a
//     correction, and rare false alarms on correct predictions (the last three never count).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/application_writer.h"

namespace orch {

enum class GrievanceLanguage { kEnglish, kNepali };

struct Grievance {
  uint64_t index = 0;      // its position in the seed's sequence (the demo uses the complaint id)
  std::string message;     // as the citizen submitted it, noise included
  std::string department;  // the true department: one of kSchemaDepartments
  std::string urgency;     // the true urgency: one of kSchemaUrgencies
  GrievanceLanguage language = GrievanceLanguage::kEnglish;
};

struct GrievanceOptions {
  uint64_t seed = 1;
  double nepali_share = 0.4;      // of texts written in Nepali
  double ambiguous_share = 0.25;  // of texts whose wording misleads or says too little
  double noise_share = 0.15;      // of texts with a URL, an HTML tag, a line break or shouting
};

class GrievanceGenerator {
 public:
  explicit GrievanceGenerator(GrievanceOptions options = {});

  // The seed's grievance number `index`: always the same text and labels for the same seed and index.
  Grievance At(uint64_t index) const;
  // Grievances first, first + 1, …, first + count - 1.
  std::vector<Grievance> Batch(uint64_t first, size_t count) const;

 private:
  GrievanceOptions options_;
};

struct WeakModelOptions {
  uint64_t seed = 1;
  double department_error_rate = 0.35;
  double urgency_error_rate = 0.35;
};

struct Prediction {
  std::string department;
  std::string urgency;
};

// Wrong about each label with that label's error rate, independently, and deterministically for a
// seed and a grievance's index. A wrong department is any other department; a wrong urgency is a
// neighbouring level (a weak model confuses NORMAL with URGENT more often than with HIGHLY URGENT).
class WeakModel {
 public:
  explicit WeakModel(WeakModelOptions options = {});
  Prediction Predict(const Grievance& grievance) const;

 private:
  WeakModelOptions options_;
};

struct ReviewOptions {
  uint64_t seed = 1;
  // Of the complaints with at least one wrong label: reviewed with both corrections entered (the
  // rows the orchestrator counts), reported but not reviewed yet, and reviewed with no correction
  // entered. The rest have no row yet.
  double reviewed_share = 0.6;
  double unreviewed_share = 0.15;
  double uncorrected_share = 0.05;
  // Of the complaints the model got right: a reviewer filed a row and confirmed the prediction.
  double false_alarm_share = 0.01;
};

class ReviewSimulation {
 public:
  explicit ReviewSimulation(ReviewOptions options = {});
  // The row the reviewers filed for this complaint so far, if any.
  std::optional<MisclassificationReview> Review(const Grievance& grievance, const Prediction& prediction) const;

 private:
  ReviewOptions options_;
};

}  // namespace orch
