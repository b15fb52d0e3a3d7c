#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "person_fields.h"
#include "teamhealth/sources/event_json.h"
#include "teamhealth/sources/source.h"

namespace teamhealth::sources {
namespace {

class CanonicalTest : public ::testing::Test {
 protected:
  NormalizeResult Run(std::string_view body) {
    NormalizeResult out;
    RawRecord r;
    r.topic = "canon";
    r.partition = 1;
    r.offset = 7;
    r.value = body;
    source_->Normalize(r, out);
    return out;
  }

  void ExpectReject(std::string_view body, Reason reason, std::string_view detail_part) {
    const auto out = Run(body);
    ASSERT_TRUE(out.rejection.has_value()) << body;
    EXPECT_EQ(ReasonName(out.rejection->reason), ReasonName(reason)) << body;
    EXPECT_NE(out.rejection->detail.find(detail_part), std::string::npos)
        << out.rejection->detail << " for " << body;
    EXPECT_TRUE(out.events.empty());
  }

  std::unique_ptr<SourceRegistry> registry_ = MakeSourceRegistry();
  Source* source_ = registry_->Find("canonical");
};

constexpr std::string_view kValid =
    R"({"subject":{"kind":"incident","id":"Q1","service":"PSVC","title":"Disk full"},)"
    R"("attrs":{"urgency":"high","assignees":["pagerduty:P1","pagerduty:P2"],"n":3,)"
    R"("x":1.5,"bot":false,"gone":null},"type":"incident.triggered","actor":"pagerduty:P9",)"
    R"("occurred_at":"2026-03-02T23:14:05.120+01:00","source":"canonical","id":"canonical:e1"})";

TEST_F(CanonicalTest, ParsesAValidEventInAnyFieldOrder) {
  const auto out = Run(kValid);
  ASSERT_FALSE(out.rejection.has_value()) << out.rejection->detail;
  ASSERT_EQ(out.events.size(), 1u);
  const auto& e = out.events[0];
  EXPECT_EQ(e.id(), "canonical:e1");
  EXPECT_EQ(e.type(), "incident.triggered");
  EXPECT_EQ(e.occurred_at_ms(), 1772489645120);
  EXPECT_EQ(e.actor(), "pagerduty:P9");
  EXPECT_EQ(e.subject().service(), "PSVC");
  EXPECT_EQ(e.origin().partition(), 1);
  EXPECT_EQ(e.origin().offset(), 7);
  // Attributes come out sorted by name.
  ASSERT_EQ(e.attrs_size(), 6);
  EXPECT_EQ(e.attrs(0).name(), "assignees");
  EXPECT_EQ(e.attrs(0).value().list_value().values_size(), 2);
  EXPECT_EQ(e.attrs(5).name(), "x");
}

TEST_F(CanonicalTest, ATopicThatIsNotUtf8QuarantinesTheRecord) {
  NormalizeResult out;
  RawRecord r;
  r.topic = "import:/tmp/caf\xe9.jsonl";  // a file name of another encoding
  r.value = kValid;
  source_->Normalize(r, out);
  ASSERT_TRUE(out.rejection.has_value());
  EXPECT_EQ(out.rejection->reason, Reason::kInvalidField);
  EXPECT_TRUE(out.events.empty());
}

TEST_F(CanonicalTest, RendersBackToCanonicalJson) {
  const auto out = Run(kValid);
  ASSERT_EQ(out.events.size(), 1u);
  std::string json;
  AppendEventJson(out.events[0], json);
  EXPECT_EQ(json, R"({"id":"canonical:e1","source":"canonical","type":"incident.triggered",)"
                  R"("occurred_at":"2026-03-02T22:14:05.120Z","actor":"pagerduty:P9",)"
                  R"("subject":{"kind":"incident","id":"Q1","service":"PSVC","title":"Disk full"},)"
                  R"("attrs":{"assignees":["pagerduty:P1","pagerduty:P2"],"bot":false,"gone":null,)"
                  R"("n":3,"urgency":"high","x":1.5}})");
  // And the rendering parses to the same event.
  const auto again = Run(json);
  ASSERT_EQ(again.events.size(), 1u);
  EXPECT_EQ(again.events[0].SerializeAsString(), out.events[0].SerializeAsString());
}

TEST_F(CanonicalTest, NullActorMeansNoActor) {
  const auto out = Run(
      R"({"id":"canonical:x","source":"canonical","type":"work_item.created",)"
      R"("occurred_at":"2026-01-01T00:00:00Z","actor":null,"subject":{"kind":"work_item","id":"1"}})");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_TRUE(out.events[0].actor().empty());
}

TEST_F(CanonicalTest, RejectsMalformedRecordsWithReasons) {
  ExpectReject("", Reason::kEmpty, "empty");
  ExpectReject("not json", Reason::kInvalidJson, "");
  ExpectReject("[1,2]", Reason::kInvalidJson, "object");
  ExpectReject(R"({"id":"canonical:x")", Reason::kInvalidJson, "");
  ExpectReject(
      R"({"source":"canonical","type":"work_item.created","occurred_at":"2026-01-01T00:00:00Z","subject":{"kind":"work_item","id":"1"}})",
      Reason::kMissingField, "id");
  ExpectReject(
      R"({"id":"canonical:x","source":"canonical","type":"work_item.created","subject":{"kind":"work_item","id":"1"}})",
      Reason::kMissingField, "occurred_at");
  ExpectReject(
      R"({"id":"canonical:x","source":"canonical","type":"work_item.exploded","occurred_at":"2026-01-01T00:00:00Z","subject":{"kind":"work_item","id":"1"}})",
      Reason::kUnknownType, "type");
  ExpectReject(
      R"({"id":"canonical:x","source":"canonical","type":"work_item.created","occurred_at":"yesterday","subject":{"kind":"work_item","id":"1"}})",
      Reason::kBadTimestamp, "occurred_at");
  ExpectReject(
      R"({"id":"canonical:x","source":"canonical","type":"work_item.created","occurred_at":"2026-01-01T00:00:00Z","subject":{"kind":"spaceship","id":"1"}})",
      Reason::kInvalidField, "subject.kind");
  ExpectReject(
      R"({"id":"jira:x","source":"canonical","type":"work_item.created","occurred_at":"2026-01-01T00:00:00Z","subject":{"kind":"work_item","id":"1"}})",
      Reason::kInvalidField, "id");
  ExpectReject(
      R"({"id":"canonical:x","source":"canonical","type":"work_item.created","occurred_at":"2026-01-01T00:00:00Z","subject":{"kind":"work_item","id":"1"},"attrs":{"a":{"nested":1}}})",
      Reason::kInvalidField, "attrs.a");
  ExpectReject(
      R"({"id":"canonical:x","source":"canonical","type":"work_item.created","occurred_at":"2026-01-01T00:00:00Z","subject":{"kind":"work_item","id":"1"},"attrs":{"a":1,"a":2}})",
      Reason::kInvalidField, "repeated");
  ExpectReject(
      R"({"id":42,"source":"canonical","type":"work_item.created","occurred_at":"2026-01-01T00:00:00Z","subject":{"kind":"work_item","id":"1"}})",
      Reason::kInvalidField, "id");
}

TEST_F(CanonicalTest, MalformedJsonInsideIgnoredMembersIsStillInvalidJson) {
  const std::string base =
      R"({"id":"canonical:x","source":"canonical","type":"work_item.created",)"
      R"("occurred_at":"2026-01-01T00:00:00Z","subject":{"kind":"work_item","id":"1")";
  // Well-formed unknown members are tolerated (newer producers)...
  EXPECT_EQ(Run(base + R"(},"extra":{"a":[1,2,{"b":null}]}})").events.size(), 1u);
  EXPECT_EQ(Run(base + R"(,"zzz":[true,false]}})").events.size(), 1u);
  // ...malformed ones are not, wherever they hide.
  ExpectReject(base + R"(},"extra":tru})", Reason::kInvalidJson, "extra");
  ExpectReject(base + R"(},"extra":01})", Reason::kInvalidJson, "extra");
  ExpectReject(base + R"(,"zzz":[1,}}})", Reason::kInvalidJson, "subject");
  ExpectReject(R"({"id":canonical:x})", Reason::kInvalidJson, "");
  ExpectReject(base + R"(},"attrs":{"a":[1,}})", Reason::kInvalidJson, "");
}

TEST_F(CanonicalTest, RepeatedTopLevelMembersAreRejected) {
  ExpectReject(R"({"id":"canonical:a","source":"canonical","type":"work_item.created",)"
               R"("occurred_at":"2026-01-01T00:00:00Z","subject":{"kind":"work_item","id":"1"},)"
               R"("id":"canonical:b"})",
               Reason::kInvalidField, "id (repeated)");
}

// Member names are read in place unless they hold an escape: both spellings mean one member.
TEST_F(CanonicalTest, EscapedMemberNamesReadAsTheirText) {
  std::string escaped(kValid);
  for (const auto& [plain, spelled] : {std::pair{R"("type":)", R"("typ\u0065":)"},
                                       std::pair{R"("urgency":)", R"("urg\u0065ncy":)"},
                                       std::pair{R"("kind":)", R"("\u006bind":)"}}) {
    escaped.replace(escaped.find(plain), std::string_view(plain).size(), spelled);
  }
  const auto plain = Run(kValid);
  const auto out = Run(escaped);
  ASSERT_FALSE(out.rejection.has_value()) << out.rejection->detail;
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].SerializeAsString(), plain.events[0].SerializeAsString());
  // An escaped spelling of a member already present is a repeat.
  ExpectReject(std::string(kValid).insert(1, R"("\u0069d":"canonical:e2",)"), Reason::kInvalidField,
               "id (repeated)");
}

