// Ingest against librdkafka's mock cluster, with injected faults. The real-broker tests are in
// tests/integration; these are the fast fault-injection cases.
#include "teamhealth/ingest/ingestor.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

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

// librdkafka's mock cluster (one broker, id 1) driven directly, for the broker-level switches
// EmbeddedBroker does not expose: a round-trip time that paces fetches, and fetch errors whose
// consumption can be counted. Not thread-safe.
class PacedMockCluster {
 public:
  static constexpr int16_t kFetchApiKey = 1;

  PacedMockCluster(const std::string& topic, int partitions) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);  // hosts the cluster only
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk_ == nullptr) {
      ADD_FAILURE() << err;
      return;
    }
    cluster_ = rd_kafka_mock_cluster_new(rk_, 1);
    if (cluster_ == nullptr) {
      ADD_FAILURE() << "cannot start the mock cluster";
      return;
    }
    EXPECT_EQ(rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ~PacedMockCluster() {
    if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
    if (rk_ != nullptr) rd_kafka_destroy(rk_);
  }
  PacedMockCluster(const PacedMockCluster&) = delete;
  PacedMockCluster& operator=(const PacedMockCluster&) = delete;

  bool ok() const { return cluster_ != nullptr; }
  std::string bootstrap_servers() const { return rd_kafka_mock_cluster_bootstraps(cluster_); }
  void SetRttMs(int ms) { rd_kafka_mock_broker_set_rtt(cluster_, 1, ms); }
  void SetDown(bool down) {
    if (down) {
      rd_kafka_mock_broker_set_down(cluster_, 1);
    } else {
      rd_kafka_mock_broker_set_up(cluster_, 1);
    }
  }
  // The next `count` fetch requests the broker receives fail with a disconnect.
  void FailNextFetches(int count) {
    for (int i = 0; i < count; ++i) {
      rd_kafka_mock_broker_push_request_error_rtts(cluster_, 1, kFetchApiKey, 1,
                                                   RD_KAFKA_RESP_ERR__TRANSPORT, 0);
    }
  }
  // Injected fetch failures that no fetch request has met yet.
  size_t PendingFetchFailures() {
    size_t n = 0;
    EXPECT_EQ(rd_kafka_mock_broker_error_stack_cnt(cluster_, 1, kFetchApiKey, &n),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    return n;
  }

 private:
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

// Polls `done` every 5 ms until it holds or `timeout` passes; returns whether it held.
bool PollUntil(const std::function<bool()>& done, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

std::string Record(int i) {
  return R"({"id":"canonical:e)" + std::to_string(i) +
         R"(","source":"canonical","type":"work_item.commented","occurred_at":"2026-01-01T00:00:00Z",)"
         R"("actor":"jira:a","subject":{"kind":"work_item","id":"W)" +
         std::to_string(i % 17) + R"("}})";
}

// Produces `records` to `topic` (keys spread them over the partitions); returns when all are
// acknowledged. Goes through the module's own RecordProducer, so it is exercised too. With
// `per_flush`, flushes after every `per_flush` records: each flush is a produce request of
// its own, so the partitions hold many small message sets.
void Produce(const std::string& bootstrap, const std::string& topic,
             const std::vector<std::string>& records, size_t per_flush = 0) {
  auto producer = RecordProducer::Create(bootstrap);
  ASSERT_TRUE(producer.ok()) << producer.error().message();
  for (size_t i = 0; i < records.size(); ++i) {
    ASSERT_TRUE(
        (*producer)->Produce(topic, "k" + std::to_string(i), {{"X-Test", "1"}}, records[i]).ok());
    if (per_flush > 0 && (i + 1) % per_flush == 0) {
      ASSERT_TRUE((*producer)->Flush(30000).ok());
    }
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
  // A cluster of its own, paced: each fetch takes a 50 ms round trip and brings at most one
  // message set per partition, and there are 50 sets of 10 records. The backlog takes many
  // fetches, so the outage lands in the middle of it and little is fetched ahead.
  PacedMockCluster cluster("canon", 3);
  ASSERT_TRUE(cluster.ok());
  config_.brokers = cluster.bootstrap_servers();
  config_.properties["max.partition.fetch.bytes"] = "1";
  // Reconnect quickly after the injected disconnects (librdkafka's backoff grows to 10 s).
  config_.properties["reconnect.backoff.ms"] = "10";
  config_.properties["reconnect.backoff.max.ms"] = "100";
  std::vector<std::string> records;
  for (int i = 0; i < 500; ++i) records.push_back(Record(i));
  Produce(config_.brokers, "canon", records, 10);
  cluster.SetRttMs(50);
  // What can reach the log while the broker is down: records already fetched, at most two
  // fetch responses of one 10-record set per partition.
  constexpr uint64_t kFetchedAhead = 2 * 3 * 10;
  uint64_t at_down = 0, at_up = 0;
  size_t pending_at_up = 0;
  IngestUntil(500, [&] {
    ASSERT_TRUE(
        PollUntil([&] { return log_->LastSequence().value() > 0; }, std::chrono::seconds(30)));
    cluster.FailNextFetches(5);
    cluster.SetDown(true);
    at_down = log_->LastSequence().value();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the outage lasts 500 ms
    at_up = log_->LastSequence().value();
    pending_at_up = cluster.PendingFetchFailures();
    cluster.SetDown(false);
  });
  std::printf("outage: down at %llu, up at %llu of 500 events\n",
              static_cast<unsigned long long>(at_down), static_cast<unsigned long long>(at_up));
  // The outage interrupted fetching: it began mid-backlog; while the broker was down the log
  // grew by no more than what was already fetched, the backlog stayed unfinished and no fetch
  // reached the broker; after it, the five injected fetch failures were all met.
  EXPECT_LT(at_down, 500u);
  EXPECT_LE(at_up - at_down, kFetchedAhead) << "the log kept growing while the broker was down";
  EXPECT_LT(at_up, 500u);
  EXPECT_EQ(pending_at_up, 5u) << "a fetch reached the broker while it was down";
  EXPECT_EQ(cluster.PendingFetchFailures(), 0u) << "the fetches after the outage never failed";
  // ... and the recovery loses nothing and duplicates nothing.
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
