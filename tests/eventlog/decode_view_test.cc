// DecodeView against protobuf: for every record Decode() accepts, DecodeView accepts and gives
// the view ViewOf gives of the decoded message, field by field (event_log.h). Canonical
// encodings (hand-made events of every type, the generator's, the golden scenarios') and
// non-canonical ones built byte by byte (merged and repeated fields, unknown fields of every
// wire type, truncations, bad UTF-8); reuse of one view across events; copies.
#include <gtest/gtest.h>

#include <bit>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <google/protobuf/stubs/logging.h>

#include "event_view.h"
#include "teamhealth/eventlog/compact.h"
#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/generate/generator.h"
#include "teamhealth/sources/source.h"
#include "view_difference.h"

namespace teamhealth::eventlog {
namespace {

using schema::EventView;

// --- Comparison -------------------------------------------------------------------------

// Every field of two views (view_difference.h); the failure names the first differing one.
::testing::AssertionResult SameView(const EventView& a, const EventView& b) {
  const std::string differs = testing::ViewDifference(a, b);
  if (differs.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << differs << " differs";
}

// The compact column's record of `view` (compact.h) reads back as the same view, codes
// included, twice in one chunk (at sequences 41 and 42) and into a reused view.
void ExpectCompactRoundTrips(const EventView& view) {
  std::string chunk;
  AppendCompact(Sequence(41), view, chunk);
  AppendCompact(Sequence(42), view, chunk);
  CompactReader reader(chunk);
  static EventView read;  // reused, as a replay reuses its view
  for (const uint64_t want : {41, 42}) {
    Sequence seq;
    auto r = reader.Next(seq, read);
    ASSERT_TRUE(r.ok()) << r.error().message();
    ASSERT_TRUE(*r);
    EXPECT_EQ(seq, Sequence(want));
    EXPECT_TRUE(SameView(read, view));
  }
  Sequence seq;
  auto end = reader.Next(seq, read);
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(*end);
}

// Decode() and DecodeView on `record`: when Decode() accepts, DecodeView accepts with the view
// ViewOf gives of the message (and the view's compact record reads back as it); when it refuses
// and `refuse_too`, DecodeView refuses. Returns whether Decode() accepted.
bool ExpectAgrees(const std::string& record, bool refuse_too = true) {
  schema::Event e;
  const Status decoded = Decode(record, e);
  EventView view;
  const Status read = DecodeView(record, view);
  if (decoded.ok()) {
    EXPECT_TRUE(read.ok()) << read.error().message();
    EventView expected;
    schema::ViewOf(e, expected);
    if (read.ok()) {
      EXPECT_TRUE(SameView(view, expected));
      ExpectCompactRoundTrips(view);
    }
  } else if (refuse_too) {
    EXPECT_FALSE(read.ok()) << decoded.error().message();
  }
  return decoded.ok();
}

// --- Canonical events -------------------------------------------------------------------

schema::Event Ev(const std::string& type, const std::string& id, const std::string& actor,
                 const std::string& subject_kind, const std::string& subject_id) {
  schema::Event e;
  e.set_schema_version(kSchemaVersion);
  e.set_id(id);
  e.set_source(id.substr(0, id.find(':')));
  e.set_type(type);
  e.set_occurred_at_ms(1772409600000);
  e.set_actor(actor);
  e.mutable_subject()->set_kind(subject_kind);
  e.mutable_subject()->set_id(subject_id);
  return e;
}
schema::Value* Attr(schema::Event& e, const std::string& name) {
  auto* a = e.add_attrs();
  a->set_name(name);
  return a->mutable_value();
}
void Str(schema::Event& e, const std::string& name, const std::string& v) {
  Attr(e, name)->set_string_value(v);
}
void Int(schema::Event& e, const std::string& name, int64_t v) { Attr(e, name)->set_int_value(v); }
void List(schema::Event& e, const std::string& name, std::initializer_list<const char*> items) {
  auto* list = Attr(e, name)->mutable_list_value();
  for (const char* item : items) list->add_values(item);
}

std::vector<schema::Event> CanonicalEvents() {
  std::vector<schema::Event> out;
  auto e = Ev("chat.message", "slack:C1/1.0", "p:01", "channel", "C1");
  Int(e, "length", 42);
  List(e, "mentions", {"p:02", "p:03"});
  List(e, "recipients", {"p:02", "p:03", "p:04"});
  Str(e, "thread", "1.0");
  out.push_back(e);
  e = Ev("work_item.created", "jira:10001", "p:01", "work_item", "10001");
  e.mutable_subject()->set_key("PAY-1");
  e.mutable_subject()->set_project("PAY");
  e.mutable_subject()->set_title("Refunds fail for €");
  Str(e, "assignee", "p:02");
  Str(e, "status_category", "todo");
  out.push_back(e);
  e = Ev("work_item.status_changed", "jira:10001#2", "p:02", "work_item", "10001");
  Str(e, "from_category", "todo");
  Str(e, "to_category", "in_progress");
  out.push_back(e);
  e = Ev("work_item.assigned", "jira:10001#3", "p:02", "work_item", "10001");
  Str(e, "from", "p:02");
  Str(e, "to", "p:05");
  out.push_back(e);
  out.push_back(Ev("work_item.commented", "linear:c1", "p:03", "work_item", "LIN-1"));
  for (const char* t : {"pull_request.opened", "pull_request.merged", "pull_request.closed"}) {
    out.push_back(Ev(t, std::string("github:") + t, "p:04", "pull_request", "org/repo#7"));
  }
  e = Ev("pull_request.review_requested", "github:rr", "p:04", "pull_request", "org/repo#7");
  Str(e, "reviewer", "p:05");
  out.push_back(e);
  for (const char* t : {"incident.triggered", "incident.acknowledged", "incident.resolved",
                        "incident.escalated", "incident.reassigned"}) {
    e = Ev(t, std::string("pagerduty:") + t, t == std::string("incident.triggered") ? "" : "p:06",
           "incident", "PD1");
    e.mutable_subject()->set_service("payments-api");
    List(e, "assignees", {"p:06", "p:07"});
    Str(e, "urgency", "high");
    out.push_back(e);
  }
  e = Ev("oncall.shift", "pagerduty:shift1", "", "schedule", "S1");
  Int(e, "end_ms", 1772496000000);
  Int(e, "level", 2);
  Str(e, "person", "p:06");
  Int(e, "start_ms", 1772409600000);
  out.push_back(e);
  e = Ev("person.time_off", "canonical:to1", "", "person", "p:07");
  Int(e, "end_ms", 1772496000000);
  Str(e, "person", "p:07");
  Int(e, "start_ms", 1772409600000);
  out.push_back(e);
  e = Ev("pulse.response", "canonical:pulse1", "p:08", "person", "p:08");
  Str(e, "question", "workload");
  Int(e, "score", -3);
  out.push_back(e);
  e = Ev("directory.person_upserted", "directory:d1", "", "person", "slack:U1");
  List(e, "aliases", {"jira:alice", "github:alice", "Zoë ✓"});
  List(e, "teams", {"payments", "platform"});
  Str(e, "timezone", "Europe/London");
  out.push_back(e);
  // Neither canonical type nor actor: a double, a null, an empty list, a bool, unicode, origin.
  e = Ev("custom.thing", "canonical:ü-1", "", "", "");
  e.clear_subject();
  Attr(e, "a_double")->set_double_value(-0.125);
  List(e, "b_empty", {});
  Attr(e, "c_null")->set_null_value(true);
  Attr(e, "d_bool")->set_bool_value(true);
  Str(e, "e_text", "日本語 — ✓ \U0001F600");
  Attr(e, "f_unset");  // a value with no case set
  Int(e, "g_min", std::numeric_limits<int64_t>::min());
  e.set_occurred_at_ms(-1);
  e.mutable_origin()->set_topic("teamhealth.canonical");
  e.mutable_origin()->set_partition(3);
  e.mutable_origin()->set_offset(123456);
  out.push_back(e);
  out.push_back(schema::Event());  // nothing set at all
  return out;
}

TEST(DecodeViewTest, EveryCanonicalTypeRoundTrips) {
  const auto events = CanonicalEvents();
  for (const auto& e : events) {
    SCOPED_TRACE(e.type());
    ASSERT_TRUE(ExpectAgrees(e.SerializeAsString()));
    if (e.type().find('.') != std::string::npos && !e.type().starts_with("custom.")) {
      EventView view;
      ASSERT_TRUE(DecodeView(e.SerializeAsString(), view).ok());
      EXPECT_NE(view.type_code(), schema::EventType::kOther);
    }
  }
}

// The generator's 7-day organisation, normalised record by record, each record at partition 2,
// offset 77 of its topic: fn(record, result) after each; stops at the first fatal failure.
template <typename Fn>
void NormaliseGenerated(Fn&& fn) {
  generate::Options options;
  options.days = 7;
  auto out = generate::Generate(options);
  ASSERT_TRUE(out.ok()) << out.error().message();
  sources::SourceOptions source_options;
  source_options.accept_directory_events = true;
  auto registry = sources::MakeSourceRegistry(source_options);
  sources::NormalizeResult result;
  for (const auto& r : out->records) {
    std::vector<sources::RecordHeader> headers;
    for (const auto& [name, value] : r.headers) headers.push_back({name, value});
    sources::RawRecord raw;
    raw.topic = r.topic;
    raw.partition = 2;
    raw.offset = 77;
    raw.timestamp_ms = r.at;
    raw.value = r.body;
    raw.headers = headers;
    result.Clear();
    sources::Source* source = registry->Find(r.source);
    ASSERT_NE(source, nullptr) << r.source;
    source->Normalize(raw, result);
    fn(r, result);
    if (::testing::Test::HasFatalFailure()) return;
  }
}

TEST(DecodeViewTest, TheGeneratorsEventsRoundTrip) {
  size_t events = 0;
  NormaliseGenerated([&](const generate::Record&, const sources::NormalizeResult& result) {
    for (const auto& e : result.events) {
      ++events;
      ASSERT_TRUE(ExpectAgrees(e.SerializeAsString())) << e.id();
    }
  });
  EXPECT_GT(events, 1000u);
}

TEST(DecodeViewTest, TheGoldenScenariosEventsRoundTrip) {
  sources::SourceOptions options;
  options.accept_directory_events = true;  // scenarios carry their directory history
  auto registry = sources::MakeSourceRegistry(options);
  auto* canonical = registry->Find("canonical");
  size_t events = 0;
  for (const auto& dir : std::filesystem::directory_iterator(TEAMHEALTH_PROJECTION_TESTS)) {
    std::ifstream in(dir.path() / "events.jsonl");
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      sources::RawRecord r;
      r.value = line;
      sources::NormalizeResult result;
      canonical->Normalize(r, result);
      ASSERT_FALSE(result.rejection.has_value()) << dir.path() << ": " << line;
      for (const auto& e : result.events) {
        ++events;
        ASSERT_TRUE(ExpectAgrees(e.SerializeAsString())) << e.id();
      }
    }
  }
  EXPECT_GT(events, 100u);
}

// --- Non-canonical encodings, byte by byte ---------------------------------------------

void Varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void Tag(std::string& out, uint32_t number, uint32_t wire_type) {
  Varint(out, (number << 3) | wire_type);
}
void Delimited(std::string& out, uint32_t number, const std::string& bytes) {
  Tag(out, number, 2);
  Varint(out, bytes.size());
  out += bytes;
}
void VarintField(std::string& out, uint32_t number, uint64_t v) {
  Tag(out, number, 0);
  Varint(out, v);
}
// Fields no message of the schema has, of every wire type, and a group nesting another.
std::string Unknowns() {
  std::string out;
  VarintField(out, 100, 1234567);
  Tag(out, 101, 1);
  out.append(8, '\x11');
  Delimited(out, 102, "\xff\xfe not UTF-8, not read");
  Tag(out, 103, 5);
  out.append(4, '\x22');
  Tag(out, 104, 3);  // a group with a field and a nested group inside
  VarintField(out, 1, 7);
  Tag(out, 105, 3);
  Delimited(out, 2, "x");
  Tag(out, 105, 4);
  Tag(out, 104, 4);
  return out;
}
std::string AttrBytes(const std::string& name, const std::string& value) {
  std::string a;
  Delimited(a, 1, name);
  Delimited(a, 2, value);
  return a;
}
std::string ListBytes(std::initializer_list<const char*> items) {
  std::string list;
  for (const char* item : items) Delimited(list, 1, item);
  std::string value;
  Delimited(value, 6, list);
  return value;
}

TEST(DecodeViewTest, RepeatedSubjectsMergeFieldByField) {
  std::string first, second, record;
  Delimited(first, 1, "incident");
  Delimited(first, 2, "PD1");
  Delimited(first, 5, "payments-api");
  Delimited(second, 2, "PD2");
  Delimited(second, 6, "title");
  Delimited(record, 7, first);
  Delimited(record, 4, "incident.triggered");
  Delimited(record, 7, second);
  ASSERT_TRUE(ExpectAgrees(record));
  EventView view;
  ASSERT_TRUE(DecodeView(record, view).ok());
  EXPECT_EQ(view.subject().kind(), "incident");
  EXPECT_EQ(view.subject().id(), "PD2");
  EXPECT_EQ(view.subject().service(), "payments-api");
  EXPECT_EQ(view.subject().title(), "title");
  EXPECT_EQ(view.type_code(), schema::EventType::kIncidentTriggered);
  EXPECT_EQ(view.subject_kind(), schema::SubjectKind::kIncident);  // of the merged subject
}

// A type's family is its name's prefix up to and including the dot, for types EventType knows
// and types it does not.
TEST(DecodeViewTest, TheTypeFamilyIsDecodedOnce) {
  EventView view;  // reused, as a replay does
  for (const auto& [type, family] : std::vector<std::pair<std::string, schema::TypeFamily>>{
           {"", schema::TypeFamily::kOther},
           {"incident", schema::TypeFamily::kOther},
           {"incidents.triggered", schema::TypeFamily::kOther},
           {"chat.message", schema::TypeFamily::kOther},
           {"incident.triggered", schema::TypeFamily::kIncident},
           {"incident.priority_changed", schema::TypeFamily::kIncident},
           {"work_item.deleted", schema::TypeFamily::kWorkItem},
           {"pull_request.opened", schema::TypeFamily::kPullRequest},
           {"directory.person_upserted", schema::TypeFamily::kDirectory}}) {
    std::string record;
    Delimited(record, 4, type);
    ASSERT_TRUE(DecodeView(record, view).ok());
    EXPECT_EQ(view.type_family(), family) << type;
    schema::Event e;
    e.set_type(type);
    EXPECT_EQ(EventView(e).type_family(), family) << type;  // a view of a message: the same
  }
  ASSERT_TRUE(DecodeView(std::string(), view).ok());  // Reset forgets the last event's
  EXPECT_EQ(view.type_family(), schema::TypeFamily::kOther);
}

TEST(DecodeViewTest, TheSubjectKindIsDecodedOnce) {
  EventView view;  // reused, as a replay does
  for (const auto& [kind, code] : std::vector<std::pair<std::string, schema::SubjectKind>>{
           {"", schema::SubjectKind::kOther},
           {"channel", schema::SubjectKind::kOther},
           {"work_items", schema::SubjectKind::kOther},
           {"pull_request", schema::SubjectKind::kPullRequest},
           {"incident", schema::SubjectKind::kIncident},
           {"work_item", schema::SubjectKind::kWorkItem}}) {
    std::string subject, record;
    Delimited(subject, 1, kind);
    Delimited(record, 7, subject);
    ASSERT_TRUE(DecodeView(record, view).ok());
    EXPECT_EQ(view.subject_kind(), code) << kind;
    schema::Event e;
    e.mutable_subject()->set_kind(kind);
    EXPECT_EQ(EventView(e).subject_kind(), code) << kind;  // a view of a message: the same
  }
  ASSERT_TRUE(DecodeView(std::string(), view).ok());  // Reset forgets the last event's
  EXPECT_EQ(view.subject_kind(), schema::SubjectKind::kOther);
}

TEST(DecodeViewTest, TheLastOccurrenceOfAScalarOrStringWins) {
  std::string record;
  Delimited(record, 2, "first-id");
  Delimited(record, 6, "p:1");
  VarintField(record, 5, 10);
  Delimited(record, 4, "chat.message");
  Delimited(record, 2, "second-id");
  Delimited(record, 6, "p:2");
  VarintField(record, 5, static_cast<uint64_t>(-20));
  Delimited(record, 4, "incident.resolved");
  VarintField(record, 1, 1);
  VarintField(record, 1, 0);
  ASSERT_TRUE(ExpectAgrees(record));
  EventView view;
  ASSERT_TRUE(DecodeView(record, view).ok());
  EXPECT_EQ(view.id(), "second-id");
  EXPECT_EQ(view.actor(), "p:2");
  EXPECT_EQ(view.occurred_at_ms(), -20);
  EXPECT_EQ(view.type_code(), schema::EventType::kIncidentResolved);
}

TEST(DecodeViewTest, AValueSwitchesToTheLastCaseSet) {
  std::string value, record;
  Delimited(value, 2, "text");
  VarintField(value, 3, 77);
  Delimited(record, 8, AttrBytes("n", value));
  // In two value occurrences of one attribute (merged), and list -> string -> list.
  std::string a;
  Delimited(a, 1, "m");
  Delimited(a, 2, ListBytes({"x", "y"}));
  std::string str;
  Delimited(str, 2, "s");
  Delimited(a, 2, str);
  Delimited(a, 2, ListBytes({"z"}));
  Delimited(record, 8, a);
  // A double, then a bool, then null.
  value.clear();
  Tag(value, 4, 1);
  value.append("\0\0\0\0\0\0\xf0\x3f", 8);
  VarintField(value, 5, 1);
  VarintField(value, 1, 0);
  Delimited(record, 8, AttrBytes("o", value));
  ASSERT_TRUE(ExpectAgrees(record));
  EventView view;
  ASSERT_TRUE(DecodeView(record, view).ok());
  ASSERT_EQ(view.attrs().size(), 3u);
  EXPECT_TRUE(view.attrs()[0].value().has_int_value());
  EXPECT_EQ(view.attrs()[0].value().int_value(), 77);
  ASSERT_TRUE(view.attrs()[1].value().has_list_value());
  ASSERT_EQ(view.attrs()[1].value().list_value().values().size(), 1u);
  EXPECT_EQ(view.attrs()[1].value().list_value().values()[0], "z");
  EXPECT_TRUE(view.attrs()[2].value().has_null_value());
}

TEST(DecodeViewTest, AListSetTwiceInOneAttributeConcatenates) {
  // Twice inside one value message, and in two value occurrences of one attribute.
  std::string value = ListBytes({"a", "b"}) + ListBytes({"c"});
  std::string a;
  Delimited(a, 1, "mentions");
  Delimited(a, 2, value);
  Delimited(a, 2, ListBytes({"d"}));
  std::string record;
  Delimited(record, 4, "chat.message");
  Delimited(record, 8, a);
  Delimited(record, 8, AttrBytes("recipients", ListBytes({"e"})));
  ASSERT_TRUE(ExpectAgrees(record));
  EventView view;
  ASSERT_TRUE(DecodeView(record, view).ok());
  ASSERT_EQ(view.attrs().size(), 2u);
  const auto items = view.attrs()[0].value().list_value().values();
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0], "a");
  EXPECT_EQ(items[3], "d");
  ASSERT_EQ(view.attrs()[1].value().list_value().values().size(), 1u);
  EXPECT_EQ(view.attrs()[1].value().list_value().values()[0], "e");
}

