#include "demo/synthetic_grievances.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "db/application_schema.h"

namespace orch {
namespace {

bool HasDevanagari(const std::string& text) {
  // U+0900..U+097F is E0 A4 80 .. E0 A5 BF in UTF-8.
  for (size_t i = 0; i + 1 < text.size(); ++i)
    if (static_cast<unsigned char>(text[i]) == 0xE0 &&
        (static_cast<unsigned char>(text[i + 1]) == 0xA4 || static_cast<unsigned char>(text[i + 1]) == 0xA5))
      return true;
  return false;
}

bool IsAscii(const std::string& text) {
  for (char c : text)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

size_t IndexIn(std::span<const std::string_view> values, const std::string& value) {
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i] == value) return i;
  return values.size();
}

std::vector<Grievance> Sample(uint64_t seed, size_t count) {
  GrievanceOptions options;
  options.seed = seed;
  return GrievanceGenerator(options).Batch(0, count);
}

TEST(SyntheticGrievances, TheSameSeedGivesTheSameGrievances) {
  const std::vector<Grievance> first = Sample(7, 500);
  const std::vector<Grievance> again = Sample(7, 500);
  ASSERT_EQ(first.size(), 500u);
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].message, again[i].message) << i;
    EXPECT_EQ(first[i].department, again[i].department) << i;
    EXPECT_EQ(first[i].urgency, again[i].urgency) << i;
    EXPECT_EQ(first[i].index, i);
  }
}

TEST(SyntheticGrievances, AGrievanceDependsOnlyOnTheSeedAndItsIndex) {
  GrievanceOptions options;
  options.seed = 7;
  const GrievanceGenerator generator(options);
  const std::vector<Grievance> batch = generator.Batch(1000, 50);  // a batch may start anywhere
  for (size_t i = 0; i < batch.size(); ++i) EXPECT_EQ(batch[i].message, generator.At(1000 + i).message) << i;
}

TEST(SyntheticGrievances, AnotherSeedGivesOtherTexts) {
  const std::vector<Grievance> one = Sample(1, 300);
  const std::vector<Grievance> other = Sample(2, 300);
  int same = 0;
  for (size_t i = 0; i < one.size(); ++i) same += one[i].message == other[i].message ? 1 : 0;
  EXPECT_LT(same, 15);
}

TEST(SyntheticGrievances, MixesNepaliInDevanagariWithEnglishInAscii) {
  const std::vector<Grievance> sample = Sample(3, 4000);
  int nepali = 0;
  for (const Grievance& grievance : sample) {
    if (grievance.language == GrievanceLanguage::kNepali) {
      ++nepali;
      EXPECT_TRUE(HasDevanagari(grievance.message)) << grievance.message;
    } else {
      EXPECT_TRUE(IsAscii(grievance.message)) << grievance.message;
    }
  }
  EXPECT_NEAR(nepali / 4000.0, 0.4, 0.03);
}

TEST(SyntheticGrievances, EveryDepartmentAndUrgencyOccursInBothLanguages) {
  std::set<std::tuple<std::string, std::string, GrievanceLanguage>> seen;
  for (const Grievance& grievance : Sample(4, 5000)) {
    EXPECT_LT(IndexIn(kSchemaDepartments, grievance.department), kSchemaDepartments.size()) << grievance.department;
    EXPECT_LT(IndexIn(kSchemaUrgencies, grievance.urgency), kSchemaUrgencies.size()) << grievance.urgency;
    seen.emplace(grievance.department, grievance.urgency, grievance.language);
  }
  EXPECT_EQ(seen.size(), kSchemaDepartments.size() * kSchemaUrgencies.size() * 2);
}

TEST(SyntheticGrievances, TextsVaryAndCarryTheNoiseOfRealSubmissions) {
  const std::vector<Grievance> sample = Sample(5, 4000);
  std::set<std::string> distinct;
  int urls = 0, tags = 0, line_breaks = 0;
  for (const Grievance& grievance : sample) {
    EXPECT_FALSE(grievance.message.empty());
    distinct.insert(grievance.message);
    urls += Contains(grievance.message, "http") || Contains(grievance.message, "www.") ? 1 : 0;
    tags += Contains(grievance.message, "<") ? 1 : 0;
    line_breaks += Contains(grievance.message, "\n") ? 1 : 0;
  }
  EXPECT_GT(distinct.size(), 3000u);
  // About 15% are noisy, spread over five kinds: each kind shows up, none dominates.
  for (int count : {urls, tags, line_breaks}) {
    EXPECT_GT(count, 40);
    EXPECT_LT(count, 400);
  }
}

