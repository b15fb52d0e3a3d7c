// Ingest against librdkafka's mock cluster, with injected faults. The real-broker tests are in
// tests/integration; these are the fast fault-injection cases.
#include "teamhealth/ingest/ingestor.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "full_disk_store.h"
#include "teamhealth/ingest/producer.h"
#include "teamhealth/storage/store.h"
#include "temp_dir.h"

namespace teamhealth::ingest {
namespace {

class CountingObserver final : public IngestObserver {
 public:
  void OnBatch(const eventlog::AppendOutcome&) override { ++batches; }
  void OnLag(std::string_view, int64_t lag) override { last_lag = lag; }
  void OnKafkaUp(bool up) override { kafka_up = up ? 1 : 0; }
  std::atomic<int> batches{0};
  std::atomic<int64_t> last_lag{-1};
  std::atomic<int> kafka_up{-1};  // -1: not reported yet
};

// librdkafka's mock cluster (`brokers` brokers, ids 1..n; the topic replicated on all of them)
// driven directly, for the switches EmbeddedBroker does not expose: a round-trip time that
// paces fetches, fetch errors whose consumption can be counted, leader changes.
// Not thread-safe.
class PacedMockCluster {
 public:
  static constexpr int16_t kFetchApiKey = 1;

  PacedMockCluster(const std::string& topic, int partitions, int brokers = 1) : topic_(topic) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);  // hosts the cluster only
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (rk_ == nullptr) {
      ADD_FAILURE() << err;
      return;
    }
    cluster_ = rd_kafka_mock_cluster_new(rk_, brokers);
    if (cluster_ == nullptr) {
      ADD_FAILURE() << "cannot start the mock cluster";
      return;
    }
    EXPECT_EQ(rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, brokers),
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
  void SetRttMs(int ms) { rd_kafka_mock_broker_set_rtt(cluster_, -1, ms); }
  void SetLeader(int partition, int broker) {
    EXPECT_EQ(rd_kafka_mock_partition_set_leader(cluster_, topic_.c_str(), partition, broker),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  // Every fetch request, to any broker, fails with `error` until ClearFetchErrors().
  void FailFetchesWith(rd_kafka_resp_err_t error) {
    const std::vector<rd_kafka_resp_err_t> errors(100000, error);
    rd_kafka_mock_push_request_errors_array(cluster_, kFetchApiKey, errors.size(),
                                            errors.data());
  }
  void ClearFetchErrors() { rd_kafka_mock_clear_request_errors(cluster_, kFetchApiKey); }
  // Probes of which fetch requests reach `broker`: the next `count` fetch requests it
  // receives succeed as usual, each taking one entry off its error stack.
  void PushFetchProbes(int broker, int count) {
    for (int i = 0; i < count; ++i) {
      EXPECT_EQ(rd_kafka_mock_broker_push_request_error_rtts(cluster_, broker, kFetchApiKey, 1,
                                                             RD_KAFKA_RESP_ERR_NO_ERROR, 0),
                RD_KAFKA_RESP_ERR_NO_ERROR);
    }
  }
  size_t PendingFetchEntries(int broker) {
    size_t n = 0;
    EXPECT_EQ(rd_kafka_mock_broker_error_stack_cnt(cluster_, broker, kFetchApiKey, &n),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    return n;
  }
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
  size_t PendingFetchFailures() { return PendingFetchEntries(1); }

 private:
  std::string topic_;
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
    disk_.reset();
    store_.reset();
    auto store = storage::Store::Open({dir_.path(), false, false});
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    auto log = eventlog::EventLog::Open(*store_);
    ASSERT_TRUE(log.ok());
    log_ = std::move(*log);
  }

  // The log over a store whose writes fail as on a full disk while disk_->full is set.
  void OpenLogOnFullDiskStore() {
    log_.reset();
    disk_ = std::make_unique<testing::FullDiskStore>(*store_);
    auto log = eventlog::EventLog::Open(*disk_);
    ASSERT_TRUE(log.ok());
    log_ = std::move(*log);
  }

  std::unique_ptr<Ingestor> MakeIngestor() {
    auto ingestor =
        Ingestor::Create(config_, *log_, *registry_, observer_, loggers_.Get("t"), timings_);
    EXPECT_TRUE(ingestor.ok()) << ingestor.error().message();
    return ingestor.ok() ? std::move(*ingestor) : nullptr;
  }

  // Runs an ingestor until the log holds `expected` events (bounded by a deadline), then stops
  // it the way SIGTERM does.
  void IngestUntil(uint64_t expected, const std::function<void()>& during = {}) {
    auto ingestor = MakeIngestor();
    ASSERT_NE(ingestor, nullptr);
    std::atomic<bool> stop{false};
    Status status;
    std::thread runner([&] { status = ingestor->Run(stop); });
    if (during) during();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (log_->LastSequence().value() < expected && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    while (!ingestor->Ready() && std::chrono::steady_clock::now() < deadline) {
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
  IngestTimings timings_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<testing::FullDiskStore> disk_;  // over store_, when a test uses one
  std::unique_ptr<eventlog::EventLog> log_;
  std::unique_ptr<sources::SourceRegistry> registry_ = sources::MakeSourceRegistry();
  CountingObserver observer_;
};

// An Ingestor running on its own thread until the object is destroyed (or Stop()).
class RunningIngestor {
 public:
  explicit RunningIngestor(std::unique_ptr<Ingestor> ingestor)
      : ingestor_(std::move(ingestor)), runner_([this] {
          status_ = ingestor_->Run(stop_);
          returned_ = true;
        }) {}
  ~RunningIngestor() { (void)Stop(); }
  // Stops it the way SIGTERM does; returns what Run returned.
  Status Stop() {
    stop_ = true;
    if (runner_.joinable()) runner_.join();
    return status_;
  }
  Ingestor& operator*() { return *ingestor_; }
  Ingestor* operator->() { return ingestor_.get(); }
  bool returned() const { return returned_; }

 private:
  std::unique_ptr<Ingestor> ingestor_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> returned_{false};
  Status status_;
  std::thread runner_;
};

// The end offset of each partition of `topic`, from the broker.
std::vector<int64_t> EndOffsets(const std::string& bootstrap, const std::string& topic,
                                int partitions) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  std::vector<int64_t> ends;
  for (int p = 0; rk != nullptr && p < partitions; ++p) {
    int64_t lo = -1, hi = -1;
    EXPECT_EQ(rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &lo, &hi, 10000),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    ends.push_back(hi);
  }
  if (rk != nullptr) rd_kafka_destroy(rk);
  return ends;
}

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

// The stored offset of every partition is its end offset.
void ExpectOffsetsAtEnd(eventlog::EventLog& log, const std::string& bootstrap, int partitions) {
  const auto ends = EndOffsets(bootstrap, "canon", partitions);
  auto offsets = log.Offsets();
  ASSERT_TRUE(offsets.ok());
  for (int p = 0; p < partitions; ++p) {
    const auto it = offsets->find(TopicPartition{"canon", PartitionId(p)});
    ASSERT_NE(it, offsets->end()) << "partition " << p;
    EXPECT_EQ(it->second.value(), ends[static_cast<size_t>(p)]) << "partition " << p;
  }
}

std::vector<std::string> Records(int from, int to) {
  std::vector<std::string> records;
  for (int i = from; i < to; ++i) records.push_back(Record(i));
  return records;
}

// A full disk pauses ingest instead of stopping it: the write is retried with a backoff, the
// log does not move, readiness says why, and once writes succeed again everything is ingested
// exactly once.
// Readiness follows what the log stores, not an idle writer: records arriving every few
// milliseconds keep the writer busy at every check, and the daemon must still become ready
// once it has stored what it read up to the end it first reached.
TEST_F(IngestorTest, BecomesReadyWhileRecordsKeepArriving) {
  // Every write takes 30 ms, as an fsync on a slow disk does: the writer is busy whenever
  // records arrive.
  OpenLogOnFullDiskStore();
  disk_->write_delay_ms = 30;
  Produce(config_.brokers, "canon", Records(0, 200));
  std::atomic<bool> stop{false};
  std::atomic<int> produced{200};
  std::thread stream([&] {
    auto producer = RecordProducer::Create(config_.brokers);
    ASSERT_TRUE(producer.ok());
    for (int i = 200; !stop && i < 200000; ++i) {
      ASSERT_TRUE((*producer)->Produce("canon", "k" + std::to_string(i), {}, Record(i)).ok());
      produced = i + 1;
      if (i % 20 == 0) {
        ASSERT_TRUE((*producer)->Flush(30000).ok());
      }
    }
    (void)(*producer)->Flush(30000);
  });
  RunningIngestor ingestor(MakeIngestor());
  const bool ready = PollUntil([&] { return ingestor->Ready(); }, std::chrono::seconds(30));
  const int produced_when_ready = produced;
  stop = true;
  stream.join();
  ASSERT_TRUE(ready) << "not ready while records kept arriving";
  EXPECT_LT(produced_when_ready, 200000);    // the stream was still running
  EXPECT_GE(log_->LastSequence().value(), 200u);  // what was there at the start is stored
}

TEST_F(IngestorTest, PausesOnAFullDiskAndResumesWithoutLossOrDuplicates) {
  OpenLogOnFullDiskStore();
  timings_.disk_retry_first = std::chrono::milliseconds(20);
  timings_.disk_retry_max = std::chrono::milliseconds(100);
  Produce(config_.brokers, "canon", Records(0, 150));
  RunningIngestor ingestor(MakeIngestor());
  ASSERT_TRUE(PollUntil([&] { return log_->LastSequence().value() == 150 && ingestor->Ready(); },
                        std::chrono::seconds(60)));

  const int written_before = disk_->succeeded_writes.load();
  disk_->full = true;
  Produce(config_.brokers, "canon", Records(150, 300));
  ASSERT_TRUE(PollUntil([&] { return !ingestor->Ready(); }, std::chrono::seconds(30)));
  // Retried, with a backoff: several failed writes, none of which reached the log.
  ASSERT_TRUE(PollUntil([&] { return disk_->failed_writes.load() >= 4; },
                        std::chrono::seconds(30)));
  const Readiness paused = ingestor->State();
  EXPECT_FALSE(paused.ready);
  EXPECT_NE(paused.reason.find("disk full: write to /test/state: IO error: No space left"),
            std::string::npos)
      << paused.reason;
  EXPECT_NE(paused.reason.find("ingest paused"), std::string::npos) << paused.reason;
  EXPECT_EQ(log_->LastSequence(), Sequence(150));
  EXPECT_FALSE(ingestor.returned()) << "a full disk stopped ingest";
  EXPECT_EQ(disk_->succeeded_writes.load(), written_before);

  disk_->full = false;
  ASSERT_TRUE(PollUntil([&] { return log_->LastSequence().value() == 300 && ingestor->Ready(); },
                        std::chrono::seconds(60)))
      << "last_sequence=" << log_->LastSequence().value()
      << " reason=" << ingestor->State().reason;
  ASSERT_TRUE(ingestor.Stop().ok());
  EXPECT_EQ(Ids().size(), 300u);
  EXPECT_EQ(log_->counters().duplicate.count("canonical"), 0u);
  EXPECT_EQ(log_->counters().ingested.at("canonical"), 300u);
  ExpectOffsetsAtEnd(*log_, config_.brokers, 3);
}

// SIGTERM while paused on a full disk stops at once and cleanly; the next start ingests
// everything once.
TEST_F(IngestorTest, StopsCleanlyWhilePausedOnAFullDisk) {
  OpenLogOnFullDiskStore();
  timings_.disk_retry_first = std::chrono::milliseconds(50);
  disk_->full = true;
  Produce(config_.brokers, "canon", Records(0, 100));
  {
    RunningIngestor ingestor(MakeIngestor());
    ASSERT_TRUE(PollUntil(
        [&] { return ingestor->State().reason.starts_with("disk full: ") &&
                     disk_->failed_writes.load() >= 2; },
        std::chrono::seconds(30)))
        << ingestor->State().reason;
    const auto stopping = std::chrono::steady_clock::now();
    EXPECT_TRUE(ingestor.Stop().ok());
    EXPECT_LT(std::chrono::steady_clock::now() - stopping, std::chrono::seconds(5));
  }
  EXPECT_EQ(log_->LastSequence(), Sequence(0));
  disk_->full = false;
  IngestUntil(100);
  EXPECT_EQ(Ids().size(), 100u);
  ExpectOffsetsAtEnd(*log_, config_.brokers, 3);
}

// A leader change in the middle of a backlog (three brokers, every partition moved from broker
// 1 to broker 2): the consumer follows the new leader, and nothing is lost or read twice.
TEST_F(IngestorTest, ALeaderChangeMidIngestLosesAndDuplicatesNothing) {
  PacedMockCluster cluster("canon", 3, 3);
  ASSERT_TRUE(cluster.ok());
  for (int p = 0; p < 3; ++p) cluster.SetLeader(p, 1);
  config_.brokers = cluster.bootstrap_servers();
  config_.properties["max.partition.fetch.bytes"] = "1";  // one 10-record set per fetch
  Produce(config_.brokers, "canon", Records(0, 600), 10);
  cluster.SetRttMs(20);
  // Probes on broker 2: each fetch request it receives takes one off (and is served as usual).
  constexpr size_t kProbes = 100000;
  cluster.PushFetchProbes(2, kProbes);
  uint64_t at_change = 0;
  size_t probes_before = 0;
  bool moved = false;
  IngestUntil(600, [&] {
    ASSERT_TRUE(
        PollUntil([&] { return log_->LastSequence().value() > 0; }, std::chrono::seconds(30)));
    probes_before = cluster.PendingFetchEntries(2);
    at_change = log_->LastSequence().value();
    for (int p = 0; p < 3; ++p) cluster.SetLeader(p, 2);
    moved = PollUntil([&] { return cluster.PendingFetchEntries(2) < kProbes; },
                      std::chrono::seconds(30));
  });
  std::printf("leader change at %llu of 600 events\n",
              static_cast<unsigned long long>(at_change));
  // The change landed mid-backlog, nothing had fetched from broker 2 before it, and the
  // consumer then fetched from broker 2.
  EXPECT_LT(at_change, 600u);
  EXPECT_EQ(probes_before, kProbes) << "broker 2 was fetched from before it led anything";
  EXPECT_TRUE(moved) << "no fetch reached the new leader";
  EXPECT_EQ(log_->LastSequence(), Sequence(600));
  EXPECT_EQ(Ids().size(), 600u);
  EXPECT_EQ(log_->counters().duplicate.count("canonical"), 0u);
  ExpectOffsetsAtEnd(*log_, config_.brokers, 3);
}

// Fetch requests failing with `error` for longer than the grace period (shortened to 2 s):
// readiness and teamhealth_kafka_up turn down; once the errors stop they come back, and the
// records produced meanwhile are ingested once.
class FetchErrorTest : public IngestorTest,
                       public ::testing::WithParamInterface<rd_kafka_resp_err_t> {};

TEST_P(FetchErrorTest, PersistentFetchErrorsTurnKafkaDownUntilTheyStop) {
  const rd_kafka_resp_err_t error = GetParam();
  PacedMockCluster cluster("canon", 3, 3);
  ASSERT_TRUE(cluster.ok());
  config_.brokers = cluster.bootstrap_servers();
  config_.properties["max.partition.fetch.bytes"] = "1";
  timings_.kafka_down_after = std::chrono::seconds(2);
  Produce(config_.brokers, "canon", Records(0, 150), 10);
  Produce(config_.brokers, "canon", Records(150, 600), 10);
  cluster.SetRttMs(30);
  RunningIngestor ingestor(MakeIngestor());
  ASSERT_TRUE(PollUntil([&] { return log_->LastSequence().value() > 0 && observer_.kafka_up == 1; },
                        std::chrono::seconds(30)));
  cluster.FailFetchesWith(error);
  const auto failing_since = std::chrono::steady_clock::now();
  const uint64_t at_fault = log_->LastSequence().value();
  ASSERT_TRUE(PollUntil([&] { return observer_.kafka_up == 0 && !ingestor->Ready(); },
                        std::chrono::seconds(30)))
      << "kafka_up=" << observer_.kafka_up << " reason=" << ingestor->State().reason;
  const auto down_after = std::chrono::steady_clock::now() - failing_since;
  const uint64_t while_down = log_->LastSequence().value();
  const Readiness down = ingestor->State();
  std::printf("%s: fault at %llu of 600 events, down after %lld ms at %llu: %s\n",
              rd_kafka_err2name(error), static_cast<unsigned long long>(at_fault),
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(down_after).count()),
              static_cast<unsigned long long>(while_down), down.reason.c_str());
  // The fault interrupted a backlog: fetching stopped short of the end.
  EXPECT_LT(while_down, 600u);
  EXPECT_GE(down_after, std::chrono::seconds(2)) << "down within the grace period";
  EXPECT_NE(down.reason.find("Kafka unreachable"), std::string::npos) << down.reason;

  cluster.ClearFetchErrors();
  ASSERT_TRUE(PollUntil(
      [&] {
        return observer_.kafka_up == 1 && ingestor->Ready() &&
               log_->LastSequence().value() == 600;
      },
      std::chrono::seconds(60)))
      << "kafka_up=" << observer_.kafka_up << " reason=" << ingestor->State().reason
      << " last_sequence=" << log_->LastSequence().value();
  ASSERT_TRUE(ingestor.Stop().ok());
  EXPECT_EQ(Ids().size(), 600u);
  EXPECT_EQ(log_->counters().duplicate.count("canonical"), 0u);
  ExpectOffsetsAtEnd(*log_, config_.brokers, 3);
}

INSTANTIATE_TEST_SUITE_P(Errors, FetchErrorTest,
                         ::testing::Values(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                           RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                                           RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT),
                         [](const ::testing::TestParamInfo<rd_kafka_resp_err_t>& info) {
                           std::string name = rd_kafka_err2name(info.param);
                           std::erase(name, '_');
                           return name;
                         });

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
