// Edge cases of the pagerduty normaliser beyond the golden files (tests/sources/golden/pagerduty).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "teamhealth/sources/event_json.h"
#include "teamhealth/sources/source.h"

namespace teamhealth::sources {
namespace {

class PagerDutyTest : public ::testing::Test {
 protected:
  NormalizeResult Run(std::string_view body, int64_t record_ms = 1700000000000,
                      std::vector<RecordHeader> headers = {}, int64_t offset = 1) {
    NormalizeResult out;
    RawRecord r;
    r.topic = "pd";
    r.offset = offset;
    r.timestamp_ms = record_ms;
    r.value = body;
    r.headers = headers;
    source_->Normalize(r, out);
    return out;
  }

  static std::string Json(const NormalizeResult& out) {
    std::string all;
    for (const auto& e : out.events) AppendEventJson(e, all);
    return all;
  }

  std::unique_ptr<SourceRegistry> registry_ = MakeSourceRegistry();
  Source* source_ = registry_->Find("pagerduty");
};

// A V3 body of `event_type` for incident PINC1 with the given data members.
std::string V3(std::string_view event_type, std::string_view data = R"("id":"PINC1")",
               std::string_view id = "01EVT", std::string_view time = "2021-06-04T13:55:30.394Z") {
  return R"({"event":{"id":")" + std::string(id) + R"(","event_type":")" + std::string(event_type) +
         R"(","resource_type":"incident","occurred_at":")" + std::string(time) +
         R"(","agent":{"id":"PUSER1","type":"user_reference"},"client":null,"data":{)" +
         std::string(data) + "}}}";
}

// A V2/V1 message.
std::string Message(std::string_view name, std::string_view id, bool v1 = false) {
  const std::string incident =
      R"({"id":"PINC1","incident_number":7,"title":"Disk full","status":"triggered",)"
      R"("urgency":"high","service":{"id":"PSVC1"},"assignments":[{"assignee":)"
      R"({"id":"PUSER2","type":"user_reference"}}]})";
  if (v1) {
    return R"({"type":")" + std::string(name) + R"(","data":{"incident":)" + incident +
           R"(},"id":")" + std::string(id) + R"(","created_on":"2016-02-22T21:02:55Z"})";
  }
  return R"({"event":")" + std::string(name) + R"(","incident":)" + incident +
         R"(,"log_entries":[{"agent":{"id":"PUSER1","type":"user_reference"}}],"id":")" +
         std::string(id) + R"(","created_on":"2017-09-26T15:14:36Z"})";
}

TEST_F(PagerDutyTest, V3DedupIdIsTheEventIdWhateverTheRecordSays) {
  const std::string body = V3("incident.acknowledged");
  const std::vector<RecordHeader> headers = {{"X-Webhook-Id", "other-delivery-id"}};
  const auto a = Run(body, 1700000000000, {}, 1);
  const auto b = Run(body, 1800000000000, headers, 99);
  ASSERT_EQ(a.events.size(), 1u);
  ASSERT_EQ(b.events.size(), 1u);
  EXPECT_EQ(a.events[0].id(), "pagerduty:01EVT");
  EXPECT_EQ(b.events[0].id(), a.events[0].id());
  // Event time comes from the payload, never from the record.
  EXPECT_EQ(a.events[0].occurred_at_ms(), 1622814930394);
  EXPECT_EQ(b.events[0].occurred_at_ms(), 1622814930394);
  EXPECT_EQ(b.events[0].origin().offset(), 99);
  EXPECT_EQ(a.events[0].actor(), "pagerduty:PUSER1");
}

