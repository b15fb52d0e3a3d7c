#pragma once

#include <cstdint>
#include <string_view>

#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/sources/source.h"

namespace teamhealth::ingest {

// What one record became in a batch.
enum class RecordOutcome {
  kEvents,       // its events were added (Append drops the duplicates among them)
  kIgnored,      // a valid payload that carries nothing for team health
  kQuarantined,  // a quarantine record was added; batch.quarantined.back() is it
};

// The per-record step of ingest, shared by the Kafka ingestor and `teamhealth import`, so
// that a record becomes the same events, ignored count or quarantine record on both paths.
// Normalises `record` with `source` (null: quarantined `no_source`) unless its value is above
// `max_record_bytes` (quarantined `too_large`, never parsed) and adds the outcome to `batch`.
// `scratch` is reused between calls. Logs nothing: each caller reports a quarantined record
// in its own terms (a log line naming the Kafka offset; FILE:LINE on stderr).
RecordOutcome AddRecord(const sources::RawRecord& record, sources::Source* source,
                        int64_t max_record_bytes, sources::NormalizeResult& scratch,
                        eventlog::IngestBatch& batch);

// Adds a quarantine record for `record` to `batch`: the reference (record.topic, partition,
// offset), `source_name`, the reason and detail, the XXH3-128 of the value and
// record.timestamp_ms. Never the body. For records rejected before any normaliser sees them
// (AddRecord's own rejections; an import line that is not a record).
void AddQuarantined(const sources::RawRecord& record, std::string_view source_name,
                    const sources::Rejection& rejection, eventlog::IngestBatch& batch);

}  // namespace teamhealth::ingest