TEST(DecodeViewTest, UnknownFieldsOfEveryWireTypeAreSkippedAtEveryLevel) {
  std::string subject = Unknowns();
  Delimited(subject, 1, "incident");
  subject += Unknowns();
  std::string list = Unknowns();
  Delimited(list, 1, "p:1");
  list += Unknowns();
  std::string value = Unknowns();
  Delimited(value, 6, list);
  value += Unknowns();
  std::string attr = Unknowns();
  Delimited(attr, 1, "assignees");
  attr += Unknowns();
  Delimited(attr, 2, value);
  attr += Unknowns();
  std::string record = Unknowns();
  Delimited(record, 4, "incident.triggered");
  record += Unknowns();
  Delimited(record, 7, subject);
  // Known numbers with another wire type are unknown fields too.
  Tag(record, 2, 0);
  Varint(record, 5);
  Tag(record, 1, 5);
  record.append(4, 'q');
  Delimited(record, 8, attr);
  record += Unknowns();
  ASSERT_TRUE(ExpectAgrees(record));
  EventView view;
  ASSERT_TRUE(DecodeView(record, view).ok());
  EXPECT_EQ(view.subject().kind(), "incident");
  ASSERT_EQ(view.attrs().size(), 1u);
  ASSERT_EQ(view.attrs()[0].value().list_value().values().size(), 1u);
  EXPECT_EQ(view.attrs()[0].value().list_value().values()[0], "p:1");
}

