// The test webhook receiver acts on a delivery once per Idempotency-Key, and its faults either
// refuse a delivery or carry it out and lose the answer.
#include "support/webhook_receiver.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>

namespace orch::testing {
namespace {

using Fault = WebhookReceiver::Fault;

struct Answer {
  bool answered = false;
  int status = 0;
};

// One POST to the receiver, as a webhook trigger sends it.
Answer Deliver(const WebhookReceiver& receiver, const std::string& key) {
  const std::string url = receiver.url();
  const size_t path = url.find("/hooks/");
  httplib::Client client(url.substr(0, path));
  httplib::Headers headers;
  if (!key.empty()) headers.emplace("Idempotency-Key", key);
  httplib::Result result = client.Post(url.substr(path), headers, R"({"label":"urgency"})", "application/json");
  if (!result) return {};
  return {true, result->status};
}

TEST(WebhookReceiver, CarriesOutTheFirstDeliveryOfAKeyAndAnswersRepeatsWithoutActing) {
  WebhookReceiver receiver;
  std::atomic<int> acted{0};
  receiver.OnDelivery([&](const WebhookReceiver::Received& received) {
    EXPECT_TRUE(received.carried_out);
    ++acted;
  });
  for (const char* key : {"k1", "k1", "k2", "", ""}) EXPECT_EQ(Deliver(receiver, key).status, 200) << key;
  EXPECT_EQ(acted, 4) << "k1, k2 and both deliveries without a key";
  const std::vector<WebhookReceiver::Received> received = receiver.Requests();
  ASSERT_EQ(received.size(), 5u);
  EXPECT_TRUE(received[0].carried_out);
  EXPECT_TRUE(received[1].repeat);
  EXPECT_FALSE(received[1].carried_out);
  EXPECT_EQ(received[1].status, 200);
  EXPECT_FALSE(received[4].repeat);
  EXPECT_EQ(receiver.CarriedOut("k1"), 1);
  EXPECT_EQ(receiver.CarriedOut("k2"), 1);
}

TEST(WebhookReceiver, ADeliveryCarriedOutThenLostIsNotCarriedOutAgain) {
  struct Lost {
    const char* name;
    Fault fault;
    Answer seen;
  };
  for (const Lost& lost : {Lost{"closed", Fault::CarryOutThenClose(), {false, 0}},
                           Lost{"502", Fault::CarryOutThenStatus(502), {true, 502}},
                           Lost{"504", Fault::CarryOutThenStatus(504), {true, 504}}}) {
    SCOPED_TRACE(lost.name);
    WebhookReceiver receiver;
    std::atomic<int> acted{0};
    receiver.OnDelivery([&](const WebhookReceiver::Received&) { ++acted; });
    receiver.InjectFault(lost.fault);
    const Answer first = Deliver(receiver, "k1");
    EXPECT_EQ(first.answered, lost.seen.answered);
    EXPECT_EQ(first.status, lost.seen.status);
    EXPECT_EQ(acted, 1) << "acted on before the answer was lost";
    EXPECT_TRUE(receiver.Requests()[0].carried_out);
    EXPECT_EQ(receiver.Requests()[0].status, lost.seen.status);

    EXPECT_EQ(Deliver(receiver, "k1").status, 200) << "the sender's repeat";
    EXPECT_EQ(acted, 1);
    EXPECT_TRUE(receiver.Requests()[1].repeat);
    EXPECT_EQ(receiver.CarriedOut("k1"), 1);
  }
}

TEST(WebhookReceiver, ARefusedDeliveryIsNotCarriedOut) {
  WebhookReceiver receiver;
  std::atomic<int> acted{0};
  receiver.OnDelivery([&](const WebhookReceiver::Received&) { ++acted; });
  receiver.InjectFault(Fault::Status(503));
  EXPECT_EQ(Deliver(receiver, "k1").status, 503);
  EXPECT_EQ(acted, 0);
  EXPECT_EQ(Deliver(receiver, "k1").status, 200) << "the first delivery of k1 carried out";
  EXPECT_EQ(acted, 1);
  EXPECT_FALSE(receiver.Requests()[1].repeat);
  receiver.SetStatus(500);
  EXPECT_EQ(Deliver(receiver, "k2").status, 500);
  EXPECT_EQ(acted, 1);
  EXPECT_EQ(receiver.CarriedOut("k2"), 0);
}

}  // namespace
}  // namespace orch::testing
