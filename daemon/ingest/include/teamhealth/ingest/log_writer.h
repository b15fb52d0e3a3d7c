#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "teamhealth/base/result.h"
#include "teamhealth/base/types.h"
#include "teamhealth/eventlog/event_log.h"

namespace teamhealth::ingest {

class IngestObserver;

// How much the writer takes into one write, and how much may wait for it.
struct WriteLimits {
  // One write (one atomic RocksDB batch, one fsync) merges queued batches while the record
  // bytes they cover stay within `max_bytes` and their records within `max_records`; a single
  // queued batch above either is written alone, never split.
  size_t max_bytes = 8 << 20;
  size_t max_records = 50000;
  // Push blocks while this many record bytes wait (backpressure on the consuming thread).
  size_t queue_max_bytes = 16 << 20;
};

// The event log's writer thread in the ingest pipeline: the consuming thread pushes each
// normalised batch (events, quarantine records, ignored counts and the next offsets they
// cover); this thread merges what is queued into one `EventLog::Append` (one atomic write, one
// fsync) and runs the log's other writer (`between_writes`) between writes.
//
// Exactly once: batches are written in the order pushed, by one thread, so every write's
// offsets cover exactly the records of that write and of the writes before it, and the log's
// dedup (the dedup column plus the ids earlier in the same write) sees every event written
// before, including those that were queued behind another batch with the same id.
//
// After a failed write nothing of it was written; the writer stops writing, drops what is
// queued and refuses pushes until Resume(): the consuming thread reads the dropped records
// again from the offsets the log stores (Committed()).
//
// Borrows `log`, `observer` (OnBatch is called on the writer thread) and `between_writes`,
// which must outlive it. Push, Drain, Idle, TakeCommitted, Failure, Resume and Stop are for one
// consuming thread; the destructor stops the thread (Stop) if it was not stopped.
class LogWriter {
 public:
  // `between_writes` (may be empty) also runs when nothing was written for ~100 ms, and not
  // after a failure until a write succeeds again.
  LogWriter(eventlog::EventLog& log, IngestObserver& observer, WriteLimits limits,
            std::function<Status()> between_writes);
  ~LogWriter();
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Queues `batch`, which covers `records` Kafka records of `bytes` value bytes; blocks while
  // the queue is full. Returns false (and drops the batch) once a write has failed.
  bool Push(eventlog::IngestBatch batch, size_t records, size_t bytes);
  // Waits until everything pushed is written, or a write failed.
  void Drain();
  // Nothing queued and no write in progress.
  bool Idle();
  // The next offset of each partition made durable since the last call (the latest write's).
  std::map<TopicPartition, KafkaOffset> TakeCommitted();
  // Writes that succeeded so far.
  uint64_t writes();
  // The error of the failed write (or of `between_writes`) that stopped writing, if any.
  std::optional<Error> Failure();
  // After a failure: writes again what is pushed from now on.
  void Resume();
  // Writes what is queued, then stops the thread (unless a write fails: then the rest is
  // dropped, to be read again at the next start).
  void Stop();

 private:
  struct Queued {
    eventlog::IngestBatch batch;
    size_t records = 0;
    size_t bytes = 0;
  };
  void Loop();
  // Takes the next write's batches off the queue: at least one, then while within the limits.
  std::vector<Queued> TakeNext();
  // Writes `taken` as one batch, then runs `between_writes`.
  Status Write(std::vector<Queued>& taken);
  void Fail(Error error);

  eventlog::EventLog& log_;
  IngestObserver& observer_;
  const WriteLimits limits_;
  const std::function<Status()> between_writes_;

  std::mutex mu_;
  std::condition_variable work_;   // something queued, or stopping
  std::condition_variable space_;  // room in the queue, a write done, or a failure
  std::deque<Queued> queue_;
  size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool stopping_ = false;
  uint64_t writes_ = 0;
  bool failed_since_write_ = false;  // no write succeeded since the last failure
  std::optional<Error> failure_;
  std::map<TopicPartition, KafkaOffset> committed_;
  std::thread thread_;
};

}  // namespace teamhealth::ingest
