#include "workers/fasttext_classifier.h"

#include <fasttext/args.h>
#include <fasttext/fasttext.h>

#include <charconv>
#include <fstream>
#include <numeric>
#include <optional>
#include <sstream>

#include "config/label_name.h"
#include "util/durable_file.h"
#include "util/error.h"
#include "util/private_temp_dir.h"
#include "workers/fasttext_model_file.h"
#include "workers/stratified_split.h"

namespace orch {
namespace {

constexpr std::string_view kLabelPrefix = "__label__";

// The class id in a fastText label "__label__<id>"; nothing for any other label.
std::optional<int> ClassIdOf(const std::string& label) {
  int id = -1;
  std::string_view digits = std::string_view(label).substr(std::min(label.size(), kLabelPrefix.size()));
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (!label.starts_with(kLabelPrefix) || error != std::errc() || end != digits.data() + digits.size() || id < 0)
    return std::nullopt;
  return id;
}

int ParseLabel(const std::string& label) {
  std::optional<int> id = ClassIdOf(label);
  if (!id)
    throw WorkerError("the model's class " + QuoteForMessage(label) +
                      " is not a class id: it was not trained by orchestrator retrain");
  return *id;
}

}  // namespace

// fastText with a checked load: the signature check and the model version it records are members
// only a derived class can reach.
class FastTextClassifier::Model : public fasttext::FastText {
 public:
  // Loads the model file `bytes` once CheckFastTextModelFile has found it whole and safe to read;
  // `file` names it in errors.
  void LoadChecked(std::string bytes, const std::string& file) {
    CheckFastTextModelFile(bytes, file);
    std::istringstream in(std::move(bytes));
    // Checked already; should a read still fail, it must not load as garbage.
    in.exceptions(std::ios::eofbit | std::ios::failbit | std::ios::badbit);
    if (!checkModel(in)) throw WorkerError(file + " is not a fastText model (or one from a newer fastText)");
    loadModel(in);
    std::shared_ptr<const fasttext::Dictionary> dictionary = getDictionary();
    for (int32_t i = 0; i < dictionary->nlabels(); ++i)
      if (!ClassIdOf(dictionary->getLabel(i)))
        throw WorkerError(file + " has the class " + QuoteForMessage(dictionary->getLabel(i)) +
                          ", not a class id: it was not trained by orchestrator retrain");
  }
  // What a model file does not keep of its training (the learning rate, threads and seed), as
  // `trained` had it: a model loaded again then describes its training as the trained one did.
  void KeepTrainingArgs(const fasttext::Args& trained) {
    args_->lr = trained.lr;
    args_->thread = trained.thread;
    args_->seed = trained.seed;
  }
};

namespace {

namespace fs = std::filesystem;

// fastText reads at most 1024 tokens of a line and leaves the rest for its next read; cutting texts
// shorter keeps every text one line, in training and prediction alike.
constexpr size_t kMaxWords = 1000;

bool IsAsciiPunctuation(unsigned char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`' && c != '_') ||
         (c >= '{' && c <= '~');
}

// What fastText itself splits words on; any other byte belongs to a word.
bool IsFastTextSpace(unsigned char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f' || c == '\0';
}

// U+0964 DEVANAGARI DANDA and U+0965 DOUBLE DANDA, the Nepali full stops.
bool IsDandaAt(std::string_view text, size_t at) {
  return at + 2 < text.size() && static_cast<unsigned char>(text[at]) == 0xE0 &&
         static_cast<unsigned char>(text[at + 1]) == 0xA5 &&
         (static_cast<unsigned char>(text[at + 2]) == 0xA4 || static_cast<unsigned char>(text[at + 2]) == 0xA5);
}

void CheckSettings(const FastTextSettings& settings) {
  auto refuse = [](const std::string& what) { throw WorkerError("cannot train fastText with " + what); };
  if (settings.epochs < 1) refuse("epochs " + std::to_string(settings.epochs) + " (at least 1)");
  if (!(settings.learning_rate > 0)) refuse("a learning rate that is not positive");
  if (settings.word_ngrams < 1) refuse("word n-grams " + std::to_string(settings.word_ngrams) + " (at least 1)");
  if (settings.dimension < 1) refuse("dimension " + std::to_string(settings.dimension) + " (at least 1)");
  if (settings.word_ngrams > 1 && settings.buckets < 1) refuse("word n-grams but no hash buckets");
  if (settings.threads < 1) refuse(std::to_string(settings.threads) + " threads");
}

fasttext::Args TrainingArgs(const FastTextSettings& settings, const fs::path& input) {
  fasttext::Args args;  // the library's defaults are for word vectors; these are `fasttext supervised`'s
  args.input = input.string();
  args.model = fasttext::model_name::sup;
  args.loss = fasttext::loss_name::softmax;
  args.minCount = 1;
  args.minn = 0;
  args.maxn = 0;
  args.epoch = settings.epochs;
  args.lr = settings.learning_rate;
  args.wordNgrams = settings.word_ngrams;
  args.dim = settings.dimension;
  args.bucket = settings.word_ngrams > 1 ? settings.buckets : 0;  // buckets only hold n-grams
  args.thread = settings.threads;
  args.seed = settings.seed;
  args.verbose = 0;
  return args;
}

// Writes the rows in fastText's format, in a seeded random order.
void WriteTrainingFile(std::span<const SplitRow> rows, int seed, const fs::path& file) {
  std::vector<size_t> order(rows.size());
  std::iota(order.begin(), order.end(), size_t{0});
  SeededShuffler(static_cast<uint64_t>(seed)).Shuffle(order);
  std::ofstream out(file, std::ios::binary);
  std::string line;
  for (size_t index : order) {
    const SplitRow& row = rows[index];
    if (row.label < 0) throw WorkerError("cannot train fastText on the negative class id " + std::to_string(row.label));
    line.assign(kLabelPrefix);
    line += std::to_string(row.label);
    line += ' ';
    line += FastTextTokens(row.text);
    line += '\n';
    out << line;
  }
  out.close();
  if (!out) throw WorkerError("cannot write the training file " + file.string() + " (is the disk full?)");
}

}  // namespace

std::string FastTextTokens(std::string_view text) {
  std::string spaced;
  spaced.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (IsFastTextSpace(c) || IsAsciiPunctuation(c)) {
      spaced += ' ';
    } else if (IsDandaAt(text, i)) {
      spaced += ' ';
      i += 2;
    } else {
      spaced += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
  }
  std::string tokens;
  tokens.reserve(spaced.size());
  std::istringstream words(spaced);
  size_t count = 0;
  for (std::string word; count < kMaxWords && words >> word; ++count) {
    if (!tokens.empty()) tokens += ' ';
    // fastText would read such a word as a class; "__label__x" becomes "label__x".
    tokens += word.starts_with(kLabelPrefix) ? word.substr(2) : word;
  }
  return tokens;
}

FastTextClassifier::FastTextClassifier(std::unique_ptr<Model> model) : model_(std::move(model)) {}
FastTextClassifier::FastTextClassifier(FastTextClassifier&&) noexcept = default;
FastTextClassifier& FastTextClassifier::operator=(FastTextClassifier&&) noexcept = default;
FastTextClassifier::~FastTextClassifier() = default;

FastTextClassifier FastTextClassifier::Train(std::span<const SplitRow> rows, const FastTextSettings& settings) {
  if (rows.empty()) throw WorkerError("cannot train fastText on no rows");
  CheckSettings(settings);
  PrivateTempDir directory("orchestrator-fasttext", "the training file");
  fs::path input = directory.path() / "train.txt";
  WriteTrainingFile(rows, settings.seed, input);
  auto model = std::make_unique<Model>();
  try {
    model->train(TrainingArgs(settings, input));
  } catch (const fasttext::DenseMatrix::EncounteredNaNError&) {
    throw WorkerError("fastText could not train: training diverged (the learning rate " +
                      std::to_string(settings.learning_rate) + " is too high for this data)");
  } catch (const std::exception& error) {
    throw WorkerError(std::string("fastText could not train: ") + error.what());
  }
  return FastTextClassifier(std::move(model));
}

FastTextClassifier FastTextClassifier::Load(const fs::path& file) {
  std::optional<std::string> bytes = ReadRegularFile(file, kMaxModelFileBytes, "the model file");
  if (!bytes) throw WorkerError("the model file " + file.string() + " is missing");
  return FromBytes(std::move(*bytes), file.string());
}

FastTextClassifier FastTextClassifier::FromBytes(std::string bytes, const std::string& file) {
  auto model = std::make_unique<Model>();
  try {
    model->LoadChecked(std::move(bytes), file);
  } catch (const WorkerError&) {
    throw;
  } catch (const std::exception& failure) {  // what the checks did not foresee, out of memory included
    throw WorkerError("cannot load the model " + file + ": " + failure.what());
  }
  return FastTextClassifier(std::move(model));
}

FastTextClassifier FastTextClassifier::Reloaded() const {
  PrivateTempDir directory("orchestrator-fasttext", "a model to load again");
  const fs::path file = directory.path() / "model.bin";
  Save(file);
  FastTextClassifier reloaded = Load(file);
  reloaded.model_->KeepTrainingArgs(model_->getArgs());
  return reloaded;
}

void FastTextClassifier::Save(const fs::path& file) const {
  try {
    model_->saveModel(file.string());
  } catch (const std::exception& error) {
    throw WorkerError("cannot save the model to " + file.string() + ": " + error.what());
  }
}

ClassPrediction FastTextClassifier::Predict(std::string_view text) const {
  std::istringstream line(FastTextTokens(text) + "\n");
  return PredictLine(line);
}

std::vector<int> FastTextClassifier::PredictLabels(std::span<const SplitRow> rows) const {
  // One stream of every row, one line each: fastText reads a line per prediction.
  std::string lines;
  for (const SplitRow& row : rows) lines += FastTextTokens(row.text) + "\n";
  std::istringstream in(lines);
  std::vector<int> labels;
  labels.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) labels.push_back(PredictLine(in).label);
  return labels;
}

ClassPrediction FastTextClassifier::PredictLine(std::istream& in) const {
  std::vector<std::pair<fasttext::real, std::string>> predictions;
  try {
    model_->predictLine(in, predictions, 1, 0.0);
  } catch (const fasttext::DenseMatrix::EncounteredNaNError&) {
    throw WorkerError(
        "the model computed a score that is not a number: its weights are damaged; retrain to replace it");
  } catch (const std::exception& error) {
    throw WorkerError(std::string("fastText could not classify a text: ") + error.what());
  }
  if (!predictions.empty()) return {ParseLabel(predictions.front().second), predictions.front().first};
  // No word at all: answer the most frequent class (fastText sorts classes by count) with its share.
  std::shared_ptr<const fasttext::Dictionary> dictionary = model_->getDictionary();
  std::vector<int64_t> counts = dictionary->getCounts(fasttext::entry_type::label);
  int64_t total = std::accumulate(counts.begin(), counts.end(), int64_t{0});
  return {ParseLabel(dictionary->getLabel(0)),
          total > 0 ? static_cast<double>(counts.front()) / static_cast<double>(total) : 0.0};
}

FastTextSettings FastTextClassifier::settings() const {
  fasttext::Args args = model_->getArgs();
  return {.epochs = args.epoch,
          .learning_rate = args.lr,
          .word_ngrams = args.wordNgrams,
          .dimension = args.dim,
          .buckets = args.bucket,
          .threads = args.thread,
          .seed = args.seed};
}

}  // namespace orch