TEST(DecodeViewTest, ANewerSchemaVersionIsAnErrorNamingIt) {
  schema::Event e = CanonicalEvents()[0];
  e.set_schema_version(kSchemaVersion + 1);
  EventView view;
  const Status read = DecodeView(e.SerializeAsString(), view);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.error().message().find("schema version " + std::to_string(kSchemaVersion + 1)),
            std::string::npos)
      << read.error().message();
  EXPECT_NE(read.error().message().find(e.id()), std::string::npos);
  schema::Event decoded;
  EXPECT_FALSE(Decode(e.SerializeAsString(), decoded).ok());
  e.clear_schema_version();  // 0, absent: the first records; upcast to the current version
  ASSERT_TRUE(ExpectAgrees(e.SerializeAsString()));
  ASSERT_TRUE(DecodeView(e.SerializeAsString(), view).ok());
  EXPECT_EQ(view.schema_version(), kSchemaVersion);
}

// Protobuf reads a tag of up to five bytes and drops the fifth byte's bits past 32 (found by
// fuzz_decode_view): an unknown fixed32 field whose tag is spelt e5 e2 e2 e2 1d is field
// 0x0c589732 >> 3 with the high bits gone, and a sixth tag byte is refused.
TEST(DecodeViewTest, AFiveByteTagDropsItsBitsPast32AsProtobufDoes) {
  std::string record;
  VarintField(record, 1, 1);
  Delimited(record, 2, "id");
  record += std::string("\xe5\xe2\xe2\xe2\x1d", 5) + "abcd";  // wire type 5: four bytes
  ASSERT_TRUE(ExpectAgrees(record));
  EventView view;
  ASSERT_TRUE(DecodeView(record, view).ok());
  EXPECT_EQ(view.id(), "id");
  const std::string six = record.substr(0, record.size() - 9) +
                          std::string("\xe5\xe2\xe2\xe2\x9d\x01", 6) + "abcd";
  EXPECT_FALSE(ExpectAgrees(six));  // both refuse it
  EXPECT_FALSE(DecodeView(six, view).ok());
}