// Member names are read 8 bytes at a time (KeyInPlace): attribute names, which the canonical
// source keeps as given, of every length across two words, plain, with one character escaped
// at each position, and with an escaped quote at each position, must read as their text.
TEST_F(CanonicalTest, MemberNamesOfEveryLengthAndEscapeReadAsTheirText) {
  const auto body = [](std::string_view attr_member) {
    return std::string(R"({"id":"canonical:e1","source":"canonical","type":"chat.message",)"
                       R"("occurred_at":"2026-01-01T00:00:00Z","subject":{"kind":"channel","id":"C1"},)"
                       R"("attrs":{)") +
           std::string(attr_member) + R"(:1}})";
  };
  const auto name_of = [&](std::string_view attr_member) -> std::string {
    const auto out = Run(body(attr_member));
    if (out.rejection || out.events.size() != 1 || out.events[0].attrs_size() != 1) {
      return "<no event: " + (out.rejection ? out.rejection->detail : std::string()) + ">";
    }
    return out.events[0].attrs(0).name();
  };
  for (size_t n = 1; n <= 24; ++n) {
    std::string name;
    for (size_t i = 0; i < n; ++i) name.push_back(static_cast<char>('a' + (i * 7 + n) % 26));
    EXPECT_EQ(name_of("\"" + name + "\""), name);
    for (size_t i = 0; i < n; ++i) {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\u%04x", name[i]);
      const std::string spelled = name.substr(0, i) + escape + name.substr(i + 1);
      EXPECT_EQ(name_of("\"" + spelled + "\""), name) << spelled;
      const std::string quoted = name.substr(0, i) + "\\\"" + name.substr(i);
      EXPECT_EQ(name_of("\"" + quoted + "\""), name.substr(0, i) + "\"" + name.substr(i))
          << quoted;
    }
  }
}

