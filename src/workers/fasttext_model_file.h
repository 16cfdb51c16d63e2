// Checking a fastText model file before fastText reads it.
//
// fastText's loader (FastText::loadModel) trusts every number in the file: a damaged count makes it
// allocate gigabytes, read past its tables, loop forever on a missing terminator or divide by zero.
// CheckFastTextModelFile walks the bytes in the order fastText reads them (FastText::signModel,
// Args::save, Dictionary::save, the input DenseMatrix, the output DenseMatrix), checks every count
// and size against the bytes that remain and every field the loader or prediction depends on, and
// so lets fastText read only a file it can read safely. What it accepts is what orchestrator retrain
// writes: a supervised softmax model without character n-grams and without quantization, of file
// format 11 or 12, whose weights are finite numbers. Fields that only training uses (epochs, the
// window, sampling) are not checked, and a weight changed to another finite number cannot be told
// from training: such a model loads, and predicts differently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace orch {

// The most a model file may hold: 2 GiB (a retrain on a vocabulary of a million words makes 240 MB).
constexpr uint64_t kMaxModelFileBytes = uint64_t{2} << 30;

// The most dictionary entries a model may have: fastText's own limit (Dictionary::MAX_VOCAB_SIZE).
constexpr int64_t kMaxModelVocabulary = 30000000;

// What CheckFastTextModelFile found, for tests and messages.
struct FastTextModelLayout {
  int32_t version = 0;  // the file format: 12 (11 for models of fastText before 0.2)
  int32_t dimension = 0;
  int32_t word_ngrams = 0;
  int32_t buckets = 0;
  int32_t words = 0;            // dictionary entries that are words (the first ones)
  int32_t labels = 0;           // and that are classes (the last ones)
  uint64_t dictionary_end = 0;  // byte offset where the dictionary ends and the matrices start
};

// Checks that `bytes` is a whole fastText classifier that fastText can load safely. Throws
// WorkerError naming `file` and what is wrong: not a fastText model, from a newer fastText, a
// word-vector model, truncated ("is truncated ..."), a count or size that does not fit the file
// ("is damaged: ..."), a kind of model orchestrator retrain never makes, or bytes after the model.
FastTextModelLayout CheckFastTextModelFile(std::string_view bytes, const std::string& file);

}  // namespace orch
