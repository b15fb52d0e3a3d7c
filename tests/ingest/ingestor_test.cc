// Ingest against librdkafka's mock cluster, with injected faults. The real-broker tests are in
// tests/integration; these are the fast fault-injection cases.
#include "teamhealth/ingest/ingestor.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <set>
#include <thread>

#include "teamhealth/ingest/producer.h"
#include "teamhealth/storage/store.h"
#include "temp_dir.h"

namespace teamhealth::ingest {
namespace {

class CountingObserver final : public IngestObserver {
 public:
  void OnBatch(const eventlog::AppendOutcome&) override { ++batches; }
  void OnLag(std::string_view, int64_t lag) override { last_lag = lag; }
  std::atomic<int> batches{0};
  std::atomic<int64_t> last_lag{-1};
};

std::string Record(int i) {
  return R"({"id":"canonical:e)" + std::to_string(i) +
         R"(","source":"canonical","type":"work_item.commented","occurred_at":"2026-01-01T00:00:00Z",)"
         R"("actor":"jira:a","subject":{"kind":"work_item","id":"W)" +
         std::to_string(i % 17) + R"("}})";
}

// Produces `records` to `topic` (keys spread them over the partitions); returns when all are
// acknowledged. Goes through the module's own RecordProducer, so it is exercised too.
void Produce(const std::string& bootstrap, const std::string& topic,
             const std::vector<std::string>& records) {
  auto producer = RecordProducer::Create(bootstrap);
  ASSERT_TRUE(producer.ok()) << producer.error().message();
  for (size_t i = 0; i < records.size(); ++i) {
    ASSERT_TRUE(
        (*producer)->Produce(topic, "k" + std::to_string(i), {{"X-Test", "1"}}, records[i]).ok());
  }
  ASSERT_TRUE((*producer)->Flush(30000).ok());
}

class IngestorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto broker = EmbeddedBroker::Start({"canon"}, 3);
    ASSERT_TRUE(broker.ok()) << broker.error().message();
    broker_ = std::move(*broker);
    config_.brokers = broker_->bootstrap_servers();
    config_.topics = {{"canon", "canonical"}};
    config_.batch_max_ms = 20;
    config_.batch_max_messages = 100;
    OpenLog();
  }

  void OpenLog() {
    log_.reset();
    store_.reset();
    auto store = storage::Store::Open({dir_.path(), false, false});
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    auto log = eventlog::EventLog::Open(*store_);
    ASSERT_TRUE(log.ok());
    log_ = std::move(*log);
  }

  // Runs an ingestor until the log holds `expected` events (bounded by a deadline), then stops
  // it the way SIGTERM does.
  void IngestUntil(uint64_t expected, const std::function<void()>& during = {}) {
    auto ingestor = Ingestor::Create(config_, *log_, *registry_, observer_, loggers_.Get("t"));
    ASSERT_TRUE(ingestor.ok()) << ingestor.error().message();
    std::atomic<bool> stop{false};
    Status status;
    std::thread runner([&] { status = (*ingestor)->Run(stop); });
    if (during) during();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (log_->LastSequence().value() < expected && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    while (!(*ingestor)->Ready() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    stop = true;
    runner.join();
    ASSERT_TRUE(status.ok()) << status.error().message();
  }

  std::set<std::string> Ids() {
    std::set<std::string> ids;
    EXPECT_TRUE(log_->ForEach(Sequence(1),
                              [&](Sequence, const schema::Event& e) {
                                EXPECT_TRUE(ids.insert(e.id()).second) << "duplicate " << e.id();
                                return true;
                              })
                    .ok());
    return ids;
  }

  testing::TempDir dir_;
  logging::Loggers loggers_{"warn"};
  std::unique_ptr<EmbeddedBroker> broker_;
  config::KafkaConfig config_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<eventlog::EventLog> log_;
  std::unique_ptr<sources::SourceRegistry> registry_ = sources::MakeSourceRegistry();
  CountingObserver observer_;
};

TEST_F(IngestorTest, ConsumesEveryPartitionAndStoresNextOffsets) {
  std::vector<std::string> records;
  for (int i = 0; i < 300; ++i) records.push_back(Record(i));
  records.push_back("not json");
  Produce(config_.brokers, "canon", records);
  IngestUntil(300);
  EXPECT_EQ(log_->LastSequence(), Sequence(300));
  EXPECT_EQ(Ids().size(), 300u);
  EXPECT_EQ(log_->QuarantineCount(), 1u);
  auto offsets = log_->Offsets();
  ASSERT_TRUE(offsets.ok());
  int64_t total = 0;
  for (const auto& [tp, next] : *offsets) total += next.value();
  EXPECT_EQ(total, 301);  // every record, including the quarantined one, is consumed once
  EXPECT_GT(observer_.batches.load(), 0);
  EXPECT_EQ(observer_.last_lag.load(), 0);
}

TEST_F(IngestorTest, ResumesFromStoredOffsetsWithoutConsumingTwice) {
  std::vector<std::string> first, second;
  for (int i = 0; i < 150; ++i) first.push_back(Record(i));
  for (int i = 150; i < 240; ++i) second.push_back(Record(i));
  Produce(config_.brokers, "canon", first);
  IngestUntil(150);
  OpenLog();  // a restart
  Produce(config_.brokers, "canon", second);
  IngestUntil(240);
  EXPECT_EQ(log_->LastSequence(), Sequence(240));
  EXPECT_EQ(Ids().size(), 240u);
  // Nothing was consumed twice: no duplicates were even seen.
  EXPECT_EQ(log_->counters().duplicate.count("canonical"), 0u);
}

TEST_F(IngestorTest, SurvivesFetchFailuresAndABrokerOutageWithoutLossOrDuplicates) {
  std::vector<std::string> records;
  for (int i = 0; i < 500; ++i) records.push_back(Record(i));
  Produce(config_.brokers, "canon", records);
  IngestUntil(500, [this] {
    broker_->FailNextFetches(5);
    broker_->SetDown(true);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    broker_->SetDown(false);
  });
  EXPECT_EQ(log_->LastSequence(), Sequence(500));
  EXPECT_EQ(Ids().size(), 500u);
  EXPECT_EQ(log_->counters().duplicate.count("canonical"), 0u);
}

TEST_F(IngestorTest, RejectsAConfigWithoutTopicsOrWithAnUnimplementedSource) {
  config::KafkaConfig none = config_;
  none.topics.clear();
  EXPECT_FALSE(Ingestor::Create(none, *log_, *registry_, observer_, loggers_.Get("t")).ok());
  config::KafkaConfig missing = config_;
  missing.topics = {{"x", "nosuchsource"}};
  auto r = Ingestor::Create(missing, *log_, *registry_, observer_, loggers_.Get("t"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("nosuchsource"), std::string::npos);
}

}  // namespace
}  // namespace teamhealth::ingest
