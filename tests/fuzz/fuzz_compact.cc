// libFuzzer target for the compact column's records (teamhealth/eventlog/compact.h). On any
// bytes read as a chunk: no crash, no leak, no hang, and every record the reader accepts
// writes back to a record that reads as the same view. On the same bytes read as a stored
// event: whatever DecodeView accepts, its compact record reads back as the same view, the
// codes included (what a replay then sees instead of DecodeView's view).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "event_view.h"
#include "teamhealth/eventlog/compact.h"
#include "teamhealth/eventlog/event_log.h"
#include "view_difference.h"

namespace {

using teamhealth::Sequence;
using teamhealth::eventlog::AppendCompact;
using teamhealth::eventlog::CompactReader;
using teamhealth::schema::EventView;

// `view`'s record, written and read back, is `view` at `seq`.
void ExpectRoundTrip(Sequence seq, const EventView& view) {
  std::string chunk;
  AppendCompact(seq, view, chunk);
  CompactReader reader(chunk);
  EventView again;
  Sequence read_seq;
  auto r = reader.Next(read_seq, again);
  if (!r.ok() || !*r || read_seq != seq || !teamhealth::testing::ViewDifference(again, view).empty()) std::abort();
  r = reader.Next(read_seq, again);
  if (!r.ok() || *r) std::abort();  // one record, nothing after it
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  static EventView view;  // reused across records and inputs, as a replay reuses it
  CompactReader reader(bytes);
  Sequence seq;
  for (;;) {
    auto r = reader.Next(seq, view);
    if (!r.ok() || !*r) break;
    ExpectRoundTrip(seq, view);
  }
  if (teamhealth::eventlog::DecodeView(bytes, view).ok()) ExpectRoundTrip(Sequence(7), view);
  return 0;
}