// A length of more than five bytes (here "x.y" with a six-byte length of 3) is refused, as
// protobuf refuses it; five bytes with the padding are read.
TEST(DecodeViewTest, AnOverlongLengthIsRefusedAsProtobufRefusesIt) {
  const std::string six = std::string("\x22\x83\x80\x80\x80\x80\x00", 7) + "x.y";
  EXPECT_FALSE(ExpectAgrees(six));
  EventView view;
  EXPECT_FALSE(DecodeView(six, view).ok());
  const std::string five = std::string("\x22\x83\x80\x80\x80\x00", 6) + "x.y";
  ASSERT_TRUE(ExpectAgrees(five));
  ASSERT_TRUE(DecodeView(five, view).ok());
  EXPECT_EQ(view.type(), "x.y");
}

TEST(DecodeViewTest, ATruncatedRecordIsRefusedAsProtobufRefusesIt) {
  google::protobuf::LogSilencer quiet;
  for (const auto& e : CanonicalEvents()) {
    const std::string record = e.SerializeAsString();
    SCOPED_TRACE(e.type());
    int refused = 0;
    for (size_t n = 0; n < record.size(); ++n) {
      refused += !ExpectAgrees(record.substr(0, n));
      if (HasFailure()) return;
    }
    if (record.size() > 2) {
      EXPECT_GT(refused, 0);
    }
  }
}

