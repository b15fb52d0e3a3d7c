// The index fields of a stored event without a full parse (see index_fields.h). Mirrors what
// protobuf's parser does with the same bytes; tests/eventlog/index_fields_test.cc and the fuzz
// target fuzz_index_fields compare the two.
#include "teamhealth/eventlog/index_fields.h"

#include <limits>
#include <string>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/stubs/common.h>
#include <google/protobuf/wire_format_lite.h>

#include "teamhealth/eventlog/event_log.h"
#include "wire.h"

namespace teamhealth::eventlog {
namespace {

using google::protobuf::io::CodedInputStream;
using WFL = google::protobuf::internal::WireFormatLite;
using namespace wire;  // NOLINT: the shared wire helpers

// Every schema version up to this one keeps occurred_at_ms, subject.kind and subject.id at the
// field numbers read below. A version that moves one must be read by Decode() instead.
static_assert(kSchemaVersion == 1,
              "a new schema version: check that ReadIndexFields finds its index fields where "
              "Decode() puts them, or fall back to Decode() for it");

// schema.Event and schema.Subject field numbers (schemas/event.proto).
constexpr int kEventSchemaVersion = 1;
constexpr int kEventOccurredAt = 5;
constexpr int kEventSubject = 7;
constexpr int kSubjectKind = 1;
constexpr int kSubjectId = 2;

// One occurrence of `subject`: merged into `out` as the parser merges repeated occurrences.
bool ReadSubject(CodedInputStream& in, std::string_view record, IndexFields& out) {
  return ReadMessage(in, record, [&](uint32_t tag) {
    if (IsTag(tag, kSubjectKind, WFL::WIRETYPE_LENGTH_DELIMITED)) {
      return ReadString(in, record, out.subject_kind);
    }
    if (IsTag(tag, kSubjectId, WFL::WIRETYPE_LENGTH_DELIMITED)) {
      return ReadString(in, record, out.subject_id);
    }
    return WFL::SkipField(&in, tag);
  });
}

}  // namespace

Status ReadIndexFields(std::string_view record, IndexFields& out) {
  out = IndexFields{};
  if (record.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return Error("corrupt event record");
  }
  CodedInputStream in(reinterpret_cast<const uint8_t*>(record.data()),
                      static_cast<int>(record.size()));
  uint32_t version = 0;
  uint32_t tag = 0;
  bool ok = true;
  while (ok && NextTag(in, tag) && tag != 0) {
    if (IsTag(tag, kEventSchemaVersion, WFL::WIRETYPE_VARINT)) {
      ok = in.ReadVarint32(&version);
    } else if (IsTag(tag, kEventOccurredAt, WFL::WIRETYPE_VARINT)) {
      uint64_t v = 0;
      ok = in.ReadVarint64(&v);
      out.occurred_at_ms = static_cast<int64_t>(v);
    } else if (IsTag(tag, kEventSubject, WFL::WIRETYPE_LENGTH_DELIMITED)) {
      ok = ReadSubject(in, record, out);
    } else {
      ok = WFL::SkipField(&in, tag);
    }
  }
  if (!ok || tag != 0 || !in.ConsumedEntireMessage()) return Error("corrupt event record");
  if (version > kSchemaVersion) {
    return Error("event has schema version " + std::to_string(version) +
                 ", newer than this build's " + std::to_string(kSchemaVersion));
  }
  return Status::Ok();
}

}  // namespace teamhealth::eventlog
