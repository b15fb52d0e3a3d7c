// libFuzzer target for the event log's DecodeView (event_log.h): on any bytes, no crash, no
// leak, no hang; and whatever Decode() accepts (protobuf's parser and the schema-version
// check), DecodeView accepts, with a view equal to ViewOf(the decoded message) field by field.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "event_view.h"
#include "teamhealth/eventlog/event_log.h"
#include "view_difference.h"

namespace {

using teamhealth::schema::EventView;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view record(reinterpret_cast<const char*>(data), size);
  static EventView view;  // reused across inputs, as a replay reuses it
  const bool read = teamhealth::eventlog::DecodeView(record, view).ok();
  teamhealth::schema::Event e;
  if (!teamhealth::eventlog::Decode(record, e).ok()) return 0;
  EventView expected;
  teamhealth::schema::ViewOf(e, expected);
  if (!read || !teamhealth::testing::ViewDifference(view, expected).empty()) std::abort();
  return 0;
}
