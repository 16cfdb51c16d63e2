// Fuzz target for what a webhook receiver answers to a start (WebhookResult): any status, body and
// transport error must give a start for 2xx and otherwise a failure on one bounded line that names
// the webhook's URL and quotes at most kWebhookAnswerInMessages bytes of the answer. Nothing throws.
//
// Input layout: two bytes of HTTP status (big-endian; 0 is "no answer"), one byte of flags (bit 0:
// the request may have arrived), then the body, or the transport error when the status is 0.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "triggers/webhook_trigger.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using orch::fuzz::Check;
  if (size < 3) return 0;
  orch::HttpResponse response;
  response.status = (data[0] << 8 | data[1]) % 1000;
  response.may_have_arrived = (data[2] & 1) != 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 3, size - 3);
  (response.status == 0 ? response.error : response.body) = rest;

  const std::string url = "https://airflow.example.com/api/v1/dags/retrain/dagRuns";
  const orch::StartResult result = orch::WebhookResult(response, url);
  Check(result.ok == (response.status >= 200 && response.status < 300), "exactly a 2xx answer is a start");
  Check(result.detail.find(url) != std::string::npos, "the detail names the webhook");
  Check(!orch::fuzz::HasControlByte(result.detail), "the detail is one line");
  Check(result.detail.size() <= url.size() + 100 + 8 * orch::kWebhookAnswerInMessages, "the detail is bounded");
  if (!result.ok)
    Check(result.maybe_started == response.may_have_arrived, "a failure says whether it may have arrived");
  return 0;
}