TEST(DecodeViewTest, BadUtf8IsRefusedWhereverProtobufRefusesIt) {
  google::protobuf::LogSilencer quiet;
  const std::string bad = "ok\xc3\x28";
  std::string id, actor, name, item, subject_field;
  Delimited(id, 2, bad);
  Delimited(actor, 6, bad);
  Delimited(name, 8, AttrBytes(bad, ListBytes({"x"})));
  Delimited(item, 8, AttrBytes("mentions", ListBytes({"x", bad.c_str()})));
  std::string subject;
  Delimited(subject, 3, bad);
  Delimited(subject_field, 7, subject);
  for (const auto* record : {&id, &actor, &name, &item, &subject_field}) {
    schema::Event e;
    EXPECT_FALSE(Decode(*record, e).ok());
    EventView view;
    EXPECT_FALSE(DecodeView(*record, view).ok());
  }
}

// The inline ASCII check reads words, overlapping at the end: a byte of 0x80 or more at any
// position of a string of any length up to 40 must be seen, and valid UTF-8 pass.
TEST(DecodeViewTest, TheAsciiCheckSeesEveryByteOfEveryLength) {
  for (size_t n = 0; n <= 40; ++n) {
    std::string s(n, 'a');
    EXPECT_TRUE(schema::IsAscii(s)) << n;
    EXPECT_TRUE(schema::IsValidUtf8(s)) << n;
    for (size_t i = 0; i < n; ++i) {
      std::string t = s;
      t[i] = '\x80';
      EXPECT_FALSE(schema::IsAscii(t)) << n << " at " << i;
      EXPECT_FALSE(schema::IsValidUtf8(t)) << n << " at " << i;  // a lone continuation byte
      if (i + 1 < n) {
        t[i] = '\xc3';
        t[i + 1] = '\xa9';  // é
        EXPECT_FALSE(schema::IsAscii(t)) << n << " at " << i;
        EXPECT_TRUE(schema::IsValidUtf8(t)) << n << " at " << i;
      }
    }
  }
}

