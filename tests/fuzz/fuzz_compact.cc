// libFuzzer target for the compact column's records (teamhealth/eventlog/compact.h). On any
// bytes read as a chunk: no crash, no leak, no hang, and every record the reader accepts
// writes back to a record that reads as the same view. On the same bytes read as a stored
// event: whatever DecodeView accepts, its compact record reads back as the same view, the
// codes included (what a replay then sees instead of DecodeView's view).
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "event_view.h"
#include "teamhealth/eventlog/compact.h"
#include "teamhealth/eventlog/event_log.h"

namespace {

using teamhealth::Sequence;
using teamhealth::eventlog::AppendCompact;
using teamhealth::eventlog::CompactReader;
using teamhealth::schema::EventView;

bool SameValue(const EventView::Value& a, const EventView::Value& b) {
  if (a.kind() != b.kind() || a.string_value() != b.string_value() ||
      a.int_value() != b.int_value() || a.bool_value() != b.bool_value() ||
      std::bit_cast<uint64_t>(a.double_value()) != std::bit_cast<uint64_t>(b.double_value())) {
    return false;
  }
  const auto x = a.list_value().values(), y = b.list_value().values();
  if (x.size() != y.size()) return false;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] != y[i]) return false;
  }
  return true;
}

bool Same(const EventView& a, const EventView& b) {
  const auto &s = a.subject(), &t = b.subject();
  if (a.schema_version() != b.schema_version() || a.id() != b.id() || a.source() != b.source() ||
      a.type() != b.type() || a.type_code() != b.type_code() ||
      a.type_family() != b.type_family() || a.subject_kind() != b.subject_kind() ||
      a.occurred_at_ms() != b.occurred_at_ms() || a.actor() != b.actor() ||
      s.kind() != t.kind() || s.id() != t.id() || s.key() != t.key() ||
      s.project() != t.project() || s.service() != t.service() || s.title() != t.title() ||
      a.attrs().size() != b.attrs().size()) {
    return false;
  }
  for (size_t i = 0; i < a.attrs().size(); ++i) {
    if (a.attrs()[i].name() != b.attrs()[i].name() ||
        !SameValue(a.attrs()[i].value(), b.attrs()[i].value())) {
      return false;
    }
  }
  return true;
}

// `view`'s record, written and read back, is `view` at `seq`.
void ExpectRoundTrip(Sequence seq, const EventView& view) {
  std::string chunk;
  AppendCompact(seq, view, chunk);
  CompactReader reader(chunk);
  EventView again;
  Sequence read_seq;
  auto r = reader.Next(read_seq, again);
  if (!r.ok() || !*r || read_seq != seq || !Same(again, view)) std::abort();
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
