// Fuzz target for the Hub's error answers: DescribeHttpFailure turns any status, error body and
// transport error into the message a label fails with, so it must stay one bounded line, naming
// what the call was about, whatever the server sent. HubErrorOf reads the body's {"error": "..."},
// StorageErrorOf an S3 XML error's Code and Message.
// None of them throws, so any exception is a finding.
//
// Input layout: two bytes of HTTP status (big-endian; 0 is "no answer"), then the body; when the
// status is 0 the rest is the transport error (which may quote a redirect's Location) instead.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "hub/hf_hub.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using orch::fuzz::Check;
  if (size < 2) return 0;
  orch::HttpResponse response;
  response.status = (data[0] << 8 | data[1]) % 1000;
  const std::string rest(reinterpret_cast<const char*>(data) + 2, size - 2);
  (response.status == 0 ? response.error : response.body) = rest;

  const std::string said = orch::HubErrorOf(response.body);
  Check(!orch::fuzz::HasControlByte(said), "the server's explanation has no control byte");
  Check(said.size() <= 4 * orch::kMaxServerErrorBytes + 3, "the server's explanation is bounded");

  const std::string storage = orch::StorageErrorOf(response.body);
  Check(!orch::fuzz::HasControlByte(storage), "the storage's explanation has no control byte");
  Check(storage.size() <= 4 * orch::kMaxServerErrorBytes + 3, "the storage's explanation is bounded");

  const std::string what = "Space owner/prepare";
  const std::string message = orch::DescribeHttpFailure(response, what);
  Check(message.starts_with(what + ": "), "the message names what the call was about");
  Check(!orch::fuzz::HasControlByte(message), "the message is one line");
  Check(message.size() <= what.size() + 200 + 8 * orch::kMaxServerErrorBytes, "the message is bounded");
  return 0;
}