TEST_F(CanonicalTest, DirectoryEventsFromATopicAreRejected) {
  // The directory comes only from the config: a producer must not rewrite teams or put raw
  // identities (subject ids, aliases) into the log.
  ExpectReject(
      R"({"id":"directory:x","source":"directory","type":"directory.person_upserted",)"
      R"("occurred_at":"2026-01-01T00:00:00Z","subject":{"kind":"person","id":"slack:U1"},)"
      R"("attrs":{"aliases":["github:alice"],"teams":["payments"]}})",
      Reason::kInvalidField, "directory");
  ExpectReject(
      R"({"id":"canonical:x","source":"canonical","type":"directory.person_erased",)"
      R"("occurred_at":"2026-01-01T00:00:00Z","subject":{"kind":"person","id":"slack:U1"}})",
      Reason::kInvalidField, "directory");
  sources::SourceOptions files;
  files.accept_directory_events = true;
  auto registry = MakeSourceRegistry(files);
  RawRecord r;
  const std::string body =
      R"({"id":"directory:x","source":"directory","type":"directory.person_upserted",)"
      R"("occurred_at":"2026-01-01T00:00:00Z","subject":{"kind":"person","id":"p:1"}})";
  r.value = body;
  NormalizeResult out;
  registry->Find("canonical")->Normalize(r, out);
  EXPECT_EQ(out.events.size(), 1u);
}

