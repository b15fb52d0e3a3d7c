#include "teamhealth/ingest/producer.h"

#include <gtest/gtest.h>

#include <chrono>

#include "teamhealth/ingest/ingestor.h"

namespace teamhealth::ingest {
namespace {

using Clock = std::chrono::steady_clock;

// The gateway's producer on librdkafka's mock cluster: each record's own delivery report.
class AcknowledgedProducerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = EmbeddedBroker::Start({"hooks"}, 1);
    ASSERT_TRUE(broker.ok()) << broker.error().message();
    broker_ = std::move(*broker);
    auto producer = RecordProducer::Create(ProducerOptions{
        .bootstrap_servers = broker_->bootstrap_servers(),
        .acknowledged = true,
        .delivery_timeout_ms = 1500,
        .max_value_bytes = 100000,
        .linger_ms = 1});
    ASSERT_TRUE(producer.ok()) << producer.error().message();
    producer_ = std::move(*producer);
  }

  Delivery Send(const std::string& value) {
    return producer_->ProduceAndWait("hooks", "github", {{"X-GitHub-Event", "issues"}}, value);
  }

  std::unique_ptr<EmbeddedBroker> broker_;
  std::unique_ptr<RecordProducer> producer_;
};

TEST_F(AcknowledgedProducerTest, EachRecordIsAcknowledged) {
  for (int i = 0; i < 5; ++i) {
    const Delivery d = Send("{\"n\":" + std::to_string(i) + "}");
    EXPECT_EQ(d.outcome, Delivery::Outcome::kAcknowledged) << d.reason;
  }
  EXPECT_TRUE(producer_->CheckReachable(2000).ok());
}

TEST_F(AcknowledgedProducerTest, BrokerDownIsUnavailableWithinTheTimeoutThenRecovers) {
  ASSERT_EQ(Send("{}").outcome, Delivery::Outcome::kAcknowledged);
  broker_->SetDown(true);
  const auto start = Clock::now();
  const Delivery d = Send("{\"while\":\"down\"}");
  const auto waited = Clock::now() - start;
  EXPECT_EQ(d.outcome, Delivery::Outcome::kUnavailable);
  EXPECT_FALSE(d.reason.empty());
  // message.timeout.ms (1.5 s) and librdkafka's timeout scan (about a second), never the
  // +3 s guard.
  EXPECT_LT(waited, std::chrono::milliseconds(4500));
  EXPECT_FALSE(producer_->CheckReachable(500).ok());
  broker_->SetDown(false);
  // The vendor's retry: accepted once the broker is back (bounded).
  Delivery retry;
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  do {
    retry = Send("{\"while\":\"down\"}");
  } while (retry.outcome != Delivery::Outcome::kAcknowledged && Clock::now() < deadline);
  EXPECT_EQ(retry.outcome, Delivery::Outcome::kAcknowledged) << retry.reason;
}

TEST_F(AcknowledgedProducerTest, ARecordLargerThanKafkaAcceptsIsTooLarge) {
  // message.max.bytes is max_value_bytes rounded up to librdkafka's default and 64 KiB more.
  const Delivery d = Send(std::string(2'000'000, 'x'));
  EXPECT_EQ(d.outcome, Delivery::Outcome::kTooLarge) << d.reason;
}

}  // namespace
}  // namespace teamhealth::ingest