TEST(SyntheticGrievances, UrgencyCuesAreUsedInBothLanguages) {
  int immediately = 0, turunta = 0, when_possible = 0;
  for (const Grievance& grievance : Sample(6, 4000)) {
    if (Contains(grievance.message, "immediately")) {
      ++immediately;
      EXPECT_NE(grievance.urgency, "NORMAL") << grievance.message;  // at most one level off
    }
    turunta += Contains(grievance.message, "तुरुन्त") ? 1 : 0;
    when_possible += Contains(grievance.message, "when possible") ? 1 : 0;
  }
  EXPECT_GT(immediately, 0);
  EXPECT_GT(turunta, 0);
  EXPECT_GT(when_possible, 0);
}

// A bag-of-words naive Bayes, trained on one part of the data and scored on another: the texts
// must teach it a good deal, but the ambiguity and noise must keep it from being perfect.
class WordVote {
 public:
  explicit WordVote(size_t classes) : class_counts_(classes, 0), word_totals_(classes, 0) {}

  void Learn(const std::string& text, size_t label) {
    ++class_counts_[label];
    for (const std::string& word : Words(text)) {
      std::vector<int>& counts = word_counts_[word];
      counts.resize(class_counts_.size(), 0);
      ++counts[label];
      ++word_totals_[label];
    }
  }

  size_t Guess(const std::string& text) const {
    std::vector<double> score(class_counts_.size());
    for (size_t c = 0; c < score.size(); ++c) score[c] = std::log(class_counts_[c] + 1.0);
    for (const std::string& word : Words(text)) {
      const auto found = word_counts_.find(word);
      for (size_t c = 0; c < score.size(); ++c) {
        const int count = found == word_counts_.end() ? 0 : found->second[c];
        score[c] += std::log((count + 1.0) / (word_totals_[c] + word_counts_.size() + 1.0));
      }
    }
    return static_cast<size_t>(std::max_element(score.begin(), score.end()) - score.begin());
  }

 private:
  static std::vector<std::string> Words(const std::string& text) {
    std::vector<std::string> words;
    std::string word;
    for (char c : text + " ") {
      const bool separator = c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '.' || c == ',' || c == '!';
      if (!separator) {
        word += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
      } else if (!word.empty()) {
        words.push_back(word);
        word.clear();
      }
    }
    return words;
  }

  std::vector<int> class_counts_;
  std::vector<int> word_totals_;
  std::map<std::string, std::vector<int>> word_counts_;
};

TEST(SyntheticGrievances, AClassifierLearnsMuchButNotEverything) {
  const std::vector<Grievance> sample = Sample(8, 6000);
  WordVote department(kSchemaDepartments.size()), urgency(kSchemaUrgencies.size());
  for (size_t i = 0; i < 5000; ++i) {
    department.Learn(sample[i].message, IndexIn(kSchemaDepartments, sample[i].department));
    urgency.Learn(sample[i].message, IndexIn(kSchemaUrgencies, sample[i].urgency));
  }
  int department_right = 0, urgency_right = 0;
  for (size_t i = 5000; i < sample.size(); ++i) {
    department_right += department.Guess(sample[i].message) == IndexIn(kSchemaDepartments, sample[i].department);
    urgency_right += urgency.Guess(sample[i].message) == IndexIn(kSchemaUrgencies, sample[i].urgency);
  }
  // About 92% for both with the default options: far above the weak model's 65%, below perfect.
  EXPECT_GT(department_right, 850) << "of 1000";
  EXPECT_LT(department_right, 970) << "of 1000";
  EXPECT_GT(urgency_right, 850) << "of 1000";
  EXPECT_LT(urgency_right, 970) << "of 1000";
}

TEST(WeakModel, IsWrongAboutEachLabelAtItsRate) {
  const std::vector<Grievance> sample = Sample(9, 10000);
  WeakModelOptions options;
  options.seed = 9;
  options.department_error_rate = 0.35;
  options.urgency_error_rate = 0.2;
  const WeakModel model(options);
  int department_wrong = 0, urgency_wrong = 0;
  for (const Grievance& grievance : sample) {
    const Prediction prediction = model.Predict(grievance);
    EXPECT_LT(IndexIn(kSchemaDepartments, prediction.department), kSchemaDepartments.size());
    department_wrong += prediction.department != grievance.department ? 1 : 0;
    if (prediction.urgency != grievance.urgency) {
      ++urgency_wrong;
      const int distance = static_cast<int>(IndexIn(kSchemaUrgencies, prediction.urgency)) -
                           static_cast<int>(IndexIn(kSchemaUrgencies, grievance.urgency));
      EXPECT_EQ(std::abs(distance), 1) << prediction.urgency << " for " << grievance.urgency;
    }
  }
  EXPECT_NEAR(department_wrong / 10000.0, 0.35, 0.02);
  EXPECT_NEAR(urgency_wrong / 10000.0, 0.2, 0.02);
}

