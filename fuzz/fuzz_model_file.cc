// Fuzz target for the model loader (FastTextClassifier::FromBytes, which checks a model file with
// CheckFastTextModelFile before fastText reads it): any bytes must give a classifier that classifies
// a text (or says on one line why it cannot), or a WorkerError naming the file and saying what is
// wrong, on one line. Any other exception, a crash, a hang or an allocation beyond libFuzzer's limit
// is a finding.
//
// The seed corpus holds small real models (written by `fasttext supervised` with classes __label__0
// and __label__1, as orchestrator retrain names them), so mutations reach every field.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "util/error.h"
#include "workers/fasttext_classifier.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using orch::fuzz::Check;
  using orch::fuzz::HasControlByte;
  const std::string file = "/m/label/m1/model.bin";
  std::optional<orch::FastTextClassifier> model;
  try {
    model = orch::FastTextClassifier::FromBytes(std::string(reinterpret_cast<const char*>(data), size), file);
  } catch (const orch::WorkerError& error) {
    const std::string_view message = error.what();
    Check(message.find(file) != std::string_view::npos, "a refused model file is named in the message");
    Check(!HasControlByte(message), "a refused model file is explained on one line");
    return 0;
  }
  // Weights can be finite and still add up to no number: that is a WorkerError too.
  try {
    Check(model->Predict("the road near ward 5 has a pothole").label >= 0, "a loaded model predicts a class id");
  } catch (const orch::WorkerError& error) {
    Check(!HasControlByte(error.what()), "a model that cannot classify says why on one line");
  }
  return 0;
}
