// libFuzzer target for one normaliser, chosen at compile time (TEAMHEALTH_FUZZ_SOURCE).
// Invariants checked beyond "no crash, no leak, no hang": an outcome is exactly one of
// events / rejection / ignored; every event's encoding is protobuf's; every event renders to canonical JSON that the canonical
// source parses back to the same event; and (the one preamble of common.h) a body that is not
// JSON and is rejected is rejected as invalid_json, whatever the source.
#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "teamhealth/sources/event_json.h"
#include "teamhealth/sources/source.h"

namespace {

using teamhealth::sources::NormalizeResult;
using teamhealth::sources::RawRecord;
using teamhealth::sources::RecordHeader;

// Vendor headers a record may carry; the first input byte picks one (or none).
constexpr RecordHeader kHeaders[] = {
    {"X-GitHub-Event", "issues"},
    {"X-GitHub-Event", "pull_request"},
    {"X-GitHub-Event", "pull_request_review"},
    {"X-GitHub-Event", "issue_comment"},
    {"X-GitHub-Event", "pull_request_review_comment"},
    {"X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
    {"X-Atlassian-Webhook-Identifier", "1b2c3d"},
    // Headers are bytes, not necessarily UTF-8: a record with such an id is refused.
    {"X-GitHub-Delivery", "d\xff\xfe"},
    {"X-Atlassian-Webhook-Identifier", "caf\xc3"},
};

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto registry = teamhealth::sources::MakeSourceRegistry();
  static auto* source = registry->Find(TEAMHEALTH_FUZZ_SOURCE);
  static auto* canonical = registry->Find("canonical");
  if (size == 0) return 0;
  const size_t pick = data[0] % (std::size(kHeaders) + 1);
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  RawRecord record;
  record.topic = "fuzz";
  record.value = body;
  record.timestamp_ms = 1700000000000;
  if (pick < std::size(kHeaders)) record.headers = {&kHeaders[pick], 1};

  NormalizeResult out;
  source->Normalize(record, out);
  Check(!(out.rejection && !out.events.empty()), "events and a rejection at once");
  Check(!(out.ignored && (out.rejection || !out.events.empty())), "ignored with an outcome");
  Check(out.ignored || out.rejection || !out.events.empty(), "no outcome at all");
  if (out.rejection && !body.empty()) {
    static simdjson::dom::parser dom;
    simdjson::dom::element root;
    const simdjson::padded_string padded(body);
    const bool json = dom.parse(padded).get(root) == simdjson::SUCCESS;
    const bool invalid_json =
        out.rejection && out.rejection->reason == teamhealth::sources::Reason::kInvalidJson;
    Check(json || invalid_json, "a rejected body that is not JSON is invalid_json");
  }
  for (size_t i = 0; i < out.events.size(); ++i) {
    const auto& e = out.events[i];
    // The encoded bytes are exactly protobuf's for the event they parse to.
    Check(out.events.bytes(i) == e.SerializeAsString(), "the encoding is protobuf's");
    Check(out.events.id(i) == e.id(), "the encoded id is the event's");
    Check(!e.id().empty() && e.id().starts_with(std::string(TEAMHEALTH_FUZZ_SOURCE) + ":"),
          "event id is <source>:<dedup id>");
    std::string json;
    teamhealth::sources::AppendEventJson(e, json);
    RawRecord again;
    again.value = json;
    NormalizeResult back;
    canonical->Normalize(again, back);
    Check(!back.rejection, "the canonical rendering parses back");
    Check(back.events.size() == 1, "one event back");
    std::string json2;
    teamhealth::sources::AppendEventJson(back.events[0], json2);
    Check(json == json2, "the rendering round-trips");
  }
  return 0;
}