// Design section 4: a time off of one person; the actor (whoever entered it) is optional.
constexpr std::string_view kTimeOff =
    R"({"id":"canonical:to-1","source":"canonical","type":"person.time_off",)"
    R"("occurred_at":"2026-02-20T09:00:00.000Z","actor":"slack:UMANAGER",)"
    R"("subject":{"kind":"time_off","id":"hr-4711"},)"
    R"("attrs":{"cancelled":false,"end":"2026-03-09T00:00:00Z","person":"slack:U123",)"
    R"("start":"2026-03-02T00:00:00Z"}})";

// An anonymous pulse answer: a team, a score, nobody.
constexpr std::string_view kPulse =
    R"({"id":"canonical:pulse-1","source":"canonical","type":"pulse.response",)"
    R"("occurred_at":"2026-03-06T16:00:00.000Z","actor":null,)"
    R"("subject":{"kind":"team","id":"payments"},"attrs":{"score":4}})";

// Canonical JSON -> event -> canonical JSON gives the same bytes, and parses to the same event.
void ExpectRoundTrip(const NormalizeResult& out, std::string_view json) {
  ASSERT_FALSE(out.rejection.has_value()) << out.rejection->detail;
  ASSERT_EQ(out.events.size(), 1u);
  std::string rendered;
  AppendEventJson(out.events[0], rendered);
  EXPECT_EQ(rendered, json);
}

TEST_F(CanonicalTest, TimeOffRoundTripsWithItsPersonAndInstants) {
  const auto out = Run(kTimeOff);
  ExpectRoundTrip(out, kTimeOff);
  const auto& e = out.events[0];
  EXPECT_EQ(e.subject().kind(), "time_off");
  EXPECT_EQ(e.actor(), "slack:UMANAGER");
  // `person` is a person field: the log pseudonymises it like the actor (schemas/person_fields).
  std::vector<std::string> people;
  schema::ForEachPersonRef(e, [&](const std::string& ref) { people.push_back(ref); });
  EXPECT_EQ(people, (std::vector<std::string>{"slack:UMANAGER", "slack:U123"}));
  // No actor is fine too, and `cancelled` is optional.
  const auto plain = Run(
      R"({"id":"canonical:to-2","source":"canonical","type":"person.time_off",)"
      R"("occurred_at":"2026-02-20T09:00:00Z","subject":{"kind":"time_off","id":"hr-4711"},)"
      R"("attrs":{"person":"jira:bob","start":"2026-03-02T00:00:00+01:00",)"
      R"("end":"2026-03-03T00:00:00+01:00"}})");
  ASSERT_FALSE(plain.rejection.has_value()) << plain.rejection->detail;
  EXPECT_TRUE(plain.events[0].actor().empty());
}

