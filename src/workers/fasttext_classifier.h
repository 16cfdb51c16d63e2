// A supervised fastText text classifier: train it on labelled rows, predict a class with its
// probability, save it to a file and load it back.
//
// fastText trains from a file, so Train() writes the rows in fastText's format (`__label__<id> <text>`,
// shuffled with the seed, since fastText learns in file order) into a private temporary directory
// that is removed whatever happens. Text goes through one tokenisation for training and prediction
// alike: ASCII letters lower-cased, ASCII punctuation (except '_') and the Devanagari danda turned
// into spaces, a word that looks like a fastText label prefix disarmed, and only the first 1000 words
// kept (fastText reads no more of a line).
//
// fastText reports bad input by throwing (std::invalid_argument, its NaN error) and, for a damaged
// model file, by reading garbage, allocating what a damaged count asks for or crashing; every such
// failure comes out of this class as a WorkerError. A model file is read whole (a regular file of at
// most kMaxModelFileBytes) and checked field by field (fasttext_model_file.h) before fastText sees it.
#pragma once

#include <filesystem>
#include <istream>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "workers/fasttext_model_file.h"
#include "workers/jsonl_dataset.h"

namespace orch {

// The settings a model is trained with.
struct FastTextSettings {
  int epochs = 10;
  double learning_rate = 0.5;
  int word_ngrams = 2;
  int dimension = 50;
  int buckets = 200000;  // hash buckets for the word n-grams (none are used when word_ngrams is 1)
  int threads = 2;       // more than one makes training non-deterministic
  int seed = 0;          // initial weights and the order rows are learnt in
};

struct ClassPrediction {
  int label = 0;
  double probability = 0;
};

class FastTextClassifier {
 public:
  // Trains on `rows`. Throws WorkerError when there are no rows, a setting is out of range, or
  // fastText fails (say, a learning rate so high that training diverges).
  static FastTextClassifier Train(std::span<const SplitRow> rows, const FastTextSettings& settings);
  // Loads a model saved by Save(). Throws WorkerError when the file is missing, not a regular file
  // of at most kMaxModelFileBytes, not a fastText classifier, truncated, damaged (a count or size
  // that does not fit the file) or followed by other bytes, or has classes that are not class ids.
  static FastTextClassifier Load(const std::filesystem::path& file);
  // Load() of a model file's content, `bytes`; `file` names it in errors.
  static FastTextClassifier FromBytes(std::string bytes, const std::string& file);

  FastTextClassifier(FastTextClassifier&&) noexcept;
  FastTextClassifier& operator=(FastTextClassifier&&) noexcept;
  ~FastTextClassifier();

  // Writes the model to `file` (replacing it). Throws WorkerError when it cannot.
  void Save(const std::filesystem::path& file) const;
  // The same model, saved and loaded again: a trained model keeps the word table fastText made for
  // training (120 MB whatever the vocabulary), a loaded one a table sized to its vocabulary. Its
  // settings() stay the trained model's. Throws WorkerError when the model cannot be written to a
  // temporary file or read back.
  FastTextClassifier Reloaded() const;

  // The most likely class of `text` and its probability. Throws WorkerError when fastText fails (a
  // model whose weights make its scores overflow).
  ClassPrediction Predict(std::string_view text) const;
  // The most likely class of each row's text; throws like Predict().
  std::vector<int> PredictLabels(std::span<const SplitRow> rows) const;

  // The settings the model was trained with. fastText's file does not keep the learning rate, the
  // threads and the seed: a loaded model reports fastText's defaults for them (the card keeps them).
  FastTextSettings settings() const;

 private:
  class Model;  // fasttext::FastText with a checked load
  explicit FastTextClassifier(std::unique_ptr<Model> model);
  // Predicts the next line of `in`, which holds FastTextTokens() lines.
  ClassPrediction PredictLine(std::istream& in) const;
  std::unique_ptr<Model> model_;
};

// `text` as the classifier sees it (see the top of this file): tokens separated by single spaces.
std::string FastTextTokens(std::string_view text);

}  // namespace orch