// --- Reuse and copies --------------------------------------------------------------------

TEST(DecodeViewTest, AReusedViewShowsNothingOfThePreviousEvent) {
  const auto events = CanonicalEvents();
  EventView view;
  for (const auto& big : events) {
    const std::string big_record = big.SerializeAsString();
    for (const auto& small : {events[4], schema::Event(), events[11]}) {
      ASSERT_TRUE(DecodeView(big_record, view).ok());
      const std::string small_record = small.SerializeAsString();
      ASSERT_TRUE(DecodeView(small_record, view).ok());
      schema::Event decoded;
      ASSERT_TRUE(Decode(small_record, decoded).ok());
      EXPECT_TRUE(SameView(view, EventView(decoded))) << big.type() << " then " << small.type();
    }
  }
}

TEST(DecodeViewTest, ACopyResolvesItsReferencesWithoutTouchingTheOriginal) {
  const schema::Event e = CanonicalEvents()[0];  // chat.message: actor, mentions, recipients
  const std::string record = e.SerializeAsString();
  EventView original;
  ASSERT_TRUE(DecodeView(record, original).ok());
  EventView copy = original;
  std::vector<std::string> keys;
  keys.reserve(16);  // the views below point into these strings
  copy.ForEachPersonRef([&](std::string_view& ref) {
    keys.push_back("key-of-" + std::string(ref));
    ref = keys.back();
  });
  EXPECT_EQ(keys.size(), 6u);  // actor, 2 mentions, 3 recipients
  EXPECT_TRUE(SameView(original, EventView(e)));
  EXPECT_EQ(copy.actor(), "key-of-p:01");
  EXPECT_EQ(copy.FindAttr("mentions")->list_value().values()[1], "key-of-p:03");
  EXPECT_EQ(copy.FindAttr("recipients")->list_value().values()[2], "key-of-p:04");
  EXPECT_EQ(original.FindAttr("mentions")->list_value().values()[1], "p:03");
  EXPECT_EQ(original.FindAttr("recipients")->list_value().values()[2], "p:04");
  // And assignment into a warm view, the other way round.
  EventView assigned;
  ASSERT_TRUE(DecodeView(CanonicalEvents()[18].SerializeAsString(), assigned).ok());
  assigned = copy;
  EXPECT_TRUE(SameView(assigned, copy));
}


// --- The encoder (schema::EncodeEvent, EncodedEvents) ------------------------------------

// --- The compact column's records (compact.h) --------------------------------------------

TEST(CompactTest, LongStringsEmptyListsAndUnsetValuesReadBack) {
  // A string of 0xFFFF bytes or more takes the long length; 0xFFFE bytes still fit the short.
  for (const size_t size : {size_t{0}, size_t{0xFFFE}, size_t{0xFFFF}, size_t{70000}}) {
    SCOPED_TRACE(size);
    auto e = Ev("incident.triggered", "pagerduty:Q1", "p:01", "incident", "Q1");
    e.mutable_subject()->set_title(std::string(size, 't'));
    Str(e, "note", std::string(size, 'n'));
    List(e, "empty", {});
    Attr(e, "unset");
    e.mutable_attrs()->rbegin()->clear_value();
    Attr(e, "nothing")->set_null_value(true);
    Attr(e, "yes")->set_bool_value(true);
    Attr(e, "ratio")->set_double_value(-0.0);
    ASSERT_TRUE(ExpectAgrees(e.SerializeAsString()));
  }
}

TEST(CompactTest, MoreAttributesThanSixteenBitsCountReadBack) {
  auto e = Ev("custom.wide", "canonical:w", "p:01", "thing", "T1");
  for (int i = 0; i < 70000; ++i) Int(e, "a" + std::to_string(i), i);
  EventView view;
  const std::string record = e.SerializeAsString();  // the view points into it
  ASSERT_TRUE(DecodeView(record, view).ok());
  ASSERT_EQ(view.attrs().size(), 70000u);
  ExpectCompactRoundTrips(view);
}

TEST(CompactTest, EveryTruncationIsRefusedNamingTheRecord) {
  for (const auto& e : CanonicalEvents()) {
    SCOPED_TRACE(e.type());
    EventView view;
    const std::string record = e.SerializeAsString();  // the view points into it
    ASSERT_TRUE(DecodeView(record, view).ok());
    std::string chunk;
    AppendCompact(Sequence(1), view, chunk);
    const size_t first = chunk.size();
    AppendCompact(Sequence(2), view, chunk);
    for (size_t cut = first + 1; cut < chunk.size(); ++cut) {
      // The first record reads; the second, cut short, is refused (never read past the end).
      const std::string bytes = chunk.substr(0, cut);
      CompactReader reader(bytes);
      Sequence seq;
      EventView out;
      auto r = reader.Next(seq, out);
      ASSERT_TRUE(r.ok() && *r) << cut;
      r = reader.Next(seq, out);
      ASSERT_FALSE(r.ok()) << "cut at " << cut << " of " << chunk.size();
      EXPECT_NE(r.error().message().find("at byte " + std::to_string(first)), std::string::npos)
          << r.error().message();
    }
  }
}

