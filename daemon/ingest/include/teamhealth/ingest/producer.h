#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "teamhealth/base/result.h"
#include "teamhealth/logging/logging.h"

namespace teamhealth::ingest {

// How a RecordProducer talks to Kafka.
struct ProducerOptions {
  std::string bootstrap_servers;
  // Extra librdkafka properties ([kafka] properties: security.protocol, sasl.*, ssl.*);
  // consumer-only ones are ignored by librdkafka with a warning.
  std::map<std::string, std::string> properties;
  // Acknowledged delivery (the gateway): an idempotent producer with acks=all, a thread that
  // serves delivery reports, and ProduceAndWait. Off: Produce + Flush only (tools, the demo).
  bool acknowledged = false;
  // With `acknowledged`: librdkafka's message.timeout.ms, the longest a record waits for Kafka
  // before its delivery fails (and ProduceAndWait returns an error).
  int delivery_timeout_ms = 10000;
  // Largest record value, bytes (librdkafka message.max.bytes is set a little above it).
  int max_value_bytes = 1000000;
  int linger_ms = 20;
  logging::Logger logger;  // librdkafka's log lines ("librdkafka: ..."); null: its default (stderr)
};

// The outcome of one acknowledged delivery.
struct Delivery {
  enum class Outcome {
    kAcknowledged,
    kTooLarge,     // the record can never be stored as it is (larger than Kafka accepts)
    kUnavailable,  // not acknowledged in time, or refused: Kafka may take it later
  };
  Outcome outcome = Outcome::kUnavailable;
  std::string reason;  // librdkafka's words when not acknowledged
};

// Produces records to Kafka (the gateway, the demo's generator, tools). Keeps librdkafka inside
// this module. Produce and Flush: one thread. ProduceAndWait and CheckReachable: any thread.
class RecordProducer {
 public:
  virtual ~RecordProducer() = default;
  static Result<std::unique_ptr<RecordProducer>> Create(const std::string& bootstrap_servers);
  static Result<std::unique_ptr<RecordProducer>> Create(const ProducerOptions& options);

  // Queues one record; `headers` become Kafka record headers. Blocks briefly when the local
  // queue is full.
  virtual Status Produce(const std::string& topic, const std::string& key,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         const std::string& value) = 0;
  // Waits until every queued record is acknowledged (or `timeout_ms` passes).
  virtual Status Flush(int timeout_ms) = 0;

  // Produces one record and waits for its own delivery report (needs `acknowledged`):
  // kAcknowledged once every in-sync replica has it (acks=all); otherwise why not, after at
  // most the delivery timeout and a little more. A record whose delivery failed may still have
  // been written (an acknowledgement lost on the way): a retry then stores it twice in Kafka,
  // and the event log's dedup keeps one event.
  virtual Delivery ProduceAndWait(const std::string& topic, const std::string& key,
                                  const std::vector<std::pair<std::string, std::string>>& headers,
                                  const std::string& value) = 0;
  // Whether a broker answers a metadata request within `timeout_ms`.
  virtual Status CheckReachable(int timeout_ms) = 0;
};

}  // namespace teamhealth::ingest
