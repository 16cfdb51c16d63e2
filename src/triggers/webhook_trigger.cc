#include "triggers/webhook_trigger.h"

#include <nlohmann/json.hpp>

#include "config/target.h"
#include "config/url_policy.h"
#include "util/redact.h"

namespace orch {

std::string WebhookBody(const StartRequest& request) {
  const nlohmann::json body = {{"label", request.label},
                               {"required_len", request.required_len},
                               {"baseline_version", request.baseline_version},
                               {"dataset_version", request.dataset_version},
                               {"idempotency_key", request.idempotency_key}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

WebhookTrigger::WebhookTrigger(HttpSettings settings, std::string token,
                               std::function<void(const RetryNotice&)> on_retry, const Cancellation* cancellation)
    : settings_(settings), token_(std::move(token)), on_retry_(std::move(on_retry)), cancellation_(cancellation) {}

HttpClient& WebhookTrigger::ClientFor(const std::string& url) {
  const std::string origin = UrlOrigin(url);
  std::unique_ptr<HttpClient>& client = clients_[origin];
  if (!client) {
    client = std::make_unique<HttpClient>(settings_, token_, origin, on_retry_);
    client->SetCancellation(cancellation_);
  }
  return *client;
}

std::vector<StartResult> WebhookTrigger::Start(std::span<const StartRequest> requests) {
  std::vector<StartResult> results;
  for (const StartRequest& request : requests) {
    HttpRequest post;
    post.method = "POST";
    post.url = ParseTarget(request.target).url;
    post.body = WebhookBody(request);
    post.content_type = "application/json";
    post.headers.push_back("Idempotency-Key: " + request.idempotency_key);
    post.repeatable = true;  // the receiver drops a repeat by its key
    results.push_back(WebhookResult(ClientFor(post.url).Perform(post), post.url));
  }
  return results;
}

StartResult WebhookResult(const HttpResponse& response, const std::string& url) {
  if (response.status >= 200 && response.status < 300)
    return {true, "HTTP " + std::to_string(response.status) + " from " + url};
  if (response.status == 0)
    return {false, url + ": " + Excerpt(response.error, 2 * kWebhookAnswerInMessages), response.may_have_arrived};
  return {false,
          url + " answered HTTP " + std::to_string(response.status) + ": " +
              Excerpt(response.body, kWebhookAnswerInMessages),
          response.may_have_arrived};
}

std::vector<WorkerState> WebhookTrigger::Inspect(std::span<const WorkerRef> workers, TimeBudget) {
  return std::vector<WorkerState>(
      workers.size(), WorkerState(WorkerState::Health::kFinished,
                                  "a webhook receiver cannot be asked about its run; a repeated request carries the "
                                  "same Idempotency-Key",
                                  "", WorkerState::Evidence::kNone));
}

}  // namespace orch
