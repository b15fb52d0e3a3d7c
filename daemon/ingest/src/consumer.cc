#include "consumer.h"

#include <librdkafka/rdkafka_mock.h>

#include "teamhealth/ingest/ingestor.h"

namespace teamhealth::ingest {
namespace {

Status Set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    return Error("kafka property " + key + ": " + err);
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Consumer>> Consumer::Create(
    const std::map<std::string, std::string>& properties) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // Offsets live in the event log: never commit to Kafka, never read group offsets, and never
  // silently jump when an offset is out of range (auto.offset.reset=error surfaces it).
  std::map<std::string, std::string> all = {
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "error"},
      {"enable.partition.eof", "true"},
      // Only committed records of transactional producers; plain records are unaffected.
      {"isolation.level", "read_committed"},
      {"queued.min.messages", "200000"},
      {"fetch.wait.max.ms", "100"},
  };
  for (const auto& [k, v] : properties) all[k] = v;
  for (const auto& [k, v] : all) {
    if (auto s = Set(conf, k, v); !s) {
      rd_kafka_conf_destroy(conf);
      return s.error();
    }
  }
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return Error(std::string("cannot create kafka consumer: ") + err);
  }
  rd_kafka_poll_set_consumer(rk);
  return std::unique_ptr<Consumer>(new Consumer(rk, rd_kafka_queue_get_consumer(rk)));
}

Consumer::~Consumer() {
  rd_kafka_queue_destroy(queue_);
  rd_kafka_consumer_close(rk_);
  rd_kafka_destroy(rk_);
}

Result<int> Consumer::PartitionCount(const std::string& topic, int timeout_ms) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(rk_, 0, rkt, &md, timeout_ms);
  rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error("metadata for topic " + topic + ": " + rd_kafka_err2str(err));
  }
  Result<int> out = Error("topic " + topic + " not in metadata");
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    if (topic != t.topic) continue;
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      out = Error("topic " + topic + ": " + rd_kafka_err2str(t.err));
    } else if (t.partition_cnt == 0) {
      out = Error("topic " + topic + " has no partitions yet");
    } else {
      out = t.partition_cnt;
    }
  }
  rd_kafka_metadata_destroy(md);
  return out;
}

Status Consumer::Assign(const std::map<TopicPartition, KafkaOffset>& positions) {
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(positions.size()));
  for (const auto& [tp, offset] : positions) {
    rd_kafka_topic_partition_list_add(list, tp.topic.c_str(), tp.partition.value())->offset =
        offset.value();
  }
  const rd_kafka_resp_err_t err = rd_kafka_assign(rk_, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error(std::string("kafka assign: ") + rd_kafka_err2str(err));
  }
  return Status::Ok();
}

void Consumer::ConsumeBatch(int timeout_ms, int max, std::vector<MessagePtr>& out) {
  std::vector<rd_kafka_message_t*> raw(static_cast<size_t>(max));
  const ssize_t n = rd_kafka_consume_batch_queue(queue_, timeout_ms, raw.data(), raw.size());
  for (ssize_t i = 0; i < n; ++i) out.emplace_back(raw[static_cast<size_t>(i)]);
}

int64_t Consumer::HighWatermark(const TopicPartition& tp) {
  int64_t lo = -1, hi = -1;
  if (rd_kafka_get_watermark_offsets(rk_, tp.topic.c_str(), tp.partition.value(), &lo, &hi) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return -1;
  }
  return hi;
}

namespace {
Result<std::pair<int64_t, int64_t>> QueryWatermarks(rd_kafka_t* rk, const TopicPartition& tp,
                                                    int timeout_ms) {
  int64_t lo = -1, hi = -1;
  const auto err = rd_kafka_query_watermark_offsets(rk, tp.topic.c_str(), tp.partition.value(), &lo,
                                                    &hi, timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error(std::string("watermarks: ") + rd_kafka_err2str(err));
  }
  return std::make_pair(lo, hi);
}
}  // namespace

Result<int64_t> Consumer::LowWatermark(const TopicPartition& tp, int timeout_ms) {
  auto w = QueryWatermarks(rk_, tp, timeout_ms);
  if (!w) return w.error();
  return w->first;
}

Result<int64_t> Consumer::HighWatermarkQuery(const TopicPartition& tp, int timeout_ms) {
  auto w = QueryWatermarks(rk_, tp, timeout_ms);
  if (!w) return w.error();
  return w->second;
}

namespace {

class MockBroker final : public EmbeddedBroker {
 public:
  MockBroker(rd_kafka_t* rk, rd_kafka_mock_cluster_t* cluster) : rk_(rk), cluster_(cluster) {}
  ~MockBroker() override {
    rd_kafka_mock_cluster_destroy(cluster_);
    rd_kafka_destroy(rk_);
  }
  std::string bootstrap_servers() const override {
    return rd_kafka_mock_cluster_bootstraps(cluster_);
  }
  void FailNextFetches(int count) override {
    constexpr int16_t kFetchApiKey = 1;
    const std::vector<rd_kafka_resp_err_t> errors(static_cast<size_t>(count),
                                                  RD_KAFKA_RESP_ERR__TRANSPORT);
    rd_kafka_mock_push_request_errors_array(cluster_, kFetchApiKey, errors.size(), errors.data());
  }
  void SetDown(bool down) override {
    if (down) {
      rd_kafka_mock_broker_set_down(cluster_, -1);
    } else {
      rd_kafka_mock_broker_set_up(cluster_, -1);
    }
  }

 private:
  rd_kafka_t* rk_;
  rd_kafka_mock_cluster_t* cluster_;
};

}  // namespace

Result<std::unique_ptr<EmbeddedBroker>> EmbeddedBroker::Start(
    const std::vector<std::string>& topics, int partitions) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // This handle only hosts the mock cluster and never connects: silence the notice that it
  // has no bootstrap.servers.
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return Error(std::string("embedded broker: ") + err);
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, 1);
  if (!cluster) {
    rd_kafka_destroy(rk);
    return Error("embedded broker: cannot start librdkafka mock cluster");
  }
  auto broker = std::make_unique<MockBroker>(rk, cluster);
  for (const auto& t : topics) {
    if (auto e = rd_kafka_mock_topic_create(cluster, t.c_str(), partitions, 1);
        e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Error("embedded broker: create topic " + t + ": " + rd_kafka_err2str(e));
    }
  }
  return std::unique_ptr<EmbeddedBroker>(std::move(broker));
}

}  // namespace teamhealth::ingest
