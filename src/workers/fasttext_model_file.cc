#include "workers/fasttext_model_file.h"

#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "util/error.h"

namespace orch {
namespace {

// fastText 0.9's numbers as its files hold them (fasttext.cc, args.h, dictionary.h).
constexpr int32_t kMagic = 793712314;  // FASTTEXT_FILEFORMAT_MAGIC_INT32
constexpr int32_t kOldVersion = 11;
constexpr int32_t kVersion = 12;  // FASTTEXT_VERSION
constexpr int32_t kModelCbow = 1;
constexpr int32_t kModelSkipgram = 2;
constexpr int32_t kModelSupervised = 3;
constexpr int32_t kLossSoftmax = 3;
constexpr int8_t kEntryWord = 0;
constexpr int8_t kEntryLabel = 1;
// fastText reads at most 1024 words of a line (Dictionary::MAX_LINE_SIZE): longer n-grams never occur.
constexpr int32_t kMaxWordNgrams = 1024;

// The settings fastText's Args::save writes: twelve int32 fields, then a double.
enum ArgsField { kDim, kWs, kEpoch, kMinCount, kNeg, kWordNgrams, kLoss, kModel, kBucket, kMinn, kMaxn, kLrUpdateRate };
constexpr int kArgsInts = 12;

// Reads a model file's fields in order, each only when the bytes for it remain.
class ModelFileReader {
 public:
  ModelFileReader(std::string_view bytes, const std::string& file) : bytes_(bytes), file_(file) {}

  uint64_t offset() const { return offset_; }
  uint64_t remaining() const { return bytes_.size() - offset_; }

  template <typename T>
  T Read(const std::string& inside) {
    if (remaining() < sizeof(T)) Truncated(inside);
    T value;
    std::memcpy(&value, bytes_.data() + offset_, sizeof(T));
    offset_ += sizeof(T);
    return value;
  }

  // Skips a NUL-terminated dictionary word.
  void SkipWord(const std::string& inside) {
    const void* end = std::memchr(bytes_.data() + offset_, '\0', remaining());
    if (end == nullptr) Truncated(inside);
    offset_ = static_cast<uint64_t>(static_cast<const char*>(end) - bytes_.data()) + 1;
  }

  // Checks a DenseMatrix's rows × columns floats: all there, and all finite (fastText never saves
  // anything else: training stops at the first NaN).
  void CheckMatrixData(const std::string& name, int64_t rows, int64_t columns) {
    const uint64_t row_bytes = static_cast<uint64_t>(columns) * sizeof(float);
    if (row_bytes > 0 && static_cast<uint64_t>(rows) > remaining() / row_bytes) Truncated(name);
    const uint64_t values = static_cast<uint64_t>(rows) * static_cast<uint64_t>(columns);
    for (uint64_t i = 0; i < values; ++i, offset_ += sizeof(float)) {
      float value;
      std::memcpy(&value, bytes_.data() + offset_, sizeof value);
      if (!std::isfinite(value))
        Damaged(name + " holds a value that is not a finite number (row " +
                    std::to_string(i / static_cast<uint64_t>(columns) + 1) + ", column " +
                    std::to_string(i % static_cast<uint64_t>(columns) + 1) + ")",
                offset_);
    }
  }

  [[noreturn]] void Damaged(const std::string& problem, uint64_t at) const {
    throw WorkerError(file_ + " is damaged: " + problem + " (at byte " + std::to_string(at) + ")");
  }

  // Throws WorkerError("<file> <what>").
  [[noreturn]] void Refuse(const std::string& what) const { throw WorkerError(file_ + " " + what); }

  [[noreturn]] void NotOurs(const std::string& what) const {
    Refuse(what +
           ": orchestrator retrain never makes such a model, so the file is damaged or was not made by "
           "orchestrator retrain");
  }

 private:
  [[noreturn]] void Truncated(const std::string& inside) const {
    throw WorkerError(file_ + " is truncated: its " + std::to_string(bytes_.size()) + " bytes end inside " + inside +
                      ", so the model was not completely written, or a count before that point is damaged");
  }

