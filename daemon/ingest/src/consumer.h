#pragma once

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "teamhealth/base/result.h"
#include "teamhealth/base/types.h"
#include "teamhealth/logging/logging.h"

namespace teamhealth::ingest {

struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

// What librdkafka's last statistics (statistics.interval.ms) say about the connection.
struct KafkaHealth {
  std::chrono::steady_clock::time_point at;  // when the statistics arrived; epoch: none yet
  int brokers_up = 0;                         // brokers (not bootstrap/internal) in state UP
  // Assigned partitions that are not fetching: fetch_state other than "active", or a leader
  // that is not UP. "topic/partition (why)".
  std::vector<std::string> not_fetching;
};

// A thin RAII wrapper over a librdkafka consumer used with manual assignment. Not
// thread-safe: one thread drives it (Health() may be called from it only too).
class Consumer final {
 public:
  // `properties` are librdkafka settings layered over the ingest defaults; librdkafka's logs
  // go to `logger`.
  static Result<std::unique_ptr<Consumer>> Create(
      const std::map<std::string, std::string>& properties, logging::Logger logger);
  ~Consumer();

  // Applies `properties` over the ingest defaults to a throwaway librdkafka configuration:
  // the errors Create would meet in the properties, without creating a client.
  static Status CheckProperties(const std::map<std::string, std::string>& properties);

  // Partition count of `topic`, or an error (topic missing, broker unreachable);
  // `missing` tells the first from the others (the broker answered that it does not exist).
  Result<int> PartitionCount(const std::string& topic, int timeout_ms, bool& missing);
  // Replaces the assignment: each partition starts exactly at the given offset
  // (KafkaOffset(RD_KAFKA_OFFSET_BEGINNING) for "from the start").
  Status Assign(const std::map<TopicPartition, KafkaOffset>& positions);
  // Drops the whole assignment: nothing is fetched, and whatever was fetched and not consumed
  // is discarded, until the next Assign.
  Status Unassign();
  // Up to `max` messages (or error events), waiting at most `timeout_ms`.
  void ConsumeBatch(int timeout_ms, int max, std::vector<MessagePtr>& out);
  // Cached high watermark from the last fetch; -1 when unknown.
  int64_t HighWatermark(const TopicPartition& tp);
  // Queries the broker for the low watermark (first retained offset).
  Result<int64_t> LowWatermark(const TopicPartition& tp, int timeout_ms);
  // Queries the broker for the high watermark (end offset).
  Result<int64_t> HighWatermarkQuery(const TopicPartition& tp, int timeout_ms);
  // The connection as of the last statistics (delivered while ConsumeBatch polls).
  KafkaHealth Health() const;

  // Shared with librdkafka's callbacks (the handle's opaque).
  struct Callbacks {
    logging::Logger logger;
    mutable std::mutex mu;
    KafkaHealth health;
  };

 private:
  Consumer(rd_kafka_t* rk, rd_kafka_queue_t* queue, std::unique_ptr<Callbacks> callbacks)
      : rk_(rk), queue_(queue), callbacks_(std::move(callbacks)) {}
  rd_kafka_t* rk_;
  rd_kafka_queue_t* queue_;
  std::unique_ptr<Callbacks> callbacks_;
};

// Parses librdkafka's statistics JSON into a KafkaHealth (for tests: the parser alone).
KafkaHealth ParseKafkaStatistics(std::string_view json);

}  // namespace teamhealth::ingest