// Every known name reads back as its code and its name; another name by its name only.
TEST(AttrNameTest, EveryNameHasItsCodeAndOthersNone) {
  for (size_t c = 1; c < schema::kAttrNameCount; ++c) {
    const auto code = static_cast<schema::AttrName>(c);
    EXPECT_EQ(schema::AttrNameOf(schema::NameOf(code)), code) << schema::NameOf(code);
  }
  for (const std::string_view other : {"", "b", "bots", "Bot", "to_", "status_categor",
                                       "status_categoryy", "a_name_longer_than_any_known"}) {
    EXPECT_EQ(schema::AttrNameOf(other), schema::AttrName::kUnknown) << other;
  }
}

// By code as by name: the first attribute of a name, after a sort and a rename too.
TEST(AttrNameTest, FindByCodeAgreesWithFindByName) {
  schema::Event e;
  e.set_type("chat.message");
  auto add = [&](const std::string& name, const std::string& value) {
    auto* a = e.add_attrs();
    a->set_name(name);
    a->mutable_value()->set_string_value(value);
  };
  add("to", "first");
  add("x-custom", "c");
  add("bot", "b");
  add("to", "second");
  EventView view(e);
  ASSERT_NE(view.FindAttr(schema::AttrName::kTo), nullptr);
  EXPECT_EQ(view.FindAttr(schema::AttrName::kTo)->string_value(), "first");
  EXPECT_EQ(view.FindAttr(schema::AttrName::kBot), view.FindAttr("bot"));
  EXPECT_EQ(view.FindAttr(schema::AttrName::kFrom), nullptr);
  view.SortAttrsByName();  // bot, to, to, x-custom
  EXPECT_EQ(view.FindAttr(schema::AttrName::kBot), &view.attrs()[0].value());
  EXPECT_EQ(view.FindAttr(schema::AttrName::kTo)->string_value(), "first");
  view.set_attr_name("from");  // the last attribute, x-custom
  EXPECT_EQ(view.FindAttr(schema::AttrName::kFrom)->string_value(), "c");
  const EventView copy = view;
  EXPECT_EQ(copy.FindAttr(schema::AttrName::kFrom), &copy.attrs()[3].value());
}

// A known name is stored as its code: a record holding it as text is refused (read so, the
// view's numbering would miss it), and so is a code past the last name.
TEST(CompactTest, AKnownNameStoredAsTextAndUnknownCodesAreRefused) {
  schema::Event e;
  e.set_id("e");
  e.set_type("chat.message");
  auto* a = e.add_attrs();
  a->set_name("x-custom");
  a->mutable_value()->set_bool_value(true);
  EventView view(e);
  std::string chunk;
  AppendCompact(Sequence(1), view, chunk);
  const size_t name_at = chunk.find("x-custom");
  ASSERT_NE(name_at, std::string::npos);
  ASSERT_EQ(chunk[name_at - 3], '\0');  // code 0, then the name's u16 length
  {
    std::string bad = chunk;
    bad.replace(name_at, 8, "bot\0\0\0\0\0");
    bad[name_at - 2] = 3;  // the length of "bot": the record now holds "bot" by name
    bad.erase(name_at + 3, 5);
    CompactReader reader(bad);
    Sequence seq;
    EventView out;
    auto r = reader.Next(seq, out);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message().find("known attribute name stored as text"), std::string::npos)
        << r.error().message();
  }
  std::string bad = chunk;
  bad[name_at - 3] = static_cast<char>(schema::kAttrNameCount);
  CompactReader reader(bad);
  Sequence seq;
  EventView out;
  auto r = reader.Next(seq, out);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("attribute name code out of range"), std::string::npos);
}

TEST(CompactTest, CodesOutOfRangeAreRefused) {
  auto e = Ev("work_item.created", "jira:1", "p:01", "work_item", "J-1");
  Str(e, "status", "open");
  EventView view;
  const std::string record = e.SerializeAsString();  // the view points into it
  ASSERT_TRUE(DecodeView(record, view).ok());
  std::string chunk;
  AppendCompact(Sequence(1), view, chunk);
  // The header: seq (8), occurred_at (8), schema version (4), then the type code, the family,
  // the subject kind and a zero byte.
  for (const size_t at : {size_t{20}, size_t{21}, size_t{22}, size_t{23}}) {
    std::string bad = chunk;
    bad[at] = static_cast<char>(0x7F);
    CompactReader reader(bad);
    Sequence seq;
    EventView out;
    auto r = reader.Next(seq, out);
    ASSERT_FALSE(r.ok()) << at;
    EXPECT_NE(r.error().message().find("code out of range"), std::string::npos);
  }
  // The attribute's value kind: after the header (28 bytes), ten strings and the name's code
  // (status is a known name: one byte, no text).
  size_t at = 28;
  for (const std::string_view v : {view.id(), view.source(), view.type(), view.actor(),
                                   view.subject().kind(), view.subject().id(),
                                   view.subject().key(), view.subject().project(),
                                   view.subject().service(), view.subject().title()}) {
    at += 2 + v.size();
  }
  ASSERT_EQ(chunk[at], static_cast<char>(schema::AttrName::kStatus));
  at += 1;
  ASSERT_EQ(chunk[at], static_cast<char>(EventView::Value::Kind::kString));
  chunk[at] = static_cast<char>(9);
  CompactReader reader(chunk);
  Sequence seq;
  EventView out;
  auto r = reader.Next(seq, out);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("value kind out of range"), std::string::npos);
}

