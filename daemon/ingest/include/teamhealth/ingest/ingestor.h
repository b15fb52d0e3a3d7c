#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "teamhealth/base/result.h"
#include "teamhealth/config/config.h"
#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/logging/logging.h"
#include "teamhealth/sources/source.h"

namespace teamhealth::ingest {

// Receives ingest progress; the metrics module implements it. OnBatch is called on the log's
// writer thread, the others on the consuming thread (the one that runs Ingestor::Run).
class IngestObserver {
 public:
  virtual ~IngestObserver() = default;
  virtual void OnBatch(const eventlog::AppendOutcome& outcome) = 0;
  // Messages behind the high watermark, summed over the topic's partitions.
  virtual void OnLag(std::string_view topic, int64_t lag) = 0;
  // Whether Kafka is reachable and every assigned partition fetching (false after 30 s of
  // not), reported about twice a second. Not fetching: librdkafka's statistics say so, or the
  // partition had fetch errors in the last 5 s, or it has records to read and none arrived for
  // 10 s (fetch errors librdkafka retries by itself do not show in its statistics).
  virtual void OnKafkaUp(bool) {}
  // A configured topic the brokers do not know (true), or that exists (false).
  virtual void OnTopicMissing(std::string_view, bool) {}
  // Ingest paused because the state directory's filesystem is full (true), or resumed (false).
  virtual void OnDiskFull(bool) {}
};

// The ingest loop's timings. The defaults are the daemon's; tests shorten them.
struct IngestTimings {
  // How long Kafka may be unreachable (or an assigned partition not fetching) before it
  // counts as down: teamhealth_kafka_up 0 and /readyz 503.
  std::chrono::milliseconds kafka_down_after{30000};
  // After a write failed because the state directory's filesystem is full, the wait before
  // the first retry; it doubles with every failed retry up to `disk_retry_max`.
  std::chrono::milliseconds disk_retry_first{1000};
  std::chrono::milliseconds disk_retry_max{10000};
};

// Why the ingest is or is not ready (/readyz): `reason` says what it waits for, or, when
// ready, what is degraded (missing topics).
struct Readiness {
  bool ready = false;
  std::string reason;
};

// Consumes the configured topics into the event log with exactly-once semantics: every
// partition is assigned manually at the next offset stored in the log; each write's events,
// quarantine records and next offsets are appended in one atomic write; nothing is ever
// committed to or read from Kafka's group offsets. Two threads: the one calling Run()
// consumes and normalises, a LogWriter thread (log_writer.h) writes, with a bounded queue
// between them.
//
// Borrows the log, registry and observer, which must outlive it. Run() is called from one
// thread; Ready() from any.
class Ingestor {
 public:
  virtual ~Ingestor() = default;

  static Result<std::unique_ptr<Ingestor>> Create(const config::KafkaConfig& config,
                                                  eventlog::EventLog& log,
                                                  sources::SourceRegistry& registry,
                                                  IngestObserver& observer, logging::Logger logger,
                                                  IngestTimings timings = {});

  // Consumes until `stop` is set, then writes what it consumed (the queue, a few MB) and
  // returns. Returns an
  // error only for failures that make further ingest unsafe (the log cannot be written).
  // A full disk is not one of them: ingest pauses (not ready, the reason says "disk full"),
  // rereads the batch that failed from its stored offsets and retries with a backoff
  // (IngestTimings) until a write succeeds, so nothing is lost or appended twice; `stop` is
  // honoured while paused.
  // `between_batches`, if set, runs on the log's writer thread between two writes, and every
  // ~100 ms when idle: the place for other writers of the log (directory reloads), since the
  // log has a single writer. It does not run while ingest is paused on a full disk.
  virtual Status Run(const std::atomic<bool>& stop,
                     const std::function<Status()>& between_batches = {}) = 0;

  // Ready once every partition of the existing topics is assigned at its stored offset and
  // has caught up to the end of the partition at least once, and while Kafka is up (not
  // unreachable, every assigned partition fetching, for more than 30 s) and the log can be
  // written (not paused on a full disk). A configured topic that does not exist never blocks
  // the others: it is polled for every 5 s.
  virtual Readiness State() const = 0;
  bool Ready() const { return State().ready; }
};

// Checks every librdkafka property the consumer would be created with (the ingest defaults,
// kafka.properties, the fetch limits of kafka.max_record_bytes) without connecting: unknown
// names and invalid values are errors naming the property (check-config).
Status CheckKafkaConfig(const config::KafkaConfig& config);

// librdkafka's in-process mock cluster, for the demo and local trials: a real Kafka-protocol
// listener on loopback that keeps at most 5 MiB per partition. Never used by tests that stand
// for the real broker. Thread-safe after construction.
class EmbeddedBroker {
 public:
  virtual ~EmbeddedBroker() = default;
  // Starts the cluster and creates `topics` with `partitions` partitions each.
  static Result<std::unique_ptr<EmbeddedBroker>> Start(const std::vector<std::string>& topics,
                                                       int partitions);
  virtual std::string bootstrap_servers() const = 0;

  // Fault injection, for tests: the next `count` fetch requests fail with a disconnect.
  virtual void FailNextFetches(int count) = 0;
  // Fault injection, for tests: takes the broker down (refusing connections) or back up.
  virtual void SetDown(bool down) = 0;
};

}  // namespace teamhealth::ingest
