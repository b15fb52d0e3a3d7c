// libFuzzer target for the event log's DecodeView (event_log.h): on any bytes, no crash, no
// leak, no hang; and whatever Decode() accepts (protobuf's parser and the schema-version
// check), DecodeView accepts, with a view equal to ViewOf(the decoded message) field by field.
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "event_view.h"
#include "teamhealth/eventlog/event_log.h"

namespace {

using teamhealth::schema::EventView;

bool SameValue(const EventView::Value& a, const EventView::Value& b) {
  if (a.kind() != b.kind() || a.string_value() != b.string_value() ||
      a.int_value() != b.int_value() || a.bool_value() != b.bool_value() ||
      std::bit_cast<uint64_t>(a.double_value()) != std::bit_cast<uint64_t>(b.double_value())) {
    return false;
  }
  const auto x = a.list_value().values(), y = b.list_value().values();
  if (a.has_list_value() && x.size() != y.size()) return false;
  for (size_t i = 0; a.has_list_value() && i < x.size(); ++i) {
    if (x[i] != y[i]) return false;
  }
  return true;
}

bool Same(const EventView& a, const EventView& b) {
  const auto &s = a.subject(), &t = b.subject();
  if (a.schema_version() != b.schema_version() || a.id() != b.id() || a.source() != b.source() ||
      a.type() != b.type() || a.type_code() != b.type_code() ||
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view record(reinterpret_cast<const char*>(data), size);
  static EventView view;  // reused across inputs, as a replay reuses it
  const bool read = teamhealth::eventlog::DecodeView(record, view).ok();
  teamhealth::schema::Event e;
  if (!teamhealth::eventlog::Decode(record, e).ok()) return 0;
  EventView expected;
  teamhealth::schema::ViewOf(e, expected);
  if (!read || !Same(view, expected)) std::abort();
  return 0;
}
