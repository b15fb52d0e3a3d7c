#include "consumer.h"

#include <librdkafka/rdkafka_mock.h>
#include <simdjson.h>

#include <map>

#include "teamhealth/ingest/ingestor.h"

namespace teamhealth::ingest {
namespace {

// librdkafka passes syslog levels: 0-2 emergency..critical, 3 error, 4 warning, 5-6 notice and
// info, 7 debug.
void Forward(const logging::Logger& logger, const rd_kafka_t* rk, int level, const char* facility,
             const char* line) {
  if (logger == nullptr) return;
  const auto spd_level = level <= 2   ? spdlog::level::critical
                         : level == 3 ? spdlog::level::err
                         : level == 4 ? spdlog::level::warn
                         : level <= 6 ? spdlog::level::info
                                      : spdlog::level::debug;
  logger->log(spd_level, "librdkafka: {} facility={} client={}", line, facility,
              rd_kafka_name(rk));
}

// Log callback (librdkafka's threads): the handle's opaque is the consumer's Callbacks.
void LogFromConsumer(const rd_kafka_t* rk, int level, const char* facility, const char* line) {
  if (const auto* c = static_cast<const Consumer::Callbacks*>(rd_kafka_opaque(rk))) {
    Forward(c->logger, rk, level, facility, line);
  }
}

int OnStatistics(rd_kafka_t*, char* json, size_t json_len, void* opaque) {
  auto* callbacks = static_cast<Consumer::Callbacks*>(opaque);
  KafkaHealth health = ParseKafkaStatistics(std::string_view(json, json_len));
  std::lock_guard lock(callbacks->mu);
  callbacks->health = std::move(health);
  return 0;  // librdkafka frees the JSON
}

Status Set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    return Error("kafka property " + key + ": " + err);
  }
  return Status::Ok();
}

}  // namespace

namespace {
// A field of a statistics object, or `fallback` when absent or of another type.
template <typename T>
T Field(simdjson::dom::element object, const char* key, T fallback) {
  T value;
  return object[key].get(value) == simdjson::SUCCESS ? value : fallback;
}
}  // namespace

KafkaHealth ParseKafkaStatistics(std::string_view json) {
  KafkaHealth h;
  h.at = std::chrono::steady_clock::now();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) {
    h.not_fetching.push_back("statistics unreadable");
    return h;
  }
  std::map<int64_t, std::string> state_of_node;
  simdjson::dom::object brokers;
  if (doc["brokers"].get(brokers) == simdjson::SUCCESS) {
    for (auto [_, b] : brokers) {
      const auto state = Field<std::string_view>(b, "state", "");
      const auto source = Field<std::string_view>(b, "source", "");
      const auto node = Field<int64_t>(b, "nodeid", -1);
      if (state.empty()) continue;
      if (source == "internal" || source == "logical") continue;
      if (node >= 0) state_of_node[node] = std::string(state);
      h.brokers_up += state == "UP" ? 1 : 0;
    }
  }
  simdjson::dom::object topics;
  if (doc["topics"].get(topics) == simdjson::SUCCESS) {
    for (auto [topic, t] : topics) {
      simdjson::dom::object partitions;
      if (t["partitions"].get(partitions) != simdjson::SUCCESS) continue;
      for (auto [_, p] : partitions) {
        const auto partition = Field<int64_t>(p, "partition", -1);
        // -1: the unassigned pseudo-partition; not desired: not assigned to us.
        if (partition < 0 || !Field<bool>(p, "desired", false)) continue;
        const auto leader = Field<int64_t>(p, "leader", -1);
        const auto fetch_state = Field<std::string_view>(p, "fetch_state", "");
        std::string why;
        if (leader < 0) {
          why = "no leader";
        } else if (auto it = state_of_node.find(leader);
                   it == state_of_node.end() || it->second != "UP") {
          why = "leader broker " + std::to_string(leader) + " " +
                (it == state_of_node.end() ? std::string("unknown") : it->second);
        } else if (fetch_state != "active") {
          why = "fetch state " + std::string(fetch_state);
        }
        if (!why.empty()) {
          h.not_fetching.push_back(std::string(topic) + "/" + std::to_string(partition) + " (" +
                                   why + ")");
        }
      }
    }
  }
  return h;
}

namespace {
// `properties` over the ingest defaults, set on `conf`.
Status Configure(rd_kafka_conf_t* conf, const std::map<std::string, std::string>& properties) {
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
      // Statistics every second: the connection's health (teamhealth_kafka_up, /readyz).
      {"statistics.interval.ms", "1000"},
  };
  for (const auto& [k, v] : properties) all[k] = v;
  for (const auto& [k, v] : all) {
    if (auto s = Set(conf, k, v); !s) return s;
  }
  return Status::Ok();
}
}  // namespace

Status Consumer::CheckProperties(const std::map<std::string, std::string>& properties) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const Status s = Configure(conf, properties);
  rd_kafka_conf_destroy(conf);
  return s;
}

Result<std::unique_ptr<Consumer>> Consumer::Create(
    const std::map<std::string, std::string>& properties, logging::Logger logger) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto callbacks = std::make_unique<Callbacks>();
  callbacks->logger = std::move(logger);
  rd_kafka_conf_set_opaque(conf, callbacks.get());
  rd_kafka_conf_set_log_cb(conf, LogFromConsumer);
  rd_kafka_conf_set_stats_cb(conf, OnStatistics);
  if (auto s = Configure(conf, properties); !s) {
    rd_kafka_conf_destroy(conf);
    return s.error();
  }
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return Error(std::string("cannot create kafka consumer: ") + err);
  }
  rd_kafka_poll_set_consumer(rk);
  return std::unique_ptr<Consumer>(
      new Consumer(rk, rd_kafka_queue_get_consumer(rk), std::move(callbacks)));
}

KafkaHealth Consumer::Health() const {
  std::lock_guard lock(callbacks_->mu);
  return callbacks_->health;
}

Consumer::~Consumer() {
  rd_kafka_queue_destroy(queue_);
  rd_kafka_consumer_close(rk_);
  rd_kafka_destroy(rk_);
}

Result<int> Consumer::PartitionCount(const std::string& topic, int timeout_ms, bool& missing) {
  missing = false;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(rk_, 0, rkt, &md, timeout_ms);
  rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error("metadata for topic " + topic + ": " + rd_kafka_err2str(err));
  }
  Result<int> out = Error("topic " + topic + " not in metadata");
  missing = true;
  for (int i = 0; i < md->topic_cnt; ++i) {
    const auto& t = md->topics[i];
    if (topic != t.topic) continue;
    missing = t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
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

Status Consumer::Unassign() {
  const rd_kafka_resp_err_t err = rd_kafka_assign(rk_, nullptr);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error(std::string("kafka unassign: ") + rd_kafka_err2str(err));
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
