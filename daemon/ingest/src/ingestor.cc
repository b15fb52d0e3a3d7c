#include "teamhealth/ingest/ingestor.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "consumer.h"
#include "teamhealth/ingest/log_writer.h"
#include "teamhealth/ingest/records.h"

namespace teamhealth::ingest {
namespace {

using Clock = std::chrono::steady_clock;

// How often missing topics are looked for again.
constexpr auto kTopicPoll = std::chrono::seconds(5);
// librdkafka's statistics do not show fetches that fail: a partition whose fetches fail with
// NOT_LEADER_OR_FOLLOWER or UNKNOWN_TOPIC_OR_PART keeps its leader and fetch state "active"
// (librdkafka retries internally), and other fetch errors only reach the application as error
// events. So a partition also counts as not fetching while it has records to read and none
// arrived for kStallAfter, or while it had an error event within kErrorFresh (they repeat
// every fetch.error.backoff.ms, 500 ms by default, while the errors last).
constexpr auto kStallAfter = std::chrono::seconds(10);
constexpr auto kErrorFresh = std::chrono::seconds(5);

struct PartitionState {
  KafkaOffset next;        // next offset to consume as far as the log stores it
  bool caught_up = false;  // reached the end of the partition at least once
  // The end offset when the consumer last reached it: beyond `next` when the partition ends
  // with records that are not delivered (transaction markers).
  int64_t end_seen = -1;
  // The offset the log must store for the partition to count as caught up: the end it first
  // reached (read, perhaps still queued for the writer). Readiness waits for the stored offset
  // to pass it, not for an idle writer, which a steady stream of records never leaves.
  int64_t ready_at = -1;
  int64_t startup_high = -1;  // high watermark queried at assignment, until fetches report one
  bool stored = false;        // the log held an offset for it at assignment
  Clock::time_point progress_at;  // last record or end of partition (or assignment)
  Clock::time_point error_at;     // last partition error event, and which
  std::string error;
  Clock::time_point error_logged_at;
};

// A write to the log failed because the state directory's filesystem is full: from the first
// failure to the next write that succeeds.
struct DiskFull {
  bool full = false;     // no write has succeeded since the last failure
  bool waiting = false;  // unassigned, waiting for `retry_at` before reading again
  std::string error;     // the last failure
  Clock::time_point since, retry_at, last_warned;
  Clock::duration backoff{};
  int retries = 0;
  uint64_t writes_at_failure = 0;  // LogWriter::writes() then: one more means resumed
};

int64_t Seconds(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

class KafkaIngestor final : public Ingestor {
 public:
  KafkaIngestor(const config::KafkaConfig& config, eventlog::EventLog& log,
                sources::SourceRegistry& registry, IngestObserver& observer, logging::Logger logger,
                std::unique_ptr<Consumer> consumer, IngestTimings timings)
      : config_(config),
        log_(log),
        registry_(registry),
        observer_(observer),
        logger_(std::move(logger)),
        consumer_(std::move(consumer)),
        timings_(timings) {
    for (const auto& t : config_.topics) source_of_topic_[t.name] = registry_.Find(t.source);
  }

  Status Run(const std::atomic<bool>& stop,
             const std::function<Status()>& between_batches) override;
  // The consuming thread's loop, while the writer thread runs.
  Status Consume(const std::atomic<bool>& stop);
  Readiness State() const override {
    std::lock_guard lock(state_mu_);
    return state_;
  }

 private:
  // Looks up the topics not assigned yet and assigns the partitions of those that exist, with
  // every partition at the offset stored in the log (or where ingest has got to since).
  Status AssignNewTopics(int metadata_timeout_ms);
  // Where each assigned partition resumes: the next offset, or the beginning when nothing
  // was ever stored for it.
  std::map<TopicPartition, KafkaOffset> Positions() const;
  // Normalises `messages` into batches of at most the write limits and queues them for the
  // writer thread.
  void ProcessBatch(std::vector<MessagePtr>& messages);
  // Takes the offsets the writer made durable and acts on its failure: a full disk pauses
  // ingest, anything else stops it.
  Status SyncWithWriter();
  // Waits until everything queued is written, then syncs: the log then stores every offset
  // consumed, so the partitions can be assigned again at Positions(). Not ready to assign when
  // it returns with disk_.waiting set.
  Status DrainWriter();
  // A write failed for lack of space: stop reading and wait before reading the batch again.
  Status PauseForSpace(const Error& error);
  // The wait is over: read again from the offsets the log stores.
  Status RetryAfterSpace();
  Status ResetOutOfRange();
  void Handle(const rd_kafka_message_t& m, eventlog::IngestBatch& batch);
  void HandleError(const rd_kafka_message_t& m, eventlog::IngestBatch& batch);
  void ReportLagAndReadiness();
  // Kafka up or down (for 30 s), from librdkafka's statistics and `stalled` (partitions with
  // failing fetches that the statistics do not show); the reason when down.
  bool CheckKafka(const std::vector<std::string>& stalled, std::string& why);
  // Every assigned partition starts afresh for the stall check (after an assignment).
  void ResetProgress();

  const config::KafkaConfig& config_;
  eventlog::EventLog& log_;
  sources::SourceRegistry& registry_;
  IngestObserver& observer_;
  logging::Logger logger_;
  std::unique_ptr<Consumer> consumer_;
  const IngestTimings timings_;
  std::unique_ptr<LogWriter> writer_;  // while Run runs
  std::map<std::string, sources::Source*> source_of_topic_;
  std::map<TopicPartition, PartitionState> partitions_;
  std::set<TopicPartition> reset_pending_;
  std::map<TopicPartition, KafkaOffset> stored_;  // offsets in the log at start
  std::set<std::string> unassigned_;             // configured topics not assigned yet
  std::map<std::string, bool> missing_;          // topic -> the brokers say it does not exist
  bool caught_up_once_ = false;
  bool kafka_up_ = false;
  DiskFull disk_;
  Clock::time_point unhealthy_since_ = Clock::now();
  mutable std::mutex state_mu_;
  Readiness state_{false, "starting: looking up the configured topics"};
  sources::NormalizeResult result_;
  std::vector<sources::RecordHeader> headers_;
};

std::map<TopicPartition, KafkaOffset> KafkaIngestor::Positions() const {
  std::map<TopicPartition, KafkaOffset> positions;
  for (const auto& [tp, st] : partitions_) {
    // Partitions that never stored an offset keep starting at the beginning.
    positions[tp] =
        st.stored || st.next.value() > 0 ? st.next : KafkaOffset(RD_KAFKA_OFFSET_BEGINNING);
  }
  return positions;
}

Status KafkaIngestor::AssignNewTopics(int metadata_timeout_ms) {
  std::vector<TopicPartition> added;
  for (auto it = unassigned_.begin(); it != unassigned_.end();) {
    const std::string& topic = *it;
    bool missing = false;
    auto count = consumer_->PartitionCount(topic, metadata_timeout_ms, missing);
    if (!count) {
      auto [m, fresh] = missing_.try_emplace(topic, !missing);
      if (fresh || m->second != missing) {
        // Said once per change, not every poll.
        logger_->warn("Waiting for topic; the other topics are ingested meanwhile. topic={} "
                      "error=\"{}\"",
                      topic, count.error().message());
        m->second = missing;
        observer_.OnTopicMissing(topic, missing);
      }
      ++it;
      continue;
    }
    for (int p = 0; p < *count; ++p) {
      const TopicPartition tp{topic, PartitionId(p)};
      const auto s = stored_.find(tp);
      PartitionState st;
      st.next = s != stored_.end() ? s->second : KafkaOffset(0);
      st.stored = s != stored_.end();
      if (auto high = consumer_->HighWatermarkQuery(tp, 5000)) st.startup_high = *high;
      st.progress_at = Clock::now();
      partitions_[tp] = st;
      added.push_back(tp);
    }
    if (missing_.contains(topic)) logger_->info("Topic found. topic={}", topic);
    missing_[topic] = false;
    observer_.OnTopicMissing(topic, false);
    it = unassigned_.erase(it);
  }
  if (added.empty()) return Status::Ok();
  // Replaces the whole assignment: partitions already assigned resume exactly where the log
  // stands once the writer has written what was consumed.
  if (auto s = DrainWriter(); !s || disk_.waiting) return s;
  const auto positions = Positions();
  if (auto s = consumer_->Assign(positions); !s) return s;
  for (const auto& tp : added) {
    const auto offset = positions.at(tp);
    logger_->info("Assigned partition. topic={} partition={} offset={}", tp.topic,
                  tp.partition.value(),
                  offset.value() == RD_KAFKA_OFFSET_BEGINNING ? std::string("beginning")
                                                              : std::to_string(offset.value()));
  }
  return Status::Ok();
}

Status KafkaIngestor::Run(const std::atomic<bool>& stop,
                          const std::function<Status()>& between_batches) {
  auto stored = log_.Offsets();
  if (!stored) return stored.error();
  stored_ = std::move(*stored);
  const WriteLimits limits{
      .max_bytes = static_cast<size_t>(config_.write_max_bytes),
      .max_records = static_cast<size_t>(config_.write_max_records),
      .queue_max_bytes = 2 * static_cast<size_t>(config_.write_max_bytes),
  };
  writer_ = std::make_unique<LogWriter>(log_, observer_, limits, between_batches);
  Status status = Consume(stop);
  // What was consumed is written before returning (a SIGTERM loses nothing it need not).
  writer_->Stop();
  for (const auto& [tp, offset] : writer_->TakeCommitted()) partitions_[tp].next = offset;
  if (auto failure = writer_->Failure(); status && failure && !failure->no_space()) {
    // A full disk is no failure here: what was not written is read again at the next start.
    logger_->error("Cannot append to the event log. error=\"{}\"", failure->message());
    status = *failure;
  }
  ReportLagAndReadiness();
  return status;
}

Status KafkaIngestor::Consume(const std::atomic<bool>& stop) {
  for (const auto& t : config_.topics) unassigned_.insert(t.name);
  if (auto s = AssignNewTopics(5000); !s) return s;
  std::vector<MessagePtr> messages;
  messages.reserve(static_cast<size_t>(config_.batch_max_messages));
  auto last_report = Clock::now() - std::chrono::seconds(10);
  auto last_topic_poll = Clock::now();
  while (!stop.load(std::memory_order_acquire)) {
    messages.clear();
    consumer_->ConsumeBatch(config_.batch_max_ms, config_.batch_max_messages, messages);
    if (disk_.waiting) {
      // Paused on a full disk: nothing is assigned, so nothing should arrive; anything that
      // still does is dropped, since the retry reads again from the stored offsets. Consuming
      // keeps librdkafka's statistics (teamhealth_kafka_up) and logs flowing meanwhile.
      messages.clear();
      if (Clock::now() >= disk_.retry_at) {
        if (auto s = RetryAfterSpace(); !s) return s;
      }
    } else {
      ProcessBatch(messages);
    }
    if (auto s = SyncWithWriter(); !s) return s;
    if (!reset_pending_.empty() && !disk_.waiting) {
      if (auto s = ResetOutOfRange(); !s) return s;
    }
    const auto now = Clock::now();
    if (!unassigned_.empty() && !disk_.waiting && now - last_topic_poll >= kTopicPoll) {
      if (auto s = AssignNewTopics(2000); !s) return s;
      last_topic_poll = Clock::now();
    }
    if (now - last_report >= std::chrono::milliseconds(500) || !caught_up_once_) {
      ReportLagAndReadiness();
      last_report = now;
    }
  }
  return Status::Ok();
}

// An out-of-range stored offset. Loud, never silent: the gap is logged with the offsets.
// Below the first retained offset (retention deleted records before they were ingested):
// resume at the first retained one. Above the end (the partition was truncated, e.g. after an
// unclean leader election or a broker restore): resume at the end, which re-reads nothing.
Status KafkaIngestor::ResetOutOfRange() {
  if (auto s = DrainWriter(); !s || disk_.waiting) return s;
  std::map<TopicPartition, KafkaOffset> positions = Positions();
  for (const auto& tp : reset_pending_) {
    auto low = consumer_->LowWatermark(tp, 5000);
    auto high = consumer_->HighWatermarkQuery(tp, 5000);
    if (!low || !high) continue;
    const int64_t stored = partitions_[tp].next.value();
    const int64_t resume = stored > *high ? *high : *low;
    if (stored > *high) {
      logger_->error(
          "Stored offset is beyond the end of the partition (truncated?); resuming at its end. "
          "topic={} partition={} stored_offset={} end={}",
          tp.topic, tp.partition.value(), stored, *high);
    } else {
      logger_->error(
          "Stored offset is no longer in Kafka; records were deleted before they were "
          "ingested. topic={} partition={} stored_offset={} first_available={}",
          tp.topic, tp.partition.value(), stored, *low);
    }
    positions[tp] = KafkaOffset(resume);
    auto& st = partitions_[tp];
    st.next = KafkaOffset(resume);
    // Its end is found again: one seen before may lie beyond a truncated partition.
    st.caught_up = false;
    st.end_seen = -1;
    st.ready_at = -1;
  }
  reset_pending_.clear();
  ResetProgress();
  return consumer_->Assign(positions);
}

void KafkaIngestor::ResetProgress() {
  const auto now = Clock::now();
  for (auto& [tp, st] : partitions_) st.progress_at = now;
}

void KafkaIngestor::ProcessBatch(std::vector<MessagePtr>& messages) {
  eventlog::IngestBatch batch;
  size_t records = 0, bytes = 0;
  auto push = [&] {
    if (batch.events.empty() && batch.quarantined.empty() && batch.next_offsets.empty() &&
        batch.ignored_by_source.empty()) {
      return;
    }
    // Refused only after a failed write: SyncWithWriter pauses, and the records are read again.
    (void)writer_->Push(std::move(batch), records, bytes);
    batch = {};
    records = bytes = 0;
  };
  for (const auto& m : messages) {
    Handle(*m, batch);
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    ++records;
    bytes += m->len;
    if (bytes >= static_cast<size_t>(config_.write_max_bytes) ||
        records >= static_cast<size_t>(config_.write_max_records)) {
      push();
    }
  }
  push();
}

Status KafkaIngestor::SyncWithWriter() {
  // The failure first: once it is set the writer writes nothing more until Resume, so the
  // offsets taken after it are all the log stores.
  const std::optional<Error> failure = writer_->Failure();
  for (const auto& [tp, offset] : writer_->TakeCommitted()) partitions_[tp].next = offset;
  if (failure) {
    if (disk_.waiting) return Status::Ok();  // paused on it already
    if (failure->no_space()) return PauseForSpace(*failure);
    logger_->error("Cannot append to the event log; stopping ingest. error=\"{}\"",
                   failure->message());
    return *failure;
  }
  if (disk_.full && writer_->writes() > disk_.writes_at_failure) {
    logger_->info("The event log can be written again; ingest resumed. paused_for_s={} "
                  "retries={}",
                  Seconds(Clock::now() - disk_.since), disk_.retries);
    disk_ = DiskFull{};
    observer_.OnDiskFull(false);
    ReportLagAndReadiness();
  }
  return Status::Ok();
}

Status KafkaIngestor::DrainWriter() {
  writer_->Drain();
  return SyncWithWriter();
}

// Exactly once across the pause, by the same argument as a restart: the failed Append wrote
// nothing (events, dedup keys, offsets and counters travel in one atomic write), the writer
// dropped what was queued behind it and refuses more, and `partitions_` advances only with
// the offsets of successful writes, so it holds the offsets the log stores. Dropping the
// assignment discards whatever was fetched after the failed batch; RetryAfterSpace assigns
// every partition at those stored offsets again, so the records of the failed and dropped
// batches are read again, once, and nothing after them is skipped.
Status KafkaIngestor::PauseForSpace(const Error& error) {
  const auto now = Clock::now();
  if (!disk_.full) {
    disk_.full = true;
    disk_.since = now;
    disk_.last_warned = now;
    disk_.backoff = timings_.disk_retry_first;
    observer_.OnDiskFull(true);
    logger_->error("No space left in the state directory; ingest paused, nothing of the batch "
                   "was written. It is read again from Kafka and retried until space is freed. "
                   "retry_in_ms={} error=\"{}\"",
                   std::chrono::duration_cast<std::chrono::milliseconds>(disk_.backoff).count(),
                   error.message());
  } else {
    ++disk_.retries;
    disk_.backoff = std::min<Clock::duration>(disk_.backoff * 2, timings_.disk_retry_max);
    if (now - disk_.last_warned >= std::chrono::minutes(1)) {  // not at every retry
      logger_->warn("Still no space left in the state directory; ingest paused. paused_for_s={} "
                    "retries={} error=\"{}\"",
                    Seconds(now - disk_.since), disk_.retries, error.message());
      disk_.last_warned = now;
    }
  }
  disk_.error = error.message();
  disk_.waiting = true;
  disk_.writes_at_failure = writer_->writes();
  reset_pending_.clear();  // found again, if still true, when the batch is read again
  disk_.retry_at = now + disk_.backoff;
  if (auto s = consumer_->Unassign(); !s) return s;
  ReportLagAndReadiness();
  return Status::Ok();
}

Status KafkaIngestor::RetryAfterSpace() {
  disk_.waiting = false;
  ResetProgress();
  writer_->Resume();
  // The store resumes RocksDB from its read-only state before the next write; the next batch
  // read from the stored offsets is that write.
  return consumer_->Assign(Positions());
}

void KafkaIngestor::Handle(const rd_kafka_message_t& m, eventlog::IngestBatch& batch) {
  if (m.err != RD_KAFKA_RESP_ERR_NO_ERROR) return HandleError(m, batch);
  const std::string topic = rd_kafka_topic_name(m.rkt);
  const TopicPartition tp{topic, PartitionId(m.partition)};
  batch.next_offsets[tp] = KafkaOffset(m.offset + 1);
  partitions_[tp].progress_at = Clock::now();

  headers_.clear();
  rd_kafka_headers_t* hdrs = nullptr;
  if (rd_kafka_message_headers(&m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0;
         rd_kafka_header_get_all(hdrs, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      headers_.push_back({name, value ? std::string_view(static_cast<const char*>(value), size)
                                      : std::string_view()});
    }
  }
  rd_kafka_timestamp_type_t ts_type;
  const int64_t ts = rd_kafka_message_timestamp(&m, &ts_type);
  const sources::RawRecord record{
      .topic = topic,
      .partition = m.partition,
      .offset = m.offset,
      .timestamp_ms = ts,
      .value = m.payload ? std::string_view(static_cast<const char*>(m.payload), m.len)
                         : std::string_view(),
      .headers = headers_,
  };
  if (AddRecord(record, source_of_topic_[topic], config_.max_record_bytes, result_, batch) !=
      RecordOutcome::kQuarantined) {
    return;
  }
  // The reference and the reason, never the body (docs/design.md section 11).
  const schema::QuarantineRecord& q = batch.quarantined.back();
  logger_->warn("Quarantined record. topic={} partition={} offset={} source={} reason={} "
                "detail=\"{}\"",
                topic, m.partition, m.offset, q.source(), q.reason(), q.detail());
}

void KafkaIngestor::HandleError(const rd_kafka_message_t& m, eventlog::IngestBatch& batch) {
  if (m.rkt == nullptr) {
    logger_->warn("Kafka error. error=\"{}\"", rd_kafka_err2str(m.err));
    return;
  }
  const TopicPartition tp{rd_kafka_topic_name(m.rkt), PartitionId(m.partition)};
  switch (m.err) {
    case RD_KAFKA_RESP_ERR__PARTITION_EOF: {
      auto& st = partitions_[tp];
      st.caught_up = true;
      st.end_seen = m.offset;  // the EOF event carries the end offset
      if (st.ready_at < 0) st.ready_at = m.offset;
      st.progress_at = Clock::now();
      // Everything below the end was delivered or is not a record (transaction markers,
      // aborted records): store the end so the stored offset matches the partition. (With
      // batches still queued `st.next` may be behind them; the end is beyond those too.)
      auto it = batch.next_offsets.find(tp);
      const int64_t next = it != batch.next_offsets.end() ? it->second.value() : st.next.value();
      if (m.offset > next) batch.next_offsets[tp] = KafkaOffset(m.offset);
      return;
    }
    case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE: reset_pending_.insert(tp); return;
    default: {
      auto& st = partitions_[tp];
      const auto now = Clock::now();
      std::string error = rd_kafka_err2str(m.err);
      // Repeated every fetch backoff while it lasts: logged when it changes, else once a minute.
      if (error != st.error || now - st.error_logged_at >= std::chrono::minutes(1)) {
        logger_->warn("Kafka partition error. topic={} partition={} error=\"{}\"", tp.topic,
                      tp.partition.value(), error);
        st.error_logged_at = now;
      }
      st.error_at = now;
      st.error = std::move(error);
    }
  }
}

bool KafkaIngestor::CheckKafka(const std::vector<std::string>& stalled, std::string& why) {
  const KafkaHealth h = consumer_->Health();
  const auto now = Clock::now();
  bool healthy = false;
  if (h.at == Clock::time_point{}) {
    why = "no connection to the brokers yet";
  } else if (now - h.at > std::chrono::seconds(10)) {
    why = "no statistics from librdkafka for " +
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - h.at).count()) +
          " s";
  } else if (h.brokers_up == 0) {
    why = "no broker reachable";
  } else if (!h.not_fetching.empty() || !stalled.empty()) {
    const auto& list = h.not_fetching.empty() ? stalled : h.not_fetching;
    const size_t n = h.not_fetching.size() + stalled.size();
    why = "not fetching: " + list.front() +
          (n > 1 ? " and " + std::to_string(n - 1) + " more" : std::string());
  } else {
    healthy = true;
  }
  if (healthy) {
    if (!kafka_up_) logger_->info("Kafka is up: every assigned partition is fetching.");
    kafka_up_ = true;
    unhealthy_since_ = now;
    return true;
  }
  const auto down_for = now - unhealthy_since_;
  // Still up within the grace period (a reconnect, a leader move): counts only when it lasts.
  if (kafka_up_ && down_for < timings_.kafka_down_after) return true;
  if (kafka_up_) {
    logger_->error("Kafka is down for {} s: {}.",
                   std::chrono::duration_cast<std::chrono::seconds>(down_for).count(), why);
  }
  kafka_up_ = false;
  why += " (" +
         std::to_string(std::chrono::duration_cast<std::chrono::seconds>(down_for).count()) +
         " s)";
  return false;
}

void KafkaIngestor::ReportLagAndReadiness() {
  std::map<std::string, int64_t> lag_by_topic;
  bool all_caught_up = !partitions_.empty();
  size_t behind = 0;
  std::vector<std::string> stalled;
  const auto now = Clock::now();
  for (auto& [tp, st] : partitions_) {
    int64_t hi = consumer_->HighWatermark(tp);
    if (hi < 0) hi = st.startup_high;
    int64_t lag = 0;
    if (hi >= 0) {
      lag = std::max<int64_t>(0, hi - std::max(st.next.value(), st.end_seen));
      if (lag == 0 && st.next.value() > 0) st.caught_up = true;
      if (st.caught_up && st.ready_at < 0) st.ready_at = std::max(st.next.value(), st.end_seen);
    }
    lag_by_topic[tp.topic] += lag;
    const std::string name = tp.topic + "/" + std::to_string(tp.partition.value());
    if (disk_.waiting) {
      // Unassigned on purpose: no progress is expected.
    } else if (now - st.error_at < kErrorFresh) {
      stalled.push_back(name + " (fetch error: " + st.error + ")");
    } else if (lag > 0 && now - st.progress_at > kStallAfter) {
      stalled.push_back(name + " (no record for " + std::to_string(Seconds(now - st.progress_at)) +
                        " s with " + std::to_string(lag) + " to read)");
    }
    const bool stored = st.caught_up && st.next.value() >= st.ready_at;
    all_caught_up = all_caught_up && stored;
    behind += stored ? 0 : 1;
  }
  for (const auto& [topic, lag] : lag_by_topic) observer_.OnLag(topic, lag);
  // Ready once what was read up to the end is in the log, not merely queued.
  if (all_caught_up && !caught_up_once_) {
    logger_->info("Caught up with every assigned partition; ready. partitions={}",
                  partitions_.size());
    caught_up_once_ = true;
  }
  std::string kafka_why;
  const bool up = CheckKafka(stalled, kafka_why);
  observer_.OnKafkaUp(up);

  std::string missing;
  for (const auto& [topic, is_missing] : missing_) {
    if (is_missing || unassigned_.contains(topic)) missing += (missing.empty() ? "" : ", ") + topic;
  }
  Readiness r;
  if (disk_.full) {
    r.reason = "disk full: " + disk_.error + "; ingest paused for " +
               std::to_string(Seconds(Clock::now() - disk_.since)) +
               " s, retrying until space is freed";
  } else if (!up) {
    r.reason = "Kafka unreachable: " + kafka_why;
  } else if (partitions_.empty()) {
    r.reason = "no configured topic exists yet (" + missing + ")";
  } else if (!caught_up_once_) {
    r.reason = "catching up with the stored offsets (" + std::to_string(behind) + " of " +
               std::to_string(partitions_.size()) + " partitions behind)";
  } else {
    r.ready = true;
    if (!missing.empty()) r.reason = "topics not found, the others are ingested: " + missing;
  }
  std::lock_guard lock(state_mu_);
  state_ = std::move(r);
}

// librdkafka's fetch limits, from kafka.max_record_bytes: one fetch holds a record just above
// the maximum (with its batch framing and headers), so it is delivered and quarantined as
// too_large; a record larger still arrives alone (brokers return the first batch of a partition
// even above the limits) as long as the response fits receive.message.max.bytes, which never
// drops below librdkafka's default. A response above it would be refused and the partition
// would stall on it, the one thing a bad record must not do. Properties set in kafka.properties
// win: setting any of the three leaves all three to librdkafka (which checks them together).
void SizeFetchLimits(int max_record_bytes, std::map<std::string, std::string>& properties) {
  static constexpr const char* kLimits[] = {"max.partition.fetch.bytes", "fetch.max.bytes",
                                            "receive.message.max.bytes"};
  for (const char* key : kLimits) {
    if (properties.contains(key)) return;
  }
  constexpr int64_t kMiB = 1 << 20;
  const int64_t partition = std::max<int64_t>(kMiB, max_record_bytes + kMiB);
  const int64_t fetch = std::max<int64_t>(50 * kMiB, partition);  // librdkafka default 50 MiB
  const int64_t receive = std::max<int64_t>(100000000, fetch + kMiB);  // default 100 MB
  properties[kLimits[0]] = std::to_string(partition);
  properties[kLimits[1]] = std::to_string(fetch);
  properties[kLimits[2]] = std::to_string(receive);
}

}  // namespace

namespace {
// The librdkafka properties of the ingest consumer, over the consumer's own defaults.
std::map<std::string, std::string> ConsumerProperties(const config::KafkaConfig& config) {
  auto properties = config.properties;
  SizeFetchLimits(config.max_record_bytes, properties);
  properties["bootstrap.servers"] = config.brokers;
  properties["client.id"] = config.client_id;
  properties["group.id"] = config.client_id;
  return properties;
}
}  // namespace

Status CheckKafkaConfig(const config::KafkaConfig& config) {
  return Consumer::CheckProperties(ConsumerProperties(config));
}

Result<std::unique_ptr<Ingestor>> Ingestor::Create(const config::KafkaConfig& config,
                                                   eventlog::EventLog& log,
                                                   sources::SourceRegistry& registry,
                                                   IngestObserver& observer,
                                                   logging::Logger logger,
                                                   IngestTimings timings) {
  for (const auto& t : config.topics) {
    if (registry.Find(t.source) == nullptr) {
      return Error("kafka.topics: source \"" + t.source + "\" of topic " + t.name +
                   " is not implemented in this build");
    }
  }
  if (config.topics.empty()) return Error("kafka.topics: no topic configured");
  auto consumer = Consumer::Create(ConsumerProperties(config), logger);
  if (!consumer) return consumer.error();
  return std::unique_ptr<Ingestor>(std::make_unique<KafkaIngestor>(
      config, log, registry, observer, std::move(logger), std::move(*consumer), timings));
}

}  // namespace teamhealth::ingest
