// Damaged model files, made from real trained models: every outcome is a WorkerError that says what
// is wrong, or a model that loads and predicts; never a crash, a hang or a huge allocation.
#include "workers/fasttext_model_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "config/label_name.h"
#include "support/temp_dir.h"
#include "util/error.h"
#include "workers/fasttext_classifier.h"

namespace orch {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

// Where the header's fields are (FastText::signModel, Args::save, Dictionary::save).
constexpr size_t kMagicAt = 0, kVersionAt = 4, kDimAt = 8, kWordNgramsAt = 28, kLossAt = 32, kModelAt = 36,
                 kBucketAt = 40, kMaxnAt = 48, kSizeAt = 64, kWordsAt = 68, kLabelsAt = 72, kPrunedAt = 84;
constexpr size_t kHeaderEnd = 92;  // the dictionary's entries start here

std::vector<SplitRow> Rows() {
  const std::vector<std::vector<std::string>> own = {
      {"road", "pothole", "bridge", "सडक"}, {"school", "teacher", "विद्यालय"}, {"police", "theft", "प्रहरी"}};
  std::mt19937 random(5);
  std::vector<SplitRow> rows;
  for (int i = 0; i < 60; ++i) {
    const int label = i % 3;
    std::string text;
    for (int word = 0; word < 4; ++word) text += own[label][random() % own[label].size()] + " please ";
    rows.push_back({text, label});
  }
  return rows;
}

// A real model, as Save() writes it: unigrams without buckets, or bigrams with a few.
std::string ModelBytes(bool bigrams) {
  TempDir dir("orch-model-file");
  FastTextClassifier::Train(Rows(), {.epochs = 5,
                                     .learning_rate = 0.5,
                                     .word_ngrams = bigrams ? 2 : 1,
                                     .dimension = 4,
                                     .buckets = bigrams ? 16 : 0,
                                     .threads = 1,
                                     .seed = 1})
      .Save(dir.path() / "model.bin");
  return ReadFile((dir.path() / "model.bin").string());
}

template <typename T>
T At(const std::string& bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

template <typename T>
void Put(std::string& bytes, size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

// "" when `bytes` loads as a model that then classifies a text; else the WorkerError's message.
std::string Outcome(std::string bytes) {
  try {
    FastTextClassifier model = FastTextClassifier::FromBytes(std::move(bytes), "/m/model.bin");
    ClassPrediction prediction = model.Predict("pothole on the road near the school");
    if (prediction.label < 0) return "predicted the class " + std::to_string(prediction.label);
    return "";
  } catch (const WorkerError& error) {
    return error.what();
  }
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// What a header whose int32 field at `offset` holds `value` (the others as trained) must give:
// "" (it loads) or a part of the error message.
std::string ExpectedForHeaderField(const std::string& original, size_t offset, int32_t value) {
  const int32_t word_ngrams = At<int32_t>(original, kWordNgramsAt);
  const int32_t buckets = At<int32_t>(original, kBucketAt);
  switch (offset) {
    case kMagicAt: return "is not a fastText model";
    case kVersionAt: return value == 11 || value == 12 ? "" : "its file format version is " + std::to_string(value);
    case kDimAt: return value < 1 ? "its dimension is " + std::to_string(value) : "columns, but its dimension is";
    case kWordNgramsAt:
      if (value < 1 || value > 1024) return "its word n-gram length is " + std::to_string(value);
      return value > 1 && buckets == 0 ? "but has no hash buckets for them" : "";
    case kLossAt:
      if (value == 3) return "";
      return value == 1 || value == 2 || value == 4 ? "orchestrator retrain never makes such a model"
                                                    : "which fastText does not know";
    case kModelAt: return value == 1 || value == 2 ? "is a fastText word-vector model" : "its kind of model is";
    case kBucketAt:
      if (value < 0) return "its number of hash buckets is " + std::to_string(value);
      if (value == 0 && word_ngrams > 1) return "but has no hash buckets for them";
      return "rows, but its";
    case kMaxnAt:
      if (value < 0) return "its longest character n-gram is " + std::to_string(value) + " characters long";
      return value > 0 ? "uses character n-grams" : "";
    case kSizeAt: return "entries, but";
    case kWordsAt:
      return value < 0 ? "its dictionary says it holds " + std::to_string(value) + " words" : "entries, but";
    case kLabelsAt: return value < 1 ? "a classifier has at least one" : "entries, but";
    default:  // ws, epoch, minCount, neg, minn, lrUpdateRate: training only
      return "";
  }
}

TEST(FastTextModelFile, EveryByteOfTheHeaderFlipped) {
  for (bool bigrams : {false, true}) {
    const std::string original = ModelBytes(bigrams);
    ASSERT_EQ(Outcome(original), "");
    for (size_t offset = 0; offset < kHeaderEnd; ++offset)
      for (unsigned char mask : {0x01, 0x10, 0x80, 0xFF}) {
        std::string damaged = original;
        damaged[offset] = static_cast<char>(damaged[offset] ^ mask);
        std::string expected;
        if (offset < 56) {  // the int32 fields: magic, version, the twelve settings
          const size_t field = offset / 4 * 4;
          expected = ExpectedForHeaderField(original, field, At<int32_t>(damaged, field));
        } else if (offset < kSizeAt) {
          expected = "";  // t, the sampling threshold: training only
        } else if (offset < 76) {
          const size_t field = offset / 4 * 4;
          expected = ExpectedForHeaderField(original, field, At<int32_t>(damaged, field));
        } else if (offset < kPrunedAt) {
          expected = "";  // ntokens: training only
        } else {
          expected = At<int64_t>(damaged, kPrunedAt) >= 0 ? "which only a quantized model's is" : "";
        }
        const std::string outcome = Outcome(damaged);
        if (expected.empty()) {
          EXPECT_EQ(outcome, "") << "byte " << offset << " ^ " << int{mask} << (bigrams ? " (bigrams)" : "");
        } else {
          EXPECT_TRUE(Contains(outcome, expected))
              << "byte " << offset << " ^ " << int{mask} << (bigrams ? " (bigrams)" : "") << ": expected \"" << expected
              << "\", got \"" << outcome << "\"";
          EXPECT_TRUE(Contains(outcome, "/m/model.bin")) << outcome;
        }
      }
  }
}

// The dictionary's entries as Dictionary::save writes them: the word, a NUL, the count, the type.
struct Entry {
  size_t word_at, nul_at, count_at, type_at;
  std::string word;
};

std::vector<Entry> Entries(const std::string& bytes) {
  std::vector<Entry> entries;
  size_t at = kHeaderEnd;
  for (int32_t i = 0; i < At<int32_t>(bytes, kSizeAt); ++i) {
    const size_t nul = bytes.find('\0', at);
    entries.push_back({at, nul, nul + 1, nul + 9, bytes.substr(at, nul - at)});
    at = nul + 10;
  }
  return entries;
}

TEST(FastTextModelFile, EveryByteOfTheDictionaryFlipped) {
  const std::string original = ModelBytes(true);
  const int32_t words = At<int32_t>(original, kWordsAt);
  const std::vector<Entry> entries = Entries(original);
  ASSERT_EQ(entries.size(), static_cast<size_t>(words + 3));
  for (size_t index = 0; index < entries.size(); ++index) {
    const Entry& entry = entries[index];
    const bool label = static_cast<int32_t>(index) >= words;
    for (size_t offset = entry.word_at; offset <= entry.type_at; ++offset) {
      std::string damaged = original;
      damaged[offset] = static_cast<char>(damaged[offset] ^ 0x01);
      const std::string outcome = Outcome(damaged);
      const std::string where = entry.word + ", byte " + std::to_string(offset) + ": ";
      if (offset < entry.nul_at) {  // a letter of the word becomes another
        const std::string word = damaged.substr(entry.word_at, entry.nul_at - entry.word_at);
        const bool class_id = word.starts_with("__label__") && word.size() > 9 &&
                              word.find_first_not_of("0123456789", 9) == std::string::npos;
        if (label && !class_id) {
          EXPECT_TRUE(Contains(outcome, "has the class " + QuoteForMessage(word) + ", not a class id"))
              << where << outcome;
        } else {
          EXPECT_EQ(outcome, "") << where;
        }
      } else if (offset == entry.nul_at) {  // the word runs on into the count: the rest is out of step
        EXPECT_TRUE(Contains(outcome, "/m/model.bin ") &&
                    (Contains(outcome, " is damaged") || Contains(outcome, " is truncated")))
            << where << outcome;
      } else if (offset < entry.type_at) {  // a count: any non-negative one loads
        EXPECT_EQ(outcome, "") << where;
      } else {
        EXPECT_TRUE(Contains(outcome, label ? "is marked as a word, where the dictionary's counts put a class"
                                            : "is marked as a class, where the dictionary's counts put a word"))
            << where << outcome;
      }
    }
    std::string negative = original;
    negative[entry.count_at + 7] = static_cast<char>(negative[entry.count_at + 7] ^ 0x80);
    EXPECT_TRUE(Contains(Outcome(negative), "dictionary entry " + std::to_string(index + 1) + " of " +
                                                std::to_string(entries.size()) + " has the count -"))
        << entry.word;
    std::string unknown_type = original;
    unknown_type[entry.type_at] = static_cast<char>(0x80);
    EXPECT_TRUE(Contains(Outcome(unknown_type), "is marked as of type -128")) << entry.word;
  }
}

TEST(FastTextModelFile, TheMatricesFlipped) {
  const std::string original = ModelBytes(true);
  const FastTextModelLayout layout = CheckFastTextModelFile(original, "x");
  const int64_t dim = layout.dimension;
  const size_t quantized_at = layout.dictionary_end;
  const size_t input_at = quantized_at + 1;
  const int64_t input_rows = layout.words + layout.buckets;
  const size_t input_data = input_at + 16;
  const size_t output_quantized_at = input_data + static_cast<size_t>(input_rows * dim) * 4;
  const size_t output_at = output_quantized_at + 1;
  const size_t output_data = output_at + 16;
  ASSERT_EQ(output_data + static_cast<size_t>(3 * dim) * 4, original.size());

  auto flipped = [&](size_t offset, unsigned char mask) {
    std::string damaged = original;
    damaged[offset] = static_cast<char>(damaged[offset] ^ mask);
    return Outcome(damaged);
  };
  EXPECT_TRUE(Contains(flipped(quantized_at, 0x01), "is a quantized fastText model (.ftz)"));
  EXPECT_TRUE(Contains(flipped(quantized_at, 0x80), "its quantization flag is 128, neither 0 nor 1"));
  EXPECT_TRUE(Contains(flipped(output_quantized_at, 0x01), "its output quantization flag is 1"));
  for (size_t offset = 0; offset < 16; ++offset)
    for (unsigned char mask : {0x01, 0x80}) {
      const std::string what = offset < 8 ? "rows, but its" : "columns, but its dimension is 4";
      EXPECT_TRUE(Contains(flipped(input_at + offset, mask), "its input matrix has ")) << offset;
      EXPECT_TRUE(Contains(flipped(input_at + offset, mask), what)) << offset;
      EXPECT_TRUE(Contains(flipped(output_at + offset, mask), "its output matrix has ")) << offset;
      EXPECT_TRUE(Contains(flipped(output_at + offset, mask),
                           offset < 8 ? "rows, but its dictionary holds 3 classes" : "columns, but its dimension is 4"))
          << offset;
    }
  // A sample of the weights: a changed weight loads (and predicts differently); one that is no longer
  // a finite number is refused, naming where it is.
  auto check_weights = [&](const std::string& matrix, size_t begin, size_t end, size_t step) {
    for (size_t at = begin; at < end; at += step) {
      EXPECT_EQ(flipped(at, 0x01), "") << matrix << " byte " << at;
      EXPECT_EQ(flipped(at + 3, 0x80), "") << matrix << " byte " << at;  // the sign
      const size_t index = (at - begin) / 4;
      const std::string where = matrix + " holds a value that is not a finite number (row " +
                                std::to_string(index / static_cast<size_t>(dim) + 1) + ", column " +
                                std::to_string(index % static_cast<size_t>(dim) + 1) + ") (at byte " +
                                std::to_string(at) + ")";
      std::string infinite = original;
      Put(infinite, at, std::numeric_limits<float>::infinity());
      EXPECT_TRUE(Contains(Outcome(infinite), where)) << Outcome(infinite);
      std::string nan = original;
      Put(nan, at, std::nanf(""));
      EXPECT_TRUE(Contains(Outcome(nan), where)) << Outcome(nan);
    }
  };
  check_weights("its input matrix", input_data, output_quantized_at, 4 * 7);
  check_weights("its output matrix", output_data, original.size(), 4);
}

TEST(FastTextModelFile, EveryTruncation) {
  for (bool bigrams : {false, true}) {
    const std::string original = ModelBytes(bigrams);
    for (size_t length = 0; length < original.size(); ++length) {
      const std::string outcome = Outcome(original.substr(0, length));
      EXPECT_TRUE(Contains(outcome, length < 8 ? "/m/model.bin is not a fastText model" : "/m/model.bin is truncated"))
          << length << " bytes: " << outcome;
    }
    EXPECT_TRUE(Contains(Outcome(original + '\0'), "has bytes after the model (1 of them)"));
  }
}

TEST(FastTextModelFile, HugeCountsAskForNothing) {
  const std::string original = ModelBytes(true);
  const FastTextModelLayout layout = CheckFastTextModelFile(original, "x");
  const size_t input_at = layout.dictionary_end + 1;

  // A dimension of a billion, agreed on by the settings and both matrices: fastText would allocate
  // gigabytes for it; the file does not hold them.
  std::string huge_dimension = original;
  Put<int32_t>(huge_dimension, kDimAt, 1 << 30);
  Put<int64_t>(huge_dimension, input_at + 8, 1 << 30);
  EXPECT_TRUE(Contains(Outcome(huge_dimension),
                       "is truncated: its " + std::to_string(original.size()) + " bytes end inside its input matrix"));

  // Rows for two billion buckets.
  std::string huge_buckets = original;
  Put<int32_t>(huge_buckets, kBucketAt, 2000000000);
  Put<int64_t>(huge_buckets, input_at, layout.words + int64_t{2000000000});
  EXPECT_TRUE(Contains(Outcome(huge_buckets), "bytes end inside its input matrix")) << Outcome(huge_buckets);

  // A dictionary of two billion entries, its counts consistent.
  std::string huge_dictionary = original;
  Put<int32_t>(huge_dictionary, kSizeAt, 2000000000);
  Put<int32_t>(huge_dictionary, kWordsAt, 2000000000 - layout.labels);
  EXPECT_TRUE(Contains(Outcome(huge_dictionary), "more than fastText's limit of 30000000"));

  // As many as fastText allows: the entries run out long before.
  std::string many_entries = original;
  Put<int32_t>(many_entries, kSizeAt, 30000000);
  Put<int32_t>(many_entries, kWordsAt, 30000000 - layout.labels);
  const std::string outcome = Outcome(many_entries);
  EXPECT_TRUE(Contains(outcome, "is damaged: dictionary entry ") || Contains(outcome, "is truncated")) << outcome;

  // Word n-grams without buckets would make fastText divide by zero.
  std::string no_buckets = ModelBytes(false);
  Put<int32_t>(no_buckets, kWordNgramsAt, 2);
  EXPECT_TRUE(Contains(Outcome(no_buckets), "it uses word n-grams of 2 words but has no hash buckets for them"));
}

// Damage that is not in the bytes: the file as a whole.
class ModelFileOnDisk : public ::testing::Test {
 protected:
  std::string LoadError() {
    try {
      FastTextClassifier::Load(file_);
    } catch (const WorkerError& error) {
      return error.what();
    }
    return "(loaded)";
  }

  TempDir dir_{"orch-model-file"};
  fs::path file_ = dir_.path() / "model.bin";
};

TEST_F(ModelFileOnDisk, ARealModelLoads) {
  WriteFile(file_.string(), ModelBytes(true));
  EXPECT_EQ(LoadError(), "(loaded)");
}

TEST_F(ModelFileOnDisk, MissingOrDangling) {
  EXPECT_EQ(LoadError(), "the model file " + file_.string() + " is missing");
  fs::create_symlink("nowhere", file_);
  EXPECT_EQ(LoadError(), "the model file " + file_.string() + " is missing");
}

TEST_F(ModelFileOnDisk, ADirectory) {
  fs::create_directory(file_);
  EXPECT_EQ(LoadError(), "the model file " + file_.string() + " is a directory, not a regular file");
}

TEST_F(ModelFileOnDisk, AFifoIsRefusedWithoutWaitingForAWriter) {
  ASSERT_EQ(mkfifo(file_.c_str(), 0600), 0);
  EXPECT_EQ(LoadError(), "the model file " + file_.string() + " is a FIFO (named pipe), not a regular file");
}

TEST_F(ModelFileOnDisk, ASymlinkLoop) {
  fs::create_symlink("model.bin", file_);
  EXPECT_EQ(LoadError(), "the model file " + file_.string() + " is a loop of symlinks, not a regular file");
}

TEST_F(ModelFileOnDisk, AFileOverTheSizeLimitIsNotRead) {
  {
    WriteFile(file_.string(), ModelBytes(true));
    fs::resize_file(file_, kMaxModelFileBytes + 1);  // sparse: no disk space, and never read
  }
  EXPECT_EQ(LoadError(), "the model file " + file_.string() + " is " + std::to_string(kMaxModelFileBytes + 1) +
                             " bytes, more than the " + std::to_string(kMaxModelFileBytes) +
                             " bytes such a file can have");
}

}  // namespace
}  // namespace orch
