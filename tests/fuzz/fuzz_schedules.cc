// libFuzzer target for the schedule poller's vendor parsers (daemon/gateway shifts.h): the first
// input byte picks PagerDuty /oncalls (even) or the Opsgenie timeline (odd), the rest is the
// answer. Invariants beyond "no crash, no leak, no hang": every shift is a non-empty interval of
// a named slot and person, and its oncall.shift event is accepted by the canonical source as
// one event with the shift's dedup id.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "teamhealth/gateway/shifts.h"
#include "teamhealth/sources/source.h"

namespace {

using teamhealth::gateway::Shift;

void Check(const Shift& s, teamhealth::sources::Source& canonical) {
  if (s.end <= s.start || s.slot.empty() || s.person.empty() || s.level < 1) std::abort();
  const std::string json = teamhealth::gateway::ShiftEventJson(s, 1772489645000);
  teamhealth::sources::RawRecord r;
  r.topic = "teamhealth.canonical";
  r.value = json;
  teamhealth::sources::NormalizeResult out;
  canonical.Normalize(r, out);
  if (out.rejection || out.events.size() != 1 ||
      out.events[0].id() != teamhealth::gateway::ShiftEventId(s)) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto registry = teamhealth::sources::MakeSourceRegistry();
  static teamhealth::sources::Source* canonical = registry->Find("canonical");
  if (size == 0) return 0;
  const bool opsgenie = (data[0] & 1) != 0;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  // 2026-03-01T00:00:00Z .. 2026-03-16T00:00:00Z
  const teamhealth::gateway::Window window{1772323200000, 1773619200000};
  if (opsgenie) {
    auto shifts = teamhealth::gateway::ParseOpsgenieTimeline(body, "S1");
    if (shifts) {
      for (const auto& s : *shifts) Check(s, *canonical);
    }
  } else {
    auto page = teamhealth::gateway::ParsePagerDutyOncalls(body, window);
    if (page) {
      for (const auto& s : page->shifts) Check(s, *canonical);
    }
  }
  return 0;
}
