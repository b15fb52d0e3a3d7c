#include "teamhealth/ingest/records.h"

#include <string>

#include "teamhealth/base/hash.h"

namespace teamhealth::ingest {

void AddQuarantined(const sources::RawRecord& record, std::string_view source_name,
                    const sources::Rejection& rejection, eventlog::IngestBatch& batch) {
  schema::QuarantineRecord q;
  q.set_topic(std::string(record.topic));
  q.set_partition(record.partition);
  q.set_offset(record.offset);
  q.set_source(std::string(source_name));
  q.set_reason(std::string(sources::ReasonName(rejection.reason)));
  q.set_detail(rejection.detail);
  q.set_content_hash(ContentHash(record.value));
  q.set_kafka_timestamp_ms(record.timestamp_ms);
  batch.quarantined.push_back(std::move(q));
}

RecordOutcome AddRecord(const sources::RawRecord& record, sources::Source* source,
                        int64_t max_record_bytes, sources::NormalizeResult& scratch,
                        eventlog::IngestBatch& batch) {
  scratch.Clear();
  std::string_view source_name = "unknown";
  if (source == nullptr) {
    scratch.Reject(sources::Reason::kNoSource, "no normaliser for the topic's source");
  } else {
    source_name = source->name();
    if (static_cast<int64_t>(record.value.size()) > max_record_bytes) {
      // Never parsed: a huge body is poison for the parser's memory and time, not an event.
      scratch.Reject(sources::Reason::kTooLarge,
                     "record value of " + std::to_string(record.value.size()) +
                         " bytes is above kafka.max_record_bytes=" +
                         std::to_string(max_record_bytes));
    } else {
      source->Normalize(record, scratch);
    }
  }
  if (scratch.rejection) {
    AddQuarantined(record, source_name, *scratch.rejection, batch);
    return RecordOutcome::kQuarantined;
  }
  if (scratch.events.empty()) {
    batch.ignored_by_source[std::string(source_name)] += 1;
    return RecordOutcome::kIgnored;
  }
  batch.events.AppendAll(scratch.events);
  return RecordOutcome::kEvents;
}

}  // namespace teamhealth::ingest
