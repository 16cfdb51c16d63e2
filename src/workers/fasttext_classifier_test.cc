#include "workers/fasttext_classifier.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "support/error_of.h"
#include "support/subprocess.h"
#include "support/temp_dir.h"
#include "util/error.h"

namespace orch {
namespace {

using testing::WorkerErrorOf;

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

// Three classes, each with its own words (English and Nepali) among words every class uses.
std::vector<SplitRow> Rows(size_t count, uint32_t seed) {
  const std::vector<std::vector<std::string>> own = {{"road", "pothole", "bridge", "सडक", "पुल"},
                                                     {"school", "teacher", "hospital", "विद्यालय", "अस्पताल"},
                                                     {"police", "theft", "fight", "प्रहरी", "चोरी"}};
  const std::vector<std::string> shared = {"please", "ward", "our", "हाम्रो", "समस्या", "help", "since", "days"};
  std::mt19937 random(seed);
  std::vector<SplitRow> rows;
  for (size_t i = 0; i < count; ++i) {
    int label = static_cast<int>(i % own.size());
    std::string text;
    for (int word = 0; word < 6; ++word) {
      const std::vector<std::string>& pool = word % 2 == 0 ? own[label] : shared;
      text += (text.empty() ? "" : " ") + pool[random() % pool.size()];
    }
    rows.push_back({text, label});
  }
  return rows;
}

FastTextSettings QuickSettings() {
  return {
      .epochs = 10, .learning_rate = 0.5, .word_ngrams = 2, .dimension = 16, .buckets = 10000, .threads = 1, .seed = 7};
}

double Accuracy(const FastTextClassifier& model, const std::vector<SplitRow>& rows) {
  std::vector<int> predicted = model.PredictLabels(rows);
  size_t right = 0;
  for (size_t i = 0; i < rows.size(); ++i) right += predicted[i] == rows[i].label;
  return static_cast<double>(right) / static_cast<double>(rows.size());
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(FastTextClassifier, LearnsSeparableClasses) {
  FastTextClassifier model = FastTextClassifier::Train(Rows(300, 1), QuickSettings());
  EXPECT_GE(Accuracy(model, Rows(90, 2)), 0.95);
  ClassPrediction prediction = model.Predict("the pothole on our road");
  EXPECT_EQ(prediction.label, 0);
  EXPECT_GT(prediction.probability, 0.5);
  EXPECT_LE(prediction.probability, 1.0);
  EXPECT_EQ(model.Predict("प्रहरी चोरी").label, 2);
}

TEST(FastTextClassifier, OneThreadAndASeedGiveTheSameModel) {
  FastTextClassifier first = FastTextClassifier::Train(Rows(150, 1), QuickSettings());
  FastTextClassifier second = FastTextClassifier::Train(Rows(150, 1), QuickSettings());
  for (const char* text : {"road school", "help", "theft teacher bridge"})
    EXPECT_DOUBLE_EQ(first.Predict(text).probability, second.Predict(text).probability) << text;
}

TEST(FastTextClassifier, SavesAndLoads) {
  TempDir dir("orch-fasttext");
  FastTextClassifier model = FastTextClassifier::Train(Rows(150, 1), QuickSettings());
  fs::path file = dir.path() / "model.bin";
  model.Save(file);
  FastTextClassifier loaded = FastTextClassifier::Load(file);
  for (const SplitRow& row : Rows(30, 3)) {
    EXPECT_EQ(loaded.Predict(row.text).label, model.Predict(row.text).label);
    EXPECT_FLOAT_EQ(loaded.Predict(row.text).probability, model.Predict(row.text).probability);
  }
  EXPECT_DOUBLE_EQ(model.settings().learning_rate, 0.5);
  EXPECT_EQ(model.settings().seed, 7);
  FastTextSettings settings = loaded.settings();  // what fastText's file keeps
  EXPECT_EQ(settings.epochs, 10);
  EXPECT_EQ(settings.word_ngrams, 2);
  EXPECT_EQ(settings.dimension, 16);
  EXPECT_EQ(settings.buckets, 10000);
}

TEST(FastTextClassifier, AModelLoadedAgainPredictsAndDescribesItselfAsTheTrainedOne) {
  FastTextSettings trained_with = QuickSettings();
  trained_with.learning_rate = 0.7;
  trained_with.seed = 11;
  const FastTextClassifier model = FastTextClassifier::Train(Rows(150, 1), trained_with);
  const FastTextClassifier reloaded = model.Reloaded();
  for (const SplitRow& row : Rows(30, 3)) {
    EXPECT_EQ(reloaded.Predict(row.text).label, model.Predict(row.text).label);
    EXPECT_FLOAT_EQ(reloaded.Predict(row.text).probability, model.Predict(row.text).probability);
  }
  const FastTextSettings settings = reloaded.settings();
  EXPECT_EQ(settings.epochs, 10);
  EXPECT_DOUBLE_EQ(settings.learning_rate, 0.7) << "not in the file: kept from the training";
  EXPECT_EQ(settings.word_ngrams, 2);
  EXPECT_EQ(settings.dimension, 16);
  EXPECT_EQ(settings.buckets, 10000);
  EXPECT_EQ(settings.threads, 1);
  EXPECT_EQ(settings.seed, 11);
}

TEST(FastTextClassifier, UnigramModelsHaveNoBuckets) {
  FastTextSettings settings = QuickSettings();
  settings.word_ngrams = 1;
  EXPECT_EQ(FastTextClassifier::Train(Rows(60, 1), settings).settings().buckets, 0);
}

TEST(FastTextClassifier, RefusesDamagedModelFiles) {
  TempDir dir("orch-fasttext");
  fs::path file = dir.path() / "model.bin";
  EXPECT_TRUE(Contains(WorkerErrorOf([&] { FastTextClassifier::Load(file); }), "is missing"));

  WriteFile(file.string(), "this is not a model at all");
  EXPECT_TRUE(Contains(WorkerErrorOf([&] { FastTextClassifier::Load(file); }), "is not a fastText model"));

  FastTextClassifier::Train(Rows(60, 1), QuickSettings()).Save(file);
  std::string whole = ReadFile(file.string());
  for (size_t length : {size_t{12}, size_t{200}, whole.size() / 2, whole.size() - 1}) {
    WriteFile(file.string(), whole.substr(0, length));
    EXPECT_TRUE(Contains(WorkerErrorOf([&] { FastTextClassifier::Load(file); }), "is truncated")) << length << " bytes";
  }
  WriteFile(file.string(), whole + "extra");
  EXPECT_TRUE(Contains(WorkerErrorOf([&] { FastTextClassifier::Load(file); }), "has bytes after the model"));
  WriteFile(file.string(), whole);
  EXPECT_NO_THROW(FastTextClassifier::Load(file));
}

TEST(FastTextClassifier, RefusesModelsWithOtherClasses) {
  if (access("/usr/bin/fasttext", X_OK) != 0)
    GTEST_SKIP() << "the fasttext tool (Debian package fasttext) is not installed";
  TempDir dir("orch-fasttext");
  WriteFile(dir.File("train.txt"), "__label__road pothole bridge\n__label__school teacher\n");
  testing::ProcessResult trained =
      testing::Subprocess::Run({"/usr/bin/fasttext", "supervised", "-input", "train.txt", "-output", "model", "-epoch",
                                "1", "-dim", "4", "-thread", "1", "-verbose", "0"},
                               {}, dir.path().string(), std::chrono::seconds(60));
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  EXPECT_TRUE(Contains(WorkerErrorOf([&] { FastTextClassifier::Load(dir.path() / "model.bin"); }),
                       "has the class \"__label__road\", not a class id"));
}

TEST(FastTextClassifier, RefusesWhatFastTextWouldChokeOn) {
  std::vector<SplitRow> none;
  EXPECT_TRUE(Contains(WorkerErrorOf([&] { FastTextClassifier::Train(none, QuickSettings()); }), "no rows"));
  FastTextSettings settings = QuickSettings();
  settings.epochs = 0;
  EXPECT_TRUE(Contains(WorkerErrorOf([&] { FastTextClassifier::Train(Rows(30, 1), settings); }), "epochs 0"));
  settings = QuickSettings();
  settings.learning_rate = 0;
  EXPECT_THROW(FastTextClassifier::Train(Rows(30, 1), settings), WorkerError);
  std::vector<SplitRow> negative = {{"a b", -1}};
  EXPECT_THROW(FastTextClassifier::Train(negative, QuickSettings()), WorkerError);
}

TEST(FastTextClassifier, ADivergingTrainingIsAWorkerError) {
  FastTextSettings settings = QuickSettings();
  settings.learning_rate = 1e30;
  EXPECT_TRUE(Contains(WorkerErrorOf([&] { FastTextClassifier::Train(Rows(60, 1), settings); }), "training diverged"));
}

TEST(FastTextClassifier, EmptyTextsStillGetAClass) {
  std::vector<SplitRow> rows = {{"", 0}, {"", 0}, {"road", 1}};
  FastTextClassifier model = FastTextClassifier::Train(rows, QuickSettings());
  ClassPrediction prediction = model.Predict("");
  EXPECT_TRUE(prediction.label == 0 || prediction.label == 1);
  EXPECT_GT(prediction.probability, 0.0);
}

TEST(FastTextClassifier, TextCannotPoseAsAClass) {
  // Every text of class 0 carries a word spelled like fastText's class prefix.
  std::vector<SplitRow> rows = Rows(120, 1);
  for (SplitRow& row : rows)
    if (row.label == 0) row.text += " __label__7";
  FastTextClassifier model = FastTextClassifier::Train(rows, QuickSettings());
  std::set<int> predicted;
  for (int label : model.PredictLabels(rows)) predicted.insert(label);
  EXPECT_EQ(predicted, (std::set<int>{0, 1, 2}));
  EXPECT_EQ(model.Predict("__label__7").label, 0);
}

TEST(FastTextClassifier, TokensAreLowerCasedAndSplitOnPunctuation) {
  EXPECT_EQ(FastTextTokens("  The ROAD, near (ward-5)!\tis broken.\n"), "the road near ward 5 is broken");
  EXPECT_EQ(FastTextTokens("सडक बिग्रियो। धन्यवाद॥"), "सडक बिग्रियो धन्यवाद");
  EXPECT_EQ(FastTextTokens("snake_case __label__3 x"), "snake_case label__3 x");
  EXPECT_EQ(FastTextTokens(""), "");
  std::string long_text;
  for (int i = 0; i < 1500; ++i) long_text += "w ";
  EXPECT_EQ(FastTextTokens(long_text).size(), 1000u * 2 - 1);
}

TEST(FastTextClassifier, AVeryLongTextIsOnePrediction) {
  FastTextClassifier model = FastTextClassifier::Train(Rows(90, 1), QuickSettings());
  std::string long_text;
  for (int i = 0; i < 3000; ++i) long_text += "school ";
  std::vector<SplitRow> rows = {{long_text, 1}, {"police theft", 2}, {"road pothole", 0}};
  EXPECT_EQ(model.PredictLabels(rows), (std::vector<int>{1, 2, 0}));
}

}  // namespace
}  // namespace orch