schema::OriginView OriginOf(const schema::Event& e) {
  return {e.origin().topic(), e.origin().partition(), e.origin().offset()};
}

TEST(EncodeEventTest, WritesTheBytesProtobufWrites) {
  // Every canonical type and the odd values (a double, a null, an empty list, an unset value,
  // INT64_MIN, a negative time, unicode, an origin, an event with nothing set).
  for (const auto& e : CanonicalEvents()) {
    SCOPED_TRACE(e.id());
    std::string bytes = "prefix";
    const size_t id_at = schema::EncodeEvent(EventView(e), OriginOf(e), bytes);
    EXPECT_EQ(bytes.substr(6), e.SerializeAsString());
    if (!e.id().empty()) {
      EXPECT_EQ(bytes.substr(6 + id_at, e.id().size()), e.id());
    }
  }
  // A negative partition is a ten-byte varint, as protobuf writes an int32.
  schema::Event e = CanonicalEvents()[0];
  e.mutable_origin()->set_topic("t");
  e.mutable_origin()->set_partition(-1);
  e.mutable_origin()->set_offset(std::numeric_limits<int64_t>::max());
  std::string bytes;
  schema::EncodeEvent(EventView(e), OriginOf(e), bytes);
  EXPECT_EQ(bytes, e.SerializeAsString());
}

TEST(EncodeEventTest, WhatAViewCannotTellIsWrittenOneWay) {
  // A subject that is present but empty and an origin of defaults are left out: protobuf
  // would write their (empty) messages; parsed, the events read the same.
  schema::Event e = Ev("custom.thing", "canonical:1", "", "", "");
  e.mutable_origin();
  std::string bytes;
  schema::EncodeEvent(EventView(e), OriginOf(e), bytes);
  EXPECT_NE(bytes, e.SerializeAsString());
  schema::Event back;
  ASSERT_TRUE(back.ParseFromString(bytes));
  e.clear_subject();
  e.clear_origin();
  EXPECT_EQ(back.SerializeAsString(), e.SerializeAsString());
}

TEST(EncodeEventTest, EveryNormalisedEventIsWhatProtobufWouldWrite) {
  // The normalisers encode through EventBuilder (vendors) and the canonical source: each
  // event's bytes are exactly what protobuf writes for the message they parse to, origin
  // included, and DecodeView reads them with their origin.
  std::map<std::string, size_t> by_source;
  NormaliseGenerated([&](const generate::Record& r, const sources::NormalizeResult& result) {
    for (size_t i = 0; i < result.events.size(); ++i) {
      const schema::Event& e = result.events[i];
      ++by_source[e.source()];
      ASSERT_EQ(result.events.bytes(i), e.SerializeAsString()) << e.id();
      EXPECT_EQ(result.events.id(i), e.id());
      EXPECT_EQ(result.events.occurred_at_ms(i), e.occurred_at_ms());
      EXPECT_EQ(e.origin().topic(), r.topic);
      EXPECT_EQ(e.origin().offset(), 77);
      EventView view;
      schema::OriginView origin;
      ASSERT_TRUE(DecodeView(result.events.bytes(i), view, &origin).ok());
      EXPECT_EQ(origin.topic, r.topic);
      EXPECT_EQ(origin.partition, 2);
      EXPECT_EQ(origin.offset, 77);
    }
  });
  // The generator's sources were exercised (the golden test checks every vendor's
  // fixtures the same way).
  for (const char* s : {"jira", "github", "slack", "pagerduty", "canonical"}) {
    EXPECT_GT(by_source[s], 10u) << s;
  }
}

TEST(EncodedEventsTest, AppendsKeepEachEventsIdTimeAndBytes) {
  const auto events = CanonicalEvents();
  schema::EncodedEvents a, b;
  ASSERT_TRUE(a.Append(events[0]));
  ASSERT_TRUE(b.Append(events[1]));
  ASSERT_TRUE(b.Append(events[2]));
  a.AppendAll(b);
  ASSERT_EQ(a.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(a.id(i), events[i].id());
    EXPECT_EQ(a.occurred_at_ms(i), events[i].occurred_at_ms());
    EXPECT_EQ(a.bytes(i), events[i].SerializeAsString());
    EXPECT_EQ(a[i].SerializeAsString(), events[i].SerializeAsString());
  }
  EXPECT_EQ(a.byte_size(), a.bytes(0).size() + a.bytes(1).size() + a.bytes(2).size());
  EXPECT_EQ(a.back().id(), events[2].id());
  EXPECT_THROW(a.at(3), std::out_of_range);
  size_t n = 0;
  for (const auto& e : a) EXPECT_EQ(e.id(), events[n++].id());
  EXPECT_EQ(n, 3u);
  a.clear();
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.byte_size(), 0u);
  ASSERT_TRUE(a.Append(events[3]));  // after a clear and a parse, indexes start again
  EXPECT_EQ(a[0].id(), events[3].id());
}

}  // namespace
}  // namespace teamhealth::eventlog
