#include "teamhealth/ingest/ingestor.h"

#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "consumer.h"
#include "teamhealth/base/hash.h"

namespace teamhealth::ingest {
namespace {

using Clock = std::chrono::steady_clock;

struct PartitionState {
  KafkaOffset next;        // next offset to consume (what the log stores)
  bool caught_up = false;  // reached the end of the partition at least once
  // The end offset when the consumer last reached it: beyond `next` when the partition ends
  // with records that are not delivered (transaction markers).
  int64_t end_seen = -1;
  int64_t startup_high = -1;  // high watermark queried at assignment, until fetches report one
  bool stored = false;        // the log held an offset for it at assignment
};

class KafkaIngestor final : public Ingestor {
 public:
  KafkaIngestor(const config::KafkaConfig& config, eventlog::EventLog& log,
                sources::SourceRegistry& registry, IngestObserver& observer, logging::Logger logger,
                std::unique_ptr<Consumer> consumer)
      : config_(config),
        log_(log),
        registry_(registry),
        observer_(observer),
        logger_(std::move(logger)),
        consumer_(std::move(consumer)) {
    for (const auto& t : config_.topics) source_of_topic_[t.name] = registry_.Find(t.source);
  }

  Status Run(const std::atomic<bool>& stop,
             const std::function<Status()>& between_batches) override;
  bool Ready() const override { return ready_.load(std::memory_order_acquire); }

 private:
  // Discovers partitions and assigns every one at the offset stored in the log. Returns false
  // if `stop` was set before all topics existed.
  Result<bool> AssignAll(const std::atomic<bool>& stop,
                         const std::function<Status()>& between_batches);
  Status ProcessBatch(std::vector<MessagePtr>& messages);
  Status ResetOutOfRange();
  void Handle(const rd_kafka_message_t& m, eventlog::IngestBatch& batch);
  void HandleError(const rd_kafka_message_t& m, eventlog::IngestBatch& batch);
  void ReportLagAndReadiness();

  const config::KafkaConfig& config_;
  eventlog::EventLog& log_;
  sources::SourceRegistry& registry_;
  IngestObserver& observer_;
  logging::Logger logger_;
  std::unique_ptr<Consumer> consumer_;
  std::map<std::string, sources::Source*> source_of_topic_;
  std::map<TopicPartition, PartitionState> partitions_;
  std::set<TopicPartition> reset_pending_;
  std::atomic<bool> ready_{false};
  sources::NormalizeResult result_;
  std::vector<sources::RecordHeader> headers_;
};

Result<bool> KafkaIngestor::AssignAll(const std::atomic<bool>& stop,
                                      const std::function<Status()>& between_batches) {
  auto stored = log_.Offsets();
  if (!stored) return stored.error();
  std::map<TopicPartition, KafkaOffset> positions;
  for (const auto& topic : config_.topics) {
    int waited_s = 0;
    for (;;) {
      auto count = consumer_->PartitionCount(topic.name, 5000);
      if (count) {
        for (int p = 0; p < *count; ++p) {
          const TopicPartition tp{topic.name, PartitionId(p)};
          const auto it = stored->find(tp);
          const KafkaOffset start =
              it != stored->end() ? it->second : KafkaOffset(RD_KAFKA_OFFSET_BEGINNING);
          positions[tp] = start;
          PartitionState st;
          st.next = it != stored->end() ? it->second : KafkaOffset(0);
          st.stored = it != stored->end();
          if (auto high = consumer_->HighWatermarkQuery(tp, 5000)) st.startup_high = *high;
          partitions_[tp] = st;
        }
        break;
      }
      if (waited_s % 30 == 0) {
        logger_->warn("Waiting for topic. topic={} error=\"{}\"", topic.name,
                      count.error().message());
      }
      if (stop.load()) return false;
      // Other writers of the log (directory reloads) must not wait for the topics.
      if (between_batches) {
        if (auto s = between_batches(); !s) return s.error();
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
      ++waited_s;
    }
  }
  if (auto s = consumer_->Assign(positions); !s) return s.error();
  for (const auto& [tp, offset] : positions) {
    logger_->info("Assigned partition. topic={} partition={} offset={}", tp.topic,
                  tp.partition.value(),
                  offset.value() == RD_KAFKA_OFFSET_BEGINNING ? std::string("beginning")
                                                              : std::to_string(offset.value()));
  }
  return true;
}

Status KafkaIngestor::Run(const std::atomic<bool>& stop,
                          const std::function<Status()>& between_batches) {
  auto assigned = AssignAll(stop, between_batches);
  if (!assigned) return assigned.error();
  if (!*assigned) return Status::Ok();
  std::vector<MessagePtr> messages;
  messages.reserve(static_cast<size_t>(config_.batch_max_messages));
  auto last_report = Clock::now() - std::chrono::seconds(10);
  while (!stop.load(std::memory_order_acquire)) {
    messages.clear();
    consumer_->ConsumeBatch(config_.batch_max_ms, config_.batch_max_messages, messages);
    if (auto s = ProcessBatch(messages); !s) return s;
    if (between_batches) {
      if (auto s = between_batches(); !s) return s;
    }
    if (!reset_pending_.empty()) {
      if (auto s = ResetOutOfRange(); !s) return s;
    }
    const auto now = Clock::now();
    if (now - last_report >= std::chrono::milliseconds(500) || !Ready()) {
      ReportLagAndReadiness();
      last_report = now;
    }
  }
  ReportLagAndReadiness();
  return Status::Ok();
}

// An out-of-range stored offset. Loud, never silent: the gap is logged with the offsets.
// Below the first retained offset (retention deleted records before they were ingested):
// resume at the first retained one. Above the end (the partition was truncated, e.g. after an
// unclean leader election or a broker restore): resume at the end, which re-reads nothing.
Status KafkaIngestor::ResetOutOfRange() {
  std::map<TopicPartition, KafkaOffset> positions;
  for (const auto& [tp, st] : partitions_) {
    // Partitions that never stored an offset keep starting at the beginning.
    positions[tp] =
        st.stored || st.next.value() > 0 ? st.next : KafkaOffset(RD_KAFKA_OFFSET_BEGINNING);
  }
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
    partitions_[tp].next = KafkaOffset(resume);
  }
  reset_pending_.clear();
  return consumer_->Assign(positions);
}

Status KafkaIngestor::ProcessBatch(std::vector<MessagePtr>& messages) {
  eventlog::IngestBatch batch;
  for (const auto& m : messages) Handle(*m, batch);
  if (batch.events.empty() && batch.quarantined.empty() && batch.next_offsets.empty()) {
    return Status::Ok();
  }
  auto outcome = log_.Append(batch);
  if (!outcome) {
    logger_->error("Cannot append to the event log; stopping ingest. error=\"{}\"",
                   outcome.error().message());
    return outcome.error();
  }
  for (const auto& [tp, offset] : batch.next_offsets) partitions_[tp].next = offset;
  observer_.OnBatch(*outcome);
  return Status::Ok();
}

void KafkaIngestor::Handle(const rd_kafka_message_t& m, eventlog::IngestBatch& batch) {
  if (m.err != RD_KAFKA_RESP_ERR_NO_ERROR) return HandleError(m, batch);
  const std::string topic = rd_kafka_topic_name(m.rkt);
  const TopicPartition tp{topic, PartitionId(m.partition)};
  batch.next_offsets[tp] = KafkaOffset(m.offset + 1);

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
  sources::Source* source = source_of_topic_[topic];
  result_.Clear();
  std::string source_name = "unknown";
  if (source == nullptr) {
    result_.Reject(sources::Reason::kNoSource, "no normaliser for the topic's source");
  } else {
    source_name = std::string(source->name());
    source->Normalize(record, result_);
  }
  if (result_.rejection) {
    schema::QuarantineRecord q;
    q.set_topic(topic);
    q.set_partition(m.partition);
    q.set_offset(m.offset);
    q.set_source(source_name);
    q.set_reason(std::string(sources::ReasonName(result_.rejection->reason)));
    q.set_detail(result_.rejection->detail);
    q.set_content_hash(ContentHash(record.value));
    q.set_kafka_timestamp_ms(ts);
    logger_->debug("Quarantined record. topic={} partition={} offset={} reason={} detail=\"{}\"",
                   topic, m.partition, m.offset, q.reason(), q.detail());
    batch.quarantined.push_back(std::move(q));
    return;
  }
  if (result_.events.empty()) {
    batch.ignored_by_source[source_name] += 1;
    return;
  }
  for (auto& e : result_.events) batch.events.push_back(std::move(e));
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
      // Everything below the end was delivered or is not a record (transaction markers,
      // aborted records): store the end so the stored offset matches the partition.
      auto it = batch.next_offsets.find(tp);
      const int64_t next = it != batch.next_offsets.end() ? it->second.value() : st.next.value();
      if (m.offset > next) batch.next_offsets[tp] = KafkaOffset(m.offset);
      return;
    }
    case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE: reset_pending_.insert(tp); return;
    default:
      logger_->warn("Kafka partition error. topic={} partition={} error=\"{}\"", tp.topic,
                    tp.partition.value(), rd_kafka_err2str(m.err));
  }
}