TEST_F(PagerDutyTest, MapsEveryDocumentedV3EventType) {
  const std::vector<std::pair<std::string, std::string>> mapped = {
      {"incident.triggered", "incident.triggered"},
      {"incident.acknowledged", "incident.acknowledged"},
      {"incident.unacknowledged", "incident.unacknowledged"},
      {"incident.resolved", "incident.resolved"},
      {"incident.reopened", "incident.reopened"},
      {"incident.escalated", "incident.escalated"},
      {"incident.reassigned", "incident.reassigned"},
      {"incident.delegated", "incident.delegated"},
      {"incident.priority_updated", "incident.priority_changed"},
  };
  for (const auto& [vendor, canonical] : mapped) {
    const auto out = Run(V3(vendor));
    ASSERT_EQ(out.events.size(), 1u) << vendor;
    EXPECT_EQ(out.events[0].type(), canonical);
    EXPECT_EQ(out.events[0].subject().id(), "PINC1");
  }
  const auto note =
      Run(V3("incident.annotated", R"("incident":{"id":"PINC1","type":"incident_reference"},)"
                                   R"("id":"PNOTE","content":"x","type":"incident_note")"));
  ASSERT_EQ(note.events.size(), 1u);
  EXPECT_EQ(note.events[0].type(), "incident.annotated");
  EXPECT_EQ(note.events[0].subject().id(), "PINC1");

  for (const char* ignored :
       {"incident.responder.added", "incident.responder.replied",
        "incident.status_update_published", "incident.conference_bridge.updated",
        "incident.service_updated", "incident.incident_type.changed",
        "incident.custom_field_values.updated", "incident.title_updated",
        "incident.urgency_updated", "incident.role.assigned", "incident.task.created",
        "incident.action_invocation.created", "incident.workflow.started",
        "incident.workflow.completed", "service.created", "service.updated", "service.deleted",
        "service.custom_field_values.updated", "pagey.ping"}) {
    const auto out = Run(V3(ignored));
    EXPECT_FALSE(out.rejection.has_value()) << ignored;
    EXPECT_TRUE(out.ignored) << ignored;
    EXPECT_TRUE(out.events.empty()) << ignored;
  }
  const auto unknown = Run(V3("incident.something_new"));
  ASSERT_TRUE(unknown.rejection.has_value());
  EXPECT_EQ(unknown.rejection->reason, Reason::kUnsupportedEvent);
}

TEST_F(PagerDutyTest, MapsEveryLegacyMessageTypeInV2AndV1) {
  const std::vector<std::pair<std::string, std::string>> mapped = {
      {"incident.trigger", "incident.triggered"},
      {"incident.acknowledge", "incident.acknowledged"},
      {"incident.unacknowledge", "incident.unacknowledged"},
      {"incident.resolve", "incident.resolved"},
      {"incident.assign", "incident.reassigned"},
      {"incident.escalate", "incident.escalated"},
      {"incident.delegate", "incident.delegated"},
      {"incident.annotate", "incident.annotated"},
  };
  for (bool v1 : {false, true}) {
    for (const auto& [vendor, canonical] : mapped) {
      const auto out = Run(R"({"messages":[)" + Message(vendor, "m1", v1) + "]}");
      ASSERT_EQ(out.events.size(), 1u) << vendor << " v1=" << v1;
      const auto& e = out.events[0];
      EXPECT_EQ(e.type(), canonical);
      EXPECT_EQ(e.id(), "pagerduty:m1");
      EXPECT_EQ(e.subject().key(), "7");
      EXPECT_EQ(e.subject().service(), "PSVC1");
      // V1 has no log entries: no actor unless last_status_change_by names a user.
      EXPECT_EQ(e.actor(), v1 ? "" : "pagerduty:PUSER1");
    }
  }
}

TEST_F(PagerDutyTest, SeveralMessagesKeepTheirOwnIdsWithoutSuffix) {
  const auto out =
      Run(R"({"messages":[)" + Message("incident.trigger", "m1") + "," +
          Message("incident.acknowledge", "m2") + "," + Message("incident.resolve", "m3") + "]}");
  ASSERT_EQ(out.events.size(), 3u);
  EXPECT_EQ(out.events[0].id(), "pagerduty:m1");
  EXPECT_EQ(out.events[1].id(), "pagerduty:m2");
  EXPECT_EQ(out.events[2].id(), "pagerduty:m3");
  // The same message redelivered alone keeps its id, so it dedups.
  const auto again = Run(R"({"messages":[)" + Message("incident.acknowledge", "m2") + "]}");
  ASSERT_EQ(again.events.size(), 1u);
  EXPECT_EQ(again.events[0].id(), "pagerduty:m2");
}

