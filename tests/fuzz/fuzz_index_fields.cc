// libFuzzer target for the event log's ReadIndexFields (daemon/eventlog index_fields.h): on any
// bytes, no crash, no leak, no hang; and whatever Decode() accepts, ReadIndexFields accepts
// with the same occurred_at, subject kind and subject id.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/eventlog/index_fields.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view record(reinterpret_cast<const char*>(data), size);
  teamhealth::eventlog::IndexFields f;
  const bool read = teamhealth::eventlog::ReadIndexFields(record, f).ok();
  teamhealth::schema::Event e;
  if (!teamhealth::eventlog::Decode(record, e).ok()) return 0;
  if (!read || f.occurred_at_ms != e.occurred_at_ms() || f.subject_kind != e.subject().kind() ||
      f.subject_id != e.subject().id()) {
    std::abort();
  }
  return 0;
}