void KafkaIngestor::ReportLagAndReadiness() {
  std::map<std::string, int64_t> lag_by_topic;
  bool all_caught_up = !partitions_.empty();
  for (auto& [tp, st] : partitions_) {
    int64_t hi = consumer_->HighWatermark(tp);
    if (hi < 0) hi = st.startup_high;
    int64_t lag = 0;
    if (hi >= 0) {
      lag = std::max<int64_t>(0, hi - std::max(st.next.value(), st.end_seen));
      if (lag == 0 && st.next.value() > 0) st.caught_up = true;
    }
    lag_by_topic[tp.topic] += lag;
    all_caught_up = all_caught_up && st.caught_up;
  }
  for (const auto& [topic, lag] : lag_by_topic) observer_.OnLag(topic, lag);
  if (all_caught_up && !ready_.load()) {
    logger_->info("Caught up with every assigned partition; ready. partitions={}",
                  partitions_.size());
    ready_.store(true, std::memory_order_release);
  }
}

}  // namespace

Result<std::unique_ptr<Ingestor>> Ingestor::Create(const config::KafkaConfig& config,
                                                   eventlog::EventLog& log,
                                                   sources::SourceRegistry& registry,
                                                   IngestObserver& observer,
                                                   logging::Logger logger) {
  for (const auto& t : config.topics) {
    if (registry.Find(t.source) == nullptr) {
      return Error("kafka.topics: source \"" + t.source + "\" of topic " + t.name +
                   " is not implemented in this build");
    }
  }
  if (config.topics.empty()) return Error("kafka.topics: no topic configured");
  auto properties = config.properties;
  properties["bootstrap.servers"] = config.brokers;
  properties["client.id"] = config.client_id;
  properties["group.id"] = config.client_id;
  auto consumer = Consumer::Create(properties);
  if (!consumer) return consumer.error();
  return std::unique_ptr<Ingestor>(std::make_unique<KafkaIngestor>(
      config, log, registry, observer, std::move(logger), std::move(*consumer)));
}

}  // namespace teamhealth::ingest
