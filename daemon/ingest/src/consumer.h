#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "teamhealth/base/result.h"
#include "teamhealth/base/types.h"

namespace teamhealth::ingest {

struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;

// A thin RAII wrapper over a librdkafka consumer used with manual assignment. Not
// thread-safe: one thread drives it.
class Consumer final {
 public:
  // `properties` are librdkafka settings layered over the ingest defaults.
  static Result<std::unique_ptr<Consumer>> Create(
      const std::map<std::string, std::string>& properties);
  ~Consumer();

  // Partition count of `topic`, or an error (topic missing, broker unreachable).
  Result<int> PartitionCount(const std::string& topic, int timeout_ms);
  // Replaces the assignment: each partition starts exactly at the given offset
  // (KafkaOffset(RD_KAFKA_OFFSET_BEGINNING) for "from the start").
  Status Assign(const std::map<TopicPartition, KafkaOffset>& positions);
  // Up to `max` messages (or error events), waiting at most `timeout_ms`.
  void ConsumeBatch(int timeout_ms, int max, std::vector<MessagePtr>& out);
  // Cached high watermark from the last fetch; -1 when unknown.
  int64_t HighWatermark(const TopicPartition& tp);
  // Queries the broker for the low watermark (first retained offset).
  Result<int64_t> LowWatermark(const TopicPartition& tp, int timeout_ms);
  // Queries the broker for the high watermark (end offset).
  Result<int64_t> HighWatermarkQuery(const TopicPartition& tp, int timeout_ms);

 private:
  Consumer(rd_kafka_t* rk, rd_kafka_queue_t* queue) : rk_(rk), queue_(queue) {}
  rd_kafka_t* rk_;
  rd_kafka_queue_t* queue_;
};

}  // namespace teamhealth::ingest