TEST_F(CanonicalTest, TimeOffWithoutAValidPersonOrIntervalIsRejected) {
  const std::string head =
      R"({"id":"canonical:to-1","source":"canonical","type":"person.time_off",)"
      R"("occurred_at":"2026-02-20T09:00:00Z","subject":{"kind":"time_off","id":"hr-4711"},)";
  const auto with = [&](std::string_view attrs) {
    return head + "\"attrs\":" + std::string(attrs) + "}";
  };
  const std::string interval = R"("start":"2026-03-02T00:00:00Z","end":"2026-03-09T00:00:00Z")";
  ExpectReject(with("{" + interval + "}"), Reason::kInvalidField, "attrs.person");
  ExpectReject(with(R"({"person":"","start":"2026-03-02T00:00:00Z","end":"2026-03-09T00:00:00Z"})"),
               Reason::kInvalidField, "attrs.person");
  ExpectReject(with(R"({"person":["slack:U1"],)" + interval + "}"),
               Reason::kInvalidField, "attrs.person");
  ExpectReject(with(R"({"person":"slack:U1","end":"2026-03-09T00:00:00Z"})"), Reason::kInvalidField,
               "attrs.start");
  ExpectReject(with(R"({"person":"slack:U1","start":"2026-03-02T00:00:00Z"})"),
               Reason::kInvalidField, "attrs.end");
  ExpectReject(with(R"({"person":"slack:U1","start":"next monday","end":"2026-03-09T00:00:00Z"})"),
               Reason::kInvalidField, "attrs.start");
  ExpectReject(with(R"({"person":"slack:U1","start":"2026-03-02T00:00:00Z","end":1772841600000})"),
               Reason::kInvalidField, "attrs.end");
  ExpectReject(with(R"({"person":"slack:U1","start":"2026-03-09T00:00:00Z",)"
                    R"("end":"2026-03-02T00:00:00Z"})"),
               Reason::kInvalidField, "attrs.end: not after attrs.start");
  ExpectReject(with(R"({"person":"slack:U1",)" + interval + R"(,"cancelled":"yes"})"),
               Reason::kInvalidField, "attrs.cancelled");
  // Closed shape: a reason (sick leave, parental leave) would be health or family data.
  ExpectReject(with(R"({"person":"slack:U1",)" + interval + R"(,"reason":"sick"})"),
               Reason::kInvalidField, "attrs.reason");
  ExpectReject(
      R"({"id":"canonical:to-1","source":"canonical","type":"person.time_off",)"
      R"("occurred_at":"2026-02-20T09:00:00Z","subject":{"kind":"team","id":"hr-4711"},)"
      R"("attrs":{"person":"slack:U1",)" + interval + "}}",
      Reason::kInvalidField, "subject.kind");
}

TEST_F(CanonicalTest, PulseResponseRoundTripsWithoutAnyone) {
  const auto out = Run(kPulse);
  ExpectRoundTrip(out, kPulse);
  const auto& e = out.events[0];
  EXPECT_EQ(e.subject().kind(), "team");
  EXPECT_EQ(e.subject().id(), "payments");
  int people = 0;
  schema::ForEachPersonRef(e, [&](const std::string&) { ++people; });
  EXPECT_EQ(people, 0);
  // An absent actor is no actor too.
  std::string no_actor(kPulse);
  no_actor.erase(no_actor.find(R"("actor":null,)"), 13);
  ASSERT_EQ(Run(no_actor).events.size(), 1u);
}

TEST_F(CanonicalTest, PulseResponseLinkedToAPersonOrOutOfRangeIsRejected) {
  const auto pulse = [](std::string_view actor, std::string_view kind, std::string_view attrs) {
    return R"({"id":"canonical:pulse-1","source":"canonical","type":"pulse.response",)"
           R"("occurred_at":"2026-03-06T16:00:00Z","actor":)" +
           std::string(actor) + R"(,"subject":{"kind":")" + std::string(kind) +
           R"(","id":"payments"},"attrs":)" + std::string(attrs) + "}";
  };
  ExpectReject(pulse(R"("slack:U1")", "team", R"({"score":4})"), Reason::kInvalidField,
               "field actor: a pulse response is never linked to a person");
  ExpectReject(pulse("null", "team", R"({"score":4,"respondent":"slack:U1"})"),
               Reason::kInvalidField, "attrs.respondent");
  ExpectReject(pulse("null", "team", R"({"score":4,"comment":"tired"})"), Reason::kInvalidField,
               "attrs.comment");
  for (std::string_view score : {"0", "6", "-1", "3.5", R"("4")", "null", "true"}) {
    ExpectReject(pulse("null", "team", R"({"score":)" + std::string(score) + "}"),
                 Reason::kInvalidField, "attrs.score");
  }
  ExpectReject(pulse("null", "team", "{}"), Reason::kInvalidField, "attrs.score");
  ExpectReject(pulse("null", "channel", R"({"score":4})"), Reason::kInvalidField, "subject.kind");
  for (std::string_view score : {"1", "5"}) {
    EXPECT_EQ(Run(pulse("null", "team", R"({"score":)" + std::string(score) + "}")).events.size(),
              1u);
  }
}

