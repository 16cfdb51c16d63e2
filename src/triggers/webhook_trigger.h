// Workers behind a webhook (`webhook:https://…`): Airflow, Argo, a GitHub workflow_dispatch
// relay, or any receiver that starts a run when POSTed to.
//
// The POST carries a JSON body {"label", "required_len", "baseline_version", "dataset_version",
// "idempotency_key"} and an Idempotency-Key header derived from the label and the dataset
// version, so a receiver can drop a request a resumed pass repeats. The token, read from the
// environment variable the configuration names, goes as a bearer token to the webhook's own
// origin only. A receiver cannot be asked how its run is doing: Inspect says so, and a resumed
// pass resends, relying on the key.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "config/config.h"
#include "hub/http_client.h"
#include "triggers/trigger.h"

namespace orch {

class WebhookTrigger final : public Trigger {
 public:
  WebhookTrigger(HttpSettings settings, std::string token, std::function<void(const RetryNotice&)> on_retry,
                 const Cancellation* cancellation);

  // 2xx is a start; anything else fails with the status and the start of the answer.
  std::vector<StartResult> Start(std::span<const StartRequest> requests) override;
  // kFinished for every webhook: there is nothing to ask.
  std::vector<WorkerState> Inspect(std::span<const WorkerRef> workers, TimeBudget budget) override;

 private:
  HttpClient& ClientFor(const std::string& url);

  HttpSettings settings_;
  std::string token_;
  std::function<void(const RetryNotice&)> on_retry_;
  const Cancellation* cancellation_;
  std::map<std::string, std::unique_ptr<HttpClient>> clients_;  // one per origin, each sending the token only there
};

// The JSON body of a start request.
std::string WebhookBody(const StartRequest& request);

// How much of a receiver's answer a failure quotes.
inline constexpr size_t kWebhookAnswerInMessages = 200;
// What the receiver's answer to the POST to `url` means: 2xx is a start; anything else fails on
// one line naming `url`, with the status and an Excerpt of the answer, or why none came.
StartResult WebhookResult(const HttpResponse& response, const std::string& url);

}  // namespace orch