TEST_F(PagerDutyTest, OneBrokenMessageQuarantinesTheWholeBatch) {
  const auto out = Run(R"({"messages":[)" + Message("incident.trigger", "m1") + "," +
                       Message("incident.acknowledge", "") + "]}");
  ASSERT_TRUE(out.rejection.has_value());
  EXPECT_EQ(out.rejection->reason, Reason::kMissingField);
  EXPECT_NE(out.rejection->detail.find("messages[].id"), std::string::npos);
  EXPECT_TRUE(out.events.empty());
}

TEST_F(PagerDutyTest, NeverCopiesNoteContentOrDescriptions) {
  const auto v3 =
      Run(V3("incident.annotated",
             R"("incident":{"id":"PINC1","type":"incident_reference",)"
             R"("summary":"t"},"id":"PNOTE","content":"SECRET-NOTE","type":"incident_note")"));
  ASSERT_EQ(v3.events.size(), 1u);
  EXPECT_EQ(Json(v3).find("SECRET"), std::string::npos) << Json(v3);

  const std::string v2 =
      R"({"messages":[{"event":"incident.annotate","id":"m9","created_on":"2017-09-26T15:14:36Z",)"
      R"("log_entries":[{"type":"annotate_log_entry",)"
      R"("agent":{"id":"PUSER1","type":"user_reference"},)"
      R"("channel":{"type":"note","summary":"SECRET-NOTE"}}],)"
      R"("incident":{"id":"PINC1","title":"Disk full","description":"SECRET-DESCRIPTION"}}]})";
  const auto out = Run(v2);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(Json(out).find("SECRET"), std::string::npos) << Json(out);
}

TEST_F(PagerDutyTest, RejectionDetailsNeverQuotePayloadText) {
  const auto bad_time = Run(V3("incident.resolved", R"("id":"PINC1")", "e1", "SECRET-TIME"));
  ASSERT_TRUE(bad_time.rejection.has_value());
  EXPECT_EQ(bad_time.rejection->reason, Reason::kBadTimestamp);
  EXPECT_EQ(bad_time.rejection->detail, "field event.occurred_at");

  const auto unknown = Run(V3("incident.SECRET_TYPE"));
  ASSERT_TRUE(unknown.rejection.has_value());
  EXPECT_EQ(unknown.rejection->detail.find("SECRET"), std::string::npos);

  const auto wrong_type = Run(V3("incident.triggered", R"("id":"PINC1","title":{"x":"SECRET"})"));
  ASSERT_TRUE(wrong_type.rejection.has_value());
  EXPECT_EQ(wrong_type.rejection->reason, Reason::kInvalidField);
  EXPECT_EQ(wrong_type.rejection->detail, "field event.data.title");
}

TEST_F(PagerDutyTest, DataOfIgnoredEventsIsNotHeldAgainstThem) {
  // The data of an event we do not map may have any shape, before or after event_type.
  const auto after = Run(V3("incident.status_update_published", R"("status":{"odd":true})"));
  EXPECT_TRUE(after.ignored);
  EXPECT_FALSE(after.rejection.has_value());
  const auto before = Run(R"({"event":{"data":{"status":{"odd":true},"title":7},)"
                          R"("event_type":"incident.responder.added",)"
                          R"("id":"e2","occurred_at":"2021-06-04T13:55:30.394Z"}})");
  EXPECT_TRUE(before.ignored);
  EXPECT_FALSE(before.rejection.has_value());
  // ...but the same data on a mapped event is an invalid field.
  const auto mapped =
      Run(R"({"event":{"data":{"id":"P1","status":{"odd":true}},"event_type":"incident.resolved",)"
          R"("id":"e3","occurred_at":"2021-06-04T13:55:30.394Z"}})");
  ASSERT_TRUE(mapped.rejection.has_value());
  EXPECT_EQ(mapped.rejection->reason, Reason::kInvalidField);
}