  std::string_view bytes_;
  const std::string& file_;
  uint64_t offset_ = 0;
};

std::string LossName(int32_t loss) {
  switch (loss) {
    case 1: return "hierarchical softmax";
    case 2: return "negative sampling";
    case 4: return "one-vs-all";
    default: return "";
  }
}

// Checks the settings; returns them.
std::array<int32_t, kArgsInts> CheckSettings(ModelFileReader& in, int32_t version) {
  const uint64_t start = in.offset();
  std::array<int32_t, kArgsInts> args{};
  for (int32_t& field : args) field = in.Read<int32_t>("its settings");
  in.Read<double>("its settings");  // t, the sampling threshold: training only
  auto at = [start](ArgsField field) { return start + sizeof(int32_t) * static_cast<uint64_t>(field); };
  const int32_t model = args[kModel];
  if (model == kModelCbow || model == kModelSkipgram) in.Refuse("is a fastText word-vector model, not a classifier");
  if (model != kModelSupervised)
    in.Damaged("its kind of model is " + std::to_string(model) + ", where a classifier has " +
                   std::to_string(kModelSupervised),
               at(kModel));
  if (args[kLoss] != kLossSoftmax) {
    if (!LossName(args[kLoss]).empty()) in.NotOurs("uses fastText's " + LossName(args[kLoss]) + " loss");
    in.Damaged("its loss is " + std::to_string(args[kLoss]) + ", which fastText does not know", at(kLoss));
  }
  if (args[kDim] < 1) in.Damaged("its dimension is " + std::to_string(args[kDim]), at(kDim));
  if (args[kWordNgrams] < 1 || args[kWordNgrams] > kMaxWordNgrams)
    in.Damaged("its word n-gram length is " + std::to_string(args[kWordNgrams]) + ", not from 1 to " +
                   std::to_string(kMaxWordNgrams),
               at(kWordNgrams));
  if (args[kBucket] < 0) in.Damaged("its number of hash buckets is " + std::to_string(args[kBucket]), at(kBucket));
  if (args[kWordNgrams] > 1 && args[kBucket] == 0)
    in.Damaged(
        "it uses word n-grams of " + std::to_string(args[kWordNgrams]) + " words but has no hash buckets for them",
        at(kBucket));
  // fastText itself turns character n-grams off in classifiers of file format 11. It compares the
  // length with an unsigned one, so a negative length means no limit, not none.
  if (args[kMaxn] > 0 && version != kOldVersion)
    in.NotOurs("uses character n-grams (of up to " + std::to_string(args[kMaxn]) + " characters)");
  if (args[kMaxn] < 0 && version != kOldVersion)
    in.Damaged("its longest character n-gram is " + std::to_string(args[kMaxn]) + " characters long", at(kMaxn));
  return args;
}

}  // namespace

FastTextModelLayout CheckFastTextModelFile(std::string_view bytes, const std::string& file) {
  ModelFileReader in(bytes, file);
  FastTextModelLayout layout;
  if (bytes.size() < 2 * sizeof(int32_t) || in.Read<int32_t>("its signature") != kMagic)
    in.Refuse("is not a fastText model (it does not start with fastText's signature)");
  layout.version = in.Read<int32_t>("its signature");
  if (layout.version != kVersion && layout.version != kOldVersion)
    in.Damaged("its file format version is " + std::to_string(layout.version) + ", where fastText 0.9 writes " +
                   std::to_string(kVersion) + " (" + std::to_string(kOldVersion) + " for older models)",
               sizeof(int32_t));
  const std::array<int32_t, kArgsInts> args = CheckSettings(in, layout.version);
  layout.dimension = args[kDim];
  layout.word_ngrams = args[kWordNgrams];
  layout.buckets = args[kBucket];

  const uint64_t dictionary_start = in.offset();
  const std::string header = "its dictionary's header";
  const int32_t size = in.Read<int32_t>(header);
  const int32_t words = in.Read<int32_t>(header);
  const int32_t labels = in.Read<int32_t>(header);
  in.Read<int64_t>(header);  // ntokens: the words training read, used only to discard frequent ones
  const int64_t pruned = in.Read<int64_t>(header);
  if (labels < 1)
    in.Damaged("its dictionary says it holds " + std::to_string(labels) + " classes; a classifier has at least one",
               dictionary_start + 8);
  if (words < 0) in.Damaged("its dictionary says it holds " + std::to_string(words) + " words", dictionary_start + 4);
  if (int64_t{words} + labels != size)
    in.Damaged("its dictionary says it holds " + std::to_string(size) + " entries, but " + std::to_string(words) +
                   " words and " + std::to_string(labels) + " classes",
               dictionary_start);
  if (size > kMaxModelVocabulary)
    in.Damaged("its dictionary says it holds " + std::to_string(size) + " entries, more than fastText's limit of " +
                   std::to_string(kMaxModelVocabulary),
               dictionary_start);
  if (pruned >= 0)
    in.Damaged(
        "its dictionary says it is pruned (" + std::to_string(pruned) + " entries), which only a quantized model's is",
        dictionary_start + 20);
  layout.words = words;
  layout.labels = labels;

  int64_t label_counts = 0;
  for (int32_t entry = 0; entry < size; ++entry) {
    const std::string inside = "dictionary entry " + std::to_string(entry + 1) + " of " + std::to_string(size);
    in.SkipWord(inside);
    const uint64_t count_at = in.offset();
    const int64_t count = in.Read<int64_t>(inside);
    const uint64_t type_at = in.offset();
    const int8_t type = in.Read<int8_t>(inside);
    if (count < 0) in.Damaged(inside + " has the count " + std::to_string(count), count_at);
    const int8_t expected = entry < words ? kEntryWord : kEntryLabel;
    if (type != expected)
      in.Damaged(inside + " is marked as " +
                     (type == kEntryWord    ? std::string("a word")
                      : type == kEntryLabel ? std::string("a class")
                                            : "of type " + std::to_string(type)) +
                     ", where the dictionary's counts put " + (expected == kEntryWord ? "a word" : "a class"),
                 type_at);
    if (type == kEntryLabel) {
      if (count > std::numeric_limits<int64_t>::max() - label_counts)
        in.Damaged("the counts of its classes add up to more than a 64-bit number holds", count_at);
      label_counts += count;
    }
  }
  layout.dictionary_end = in.offset();

  const uint64_t quantized_at = in.offset();
  const uint8_t quantized = in.Read<uint8_t>("its quantization flag");
  if (quantized == 1) in.NotOurs("is a quantized fastText model (.ftz)");
  if (quantized != 0)
    in.Damaged("its quantization flag is " + std::to_string(quantized) + ", neither 0 nor 1", quantized_at);

  const std::string input = "its input matrix";
  const uint64_t input_at = in.offset();
  const int64_t input_rows = in.Read<int64_t>(input);
  const int64_t input_columns = in.Read<int64_t>(input);
  if (input_columns != args[kDim])
    in.Damaged(input + " has " + std::to_string(input_columns) + " columns, but its dimension is " +
                   std::to_string(args[kDim]),
               input_at + 8);
  if (input_rows != int64_t{words} + args[kBucket])
    in.Damaged(input + " has " + std::to_string(input_rows) + " rows, but its " + std::to_string(words) +
                   " words and " + std::to_string(args[kBucket]) + " hash buckets need " +
                   std::to_string(int64_t{words} + args[kBucket]),
               input_at);
  in.CheckMatrixData(input, input_rows, input_columns);

  const uint64_t output_quantized_at = in.offset();
  const uint8_t output_quantized = in.Read<uint8_t>("its output quantization flag");
  if (output_quantized != 0)
    in.Damaged("its output quantization flag is " + std::to_string(output_quantized) +
                   ", where a model that is not quantized has 0",
               output_quantized_at);

  const std::string output = "its output matrix";
  const uint64_t output_at = in.offset();
  const int64_t output_rows = in.Read<int64_t>(output);
  const int64_t output_columns = in.Read<int64_t>(output);
  if (output_columns != args[kDim])
    in.Damaged(output + " has " + std::to_string(output_columns) + " columns, but its dimension is " +
                   std::to_string(args[kDim]),
               output_at + 8);
  if (output_rows != labels)
    in.Damaged(output + " has " + std::to_string(output_rows) + " rows, but its dictionary holds " +
                   std::to_string(labels) + " classes",
               output_at);
  in.CheckMatrixData(output, output_rows, output_columns);

  if (in.remaining() > 0)
    in.Refuse("has bytes after the model (" + std::to_string(in.remaining()) + " of them): it is damaged");
  return layout;
}

}  // namespace orch