TEST(WeakModel, IsDeterministicPerSeed) {
  const std::vector<Grievance> sample = Sample(10, 1000);
  WeakModelOptions options;
  options.seed = 10;
  const WeakModel model(options), same(options);
  options.seed = 11;
  const WeakModel other(options);
  int differ_from_other = 0;
  for (const Grievance& grievance : sample) {
    EXPECT_EQ(model.Predict(grievance).department, same.Predict(grievance).department);
    EXPECT_EQ(model.Predict(grievance).urgency, same.Predict(grievance).urgency);
    differ_from_other += model.Predict(grievance).department != other.Predict(grievance).department ? 1 : 0;
  }
  EXPECT_GT(differ_from_other, 100);
}

TEST(WeakModel, RatesOfZeroAndOneAreNeverAndAlwaysWrong) {
  WeakModelOptions perfect;
  perfect.department_error_rate = 0;
  perfect.urgency_error_rate = 0;
  WeakModelOptions hopeless;
  hopeless.department_error_rate = 1;
  hopeless.urgency_error_rate = 1;
  for (const Grievance& grievance : Sample(12, 500)) {
    EXPECT_EQ(WeakModel(perfect).Predict(grievance).department, grievance.department);
    EXPECT_EQ(WeakModel(perfect).Predict(grievance).urgency, grievance.urgency);
    EXPECT_NE(WeakModel(hopeless).Predict(grievance).department, grievance.department);
    EXPECT_NE(WeakModel(hopeless).Predict(grievance).urgency, grievance.urgency);
  }
}

TEST(ReviewSimulation, FollowsTheReviewRules) {
  const std::vector<Grievance> sample = Sample(13, 20000);
  const WeakModel model(WeakModelOptions{13, 0.35, 0.35});
  ReviewOptions options;
  options.seed = 13;
  const ReviewSimulation reviewers(options);
  int wrong = 0, right = 0, corrected = 0, unreviewed = 0, uncorrected = 0, false_alarms = 0;
  for (const Grievance& grievance : sample) {
    const Prediction prediction = model.Predict(grievance);
    const std::optional<MisclassificationReview> row = reviewers.Review(grievance, prediction);
    const bool is_wrong = prediction.department != grievance.department || prediction.urgency != grievance.urgency;
    (is_wrong ? wrong : right) += 1;
    if (!row) continue;
    // The prediction recorded is always the model's.
    EXPECT_EQ(row->predicted_department, prediction.department);
    EXPECT_EQ(row->predicted_urgency, prediction.urgency);
    EXPECT_GE(row->reported_by_admin_id, 1);
    if (!is_wrong) {
      ++false_alarms;
      EXPECT_TRUE(row->reviewed);
      EXPECT_EQ(row->correct_department, prediction.department);
      EXPECT_FALSE(row->CountsFor("department") || row->CountsFor("urgency"));
    } else if (!row->reviewed) {
      ++unreviewed;
      EXPECT_EQ(row->correct_department, grievance.department);  // reported with a correction, not yet reviewed
      EXPECT_FALSE(row->CountsFor("department") || row->CountsFor("urgency"));
    } else if (!row->correct_department) {
      ++uncorrected;
      EXPECT_FALSE(row->correct_urgency);
      EXPECT_FALSE(row->CountsFor("department") || row->CountsFor("urgency"));
    } else {
      ++corrected;
      EXPECT_EQ(row->correct_department, grievance.department);
      EXPECT_EQ(row->correct_urgency, grievance.urgency);
      // A row counts exactly for the labels the model got wrong.
      EXPECT_EQ(row->CountsFor("department"), prediction.department != grievance.department);
      EXPECT_EQ(row->CountsFor("urgency"), prediction.urgency != grievance.urgency);
    }
    EXPECT_FALSE(row->CountsFor("ward"));
  }
  EXPECT_NEAR(static_cast<double>(corrected) / wrong, options.reviewed_share, 0.02);
  EXPECT_NEAR(static_cast<double>(unreviewed) / wrong, options.unreviewed_share, 0.02);
  EXPECT_NEAR(static_cast<double>(uncorrected) / wrong, options.uncorrected_share, 0.01);
  EXPECT_NEAR(static_cast<double>(false_alarms) / right, options.false_alarm_share, 0.005);
  EXPECT_GT(uncorrected, 0);
  EXPECT_GT(false_alarms, 0);
}

TEST(ReviewSimulation, CountsForNeedsAReviewedDifferingCorrection) {
  MisclassificationReview row;
  row.predicted_department = "Security & Law Enforcement";
  row.correct_department = "Education, Health & Social Welfare";
  row.predicted_urgency = "NORMAL";
  row.correct_urgency = "NORMAL";
  row.reviewed = true;
  EXPECT_TRUE(row.CountsFor("department"));
  EXPECT_FALSE(row.CountsFor("urgency"));  // the correction confirms the prediction
  row.predicted_urgency.reset();
  EXPECT_TRUE(row.CountsFor("urgency"));  // a NULL prediction differs from a set correction
  row.reviewed = false;
  EXPECT_FALSE(row.CountsFor("department"));
  row.reviewed = true;
  row.correct_department.reset();
  EXPECT_FALSE(row.CountsFor("department"));
}

}  // namespace
}  // namespace orch