TEST_F(PagerDutyTest, AssigneesAndActorsAreUsersOnly) {
  const auto out = Run(V3("incident.reassigned",
                          R"("id":"PINC1","assignees":[{"id":"PU1","type":"user_reference"},)"
                          R"({"id":"PEP1","type":"escalation_policy_reference"},)"
                          R"({"id":"PU2","type":"user_reference"}])"));
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_NE(Json(out).find(R"("assignees":["pagerduty:PU1","pagerduty:PU2"])"), std::string::npos)
      << Json(out);

  const auto by_service =
      Run(R"({"event":{"id":"e4","event_type":"incident.triggered",)"
          R"("occurred_at":"2021-06-04T13:55:30Z",)"
          R"("agent":{"id":"PSVC1","type":"service_reference"},"data":{"id":"PINC1"}}})");
  ASSERT_EQ(by_service.events.size(), 1u);
  EXPECT_EQ(by_service.events[0].actor(), "");
}

TEST_F(PagerDutyTest, MalformedJsonAnywhereIsInvalidJson) {
  for (const std::string& body :
       {std::string(R"({"event":{"id":"a","event_type":"incident.resolved","data":{"id":"P1",)"
                    R"("title":"\uZZZZ"}}})"),
        V3("incident.resolved") + R"({"x":1})", std::string(R"({"event":{"id":"a",)"),
        std::string("[]"), std::string("null"), std::string("\"event\"")}) {
    const auto out = Run(body);
    ASSERT_TRUE(out.rejection.has_value()) << body;
    EXPECT_EQ(out.rejection->reason, Reason::kInvalidJson) << body;
  }
}

TEST_F(PagerDutyTest, OneInstanceNormalisesManyRecordsOfAnySize) {
  // A body far larger than the first grows the padded buffer; later small ones still parse.
  std::string big_data = R"("id":"PBIG","title":"big","filler":")";
  big_data.append(200000, 'x');
  big_data += "\"";
  const std::vector<std::string> bodies = {V3("incident.triggered"),
                                           V3("incident.resolved", big_data, "big"), "{not json",
                                           V3("incident.reopened")};
  for (int round = 0; round < 2; ++round) {
    const auto a = Run(bodies[0]);
    ASSERT_EQ(a.events.size(), 1u);
    const auto b = Run(bodies[1]);
    ASSERT_EQ(b.events.size(), 1u);
    EXPECT_EQ(b.events[0].subject().id(), "PBIG");
    EXPECT_EQ(b.events[0].subject().title(), "big");
    const auto c = Run(bodies[2]);
    ASSERT_TRUE(c.rejection.has_value());
    const auto d = Run(bodies[3]);
    ASSERT_EQ(d.events.size(), 1u);
    EXPECT_EQ(d.events[0].type(), "incident.reopened");
  }
}

// Every prefix of real payloads: a rejection or whole events, never a crash or a half event.
TEST_F(PagerDutyTest, EveryTruncationIsRejectedCleanly) {
  for (const char* name :
       {"v2/incident.trigger.json", "v3/incident.annotated.json", "v1/incident.escalate.json"}) {
    std::ifstream in(std::string(TEAMHEALTH_FIXTURES_DIR) + "/pagerduty/" + name);
    std::stringstream text;
    text << in.rdbuf();
    const std::string body = text.str();
    ASSERT_FALSE(body.empty()) << name;
    for (size_t n = 0; n < body.size(); ++n) {
      const auto out = Run(std::string_view(body).substr(0, n));
      if (out.rejection) {
        EXPECT_TRUE(out.events.empty()) << name << " at " << n;
      } else {
        // Only a cut in trailing whitespace leaves a whole document.
        EXPECT_EQ(body.find_first_not_of(" \n\r\t", n), std::string::npos) << name << " at " << n;
      }
    }
  }
}

}  // namespace
}  // namespace teamhealth::sources