// The subject is stored as given, not pseudonymised: a key or title could carry a raw identity
// ("slack:UKIM") or a reason ("sick leave: ..."). Closed like the attributes: only kind and id,
// and any other member is refused whatever its value (as the schema's additionalProperties).
TEST_F(CanonicalTest, PulseAndTimeOffSubjectsAreOnlyKindAndId) {
  const auto with_member = [](std::string_view body, std::string_view id, std::string_view member) {
    std::string json(body);
    const std::string needle = R"("id":")" + std::string(id) + R"("})";
    json.replace(json.find(needle), needle.size(),
                 R"("id":")" + std::string(id) + R"(",)" + std::string(member) + "}");
    return json;
  };
  for (std::string_view field : {"key", "title", "project", "service"}) {
    const std::string member = R"(")" + std::string(field) + R"(":"slack:UKIM my lead ignores me")";
    ExpectReject(with_member(kPulse, "payments", member), Reason::kInvalidField,
                 "field subject." + std::string(field) +
                     ": a pulse response's subject is only kind and id");
    ExpectReject(with_member(kTimeOff, "hr-4711", member), Reason::kInvalidField,
                 "field subject." + std::string(field) +
                     ": a time off's subject is only kind and id");
  }
  // Present but empty or null, or a member we do not know: refused too (one closed shape).
  for (std::string_view member : {R"("title":"")", R"("key":null)", R"("note":"chemotherapy")",
                                  R"("note":{"a":1})"}) {
    const std::string field(member.substr(1, member.find('"', 1) - 1));
    ExpectReject(with_member(kPulse, "payments", member), Reason::kInvalidField,
                 "field subject." + field);
    ExpectReject(with_member(kTimeOff, "hr-4711", member), Reason::kInvalidField,
                 "field subject." + field);
  }
  // Other types keep their subject's title and key.
  const auto item = Run(
      R"({"id":"canonical:c1","source":"canonical","type":"work_item.created",)"
      R"("occurred_at":"2026-01-01T00:00:00Z","subject":{"kind":"work_item","id":"1",)"
      R"("key":"PAY-1","title":"Fix login"}})");
  ASSERT_EQ(item.events.size(), 1u);
  EXPECT_EQ(item.events[0].subject().title(), "Fix login");
}

// For every type an empty actor is no actor (stored as nothing, printed as null): a pulse with
// `"actor": ""` is the same event as one with `"actor": null`, so it is accepted, and the
// schema allows both.
TEST_F(CanonicalTest, EmptyActorIsNoActorForAPulseAsForAnyType) {
  std::string empty_actor(kPulse);
  empty_actor.replace(empty_actor.find(R"("actor":null)"), 12, R"("actor":"")");
  const auto pulse = Run(empty_actor);
  ASSERT_FALSE(pulse.rejection.has_value()) << pulse.rejection->detail;
  ASSERT_EQ(pulse.events.size(), 1u);
  EXPECT_EQ(pulse.events[0].SerializeAsString(), Run(kPulse).events[0].SerializeAsString());
  const auto work = Run(
      R"({"id":"canonical:x","source":"canonical","type":"work_item.created",)"
      R"("occurred_at":"2026-01-01T00:00:00Z","actor":"",)"
      R"("subject":{"kind":"work_item","id":"1"}})");
  ASSERT_EQ(work.events.size(), 1u);
  EXPECT_TRUE(work.events[0].actor().empty());
  int people = 0;
  schema::ForEachPersonRef(work.events[0], [&](const std::string&) { ++people; });
  EXPECT_EQ(people, 0);
}

TEST_F(CanonicalTest, HeaderLookupIgnoresCase) {
  const RecordHeader headers[] = {{"X-GitHub-Event", "issues"}, {"x-github-delivery", "d1"}};
  RawRecord r;
  r.headers = headers;
  EXPECT_EQ(r.Header("x-github-event"), "issues");
  EXPECT_EQ(r.Header("X-GITHUB-DELIVERY"), "d1");
  EXPECT_FALSE(r.Header("X-Other").has_value());
}

}  // namespace
}  // namespace teamhealth::sources
