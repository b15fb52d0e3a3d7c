#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "teamhealth/base/result.h"

namespace teamhealth::ingest {

// Produces records to Kafka (the demo's generator, tools). Keeps librdkafka inside this module.
// Not thread-safe: one thread produces.
class RecordProducer {
 public:
  virtual ~RecordProducer() = default;
  static Result<std::unique_ptr<RecordProducer>> Create(const std::string& bootstrap_servers);

  // Queues one record; `headers` become Kafka record headers. Blocks briefly when the local
  // queue is full.
  virtual Status Produce(const std::string& topic, const std::string& key,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         const std::string& value) = 0;
  // Waits until every queued record is acknowledged (or `timeout_ms` passes).
  virtual Status Flush(int timeout_ms) = 0;
};

}  // namespace teamhealth::ingest
