// ReadIndexFields against the full Decode(): the same index fields for every record Decode()
// accepts (random events, unknown fields, repeated and merged fields, every schema version
// Decode() accepts: 0, i.e. absent, and 1), an error for truncated and corrupt records.
#include <gtest/gtest.h>

#include <cstdio>
#include <limits>
#include <random>
#include <string>

#include <google/protobuf/stubs/logging.h>

#include "teamhealth/eventlog/event_log.h"
#include "teamhealth/eventlog/index_fields.h"

namespace teamhealth::eventlog {
namespace {

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

std::string RandomText(std::mt19937_64& rng) {
  static const char* kTexts[] = {"", "incident", "person", "p:00ff", "Q-1", "work_item", "é✓"};
  if (rng() % 5 == 0) return std::string(rng() % 300, 'k');
  return kTexts[rng() % 7];
}

int64_t RandomTime(std::mt19937_64& rng) {
  switch (rng() % 5) {
    case 0: return 0;
    case 1: return std::numeric_limits<int64_t>::min();
    case 2: return std::numeric_limits<int64_t>::max();
    case 3: return -static_cast<int64_t>(rng() % 100000000000);
    default: return static_cast<int64_t>(rng() % 4000000000000);
  }
}

// An event with every kind of field set or absent.
schema::Event RandomEvent(std::mt19937_64& rng) {
  schema::Event e;
  if (rng() % 2) e.set_schema_version(1);  // else 0: absent, what the first records hold
  if (rng() % 4) e.set_id("canonical:" + std::to_string(rng()));
  if (rng() % 4) e.set_source("canonical");
  if (rng() % 4) e.set_type("incident.triggered");
  if (rng() % 4) e.set_occurred_at_ms(RandomTime(rng));
  if (rng() % 3) e.set_actor("p:" + std::to_string(rng() % 100));
  if (rng() % 4) {
    auto* s = e.mutable_subject();  // may stay empty: present with no fields
    if (rng() % 3) s->set_kind(RandomText(rng));
    if (rng() % 3) s->set_id(RandomText(rng));
    if (rng() % 2) s->set_key("PAY-1");
    if (rng() % 2) s->set_project(RandomText(rng));
    if (rng() % 2) s->set_service("svc");
    if (rng() % 2) s->set_title(RandomText(rng));
  }
  for (int i = static_cast<int>(rng() % 4); i > 0; --i) {
    auto* a = e.add_attrs();
    a->set_name("a" + std::to_string(i));
    switch (rng() % 6) {
      case 0: a->mutable_value()->set_null_value(true); break;
      case 1: a->mutable_value()->set_string_value(RandomText(rng)); break;
      case 2: a->mutable_value()->set_int_value(RandomTime(rng)); break;
      case 3: a->mutable_value()->set_double_value(0.5); break;
      case 4: a->mutable_value()->set_bool_value(true); break;
      default: a->mutable_value()->mutable_list_value()->add_values("x"); break;
    }
  }
  if (rng() % 2) {
    e.mutable_origin()->set_topic("teamhealth.canonical");
    e.mutable_origin()->set_offset(static_cast<int64_t>(rng() % 1000000));
  }
  return e;
}

// Fields of numbers this schema does not have, of every wire type (a group with a nested
// field, too), and known field numbers with an unexpected wire type, which the parser keeps as
// unknown fields.
std::string RandomUnknownFields(std::mt19937_64& rng) {
  std::string out;
  for (int i = static_cast<int>(rng() % 4); i > 0; --i) {
    const uint32_t number = rng() % 3 == 0 ? 1 + rng() % 9 : 10 + rng() % 1000;
    switch (rng() % 5) {
      case 0:
        if (number == 1 || number == 5) continue;  // those are varints
        Tag(out, number, 0);
        Varint(out, rng());
        break;
      case 1:
        Tag(out, number, 1);
        out.append(8, 'f');
        break;
      case 2:
        if (number == 7 || number <= 4 || number == 6 || number == 8 || number == 9) continue;
        Delimited(out, number, RandomText(rng));
        break;
      case 3:
        Tag(out, number, 5);
        out.append(4, 'g');
        break;
      default:
        Tag(out, number, 3);
        Tag(out, 1, 0);
        Varint(out, 7);
        Tag(out, number, 4);
        break;
    }
  }
  return out;
}

// A record as a (possibly older or foreign) writer could have left it: the event's bytes with
// unknown fields around it and, sometimes, later occurrences of the index fields (the last
// occurrence wins; subject occurrences merge field by field).
std::string RandomRecord(std::mt19937_64& rng) {
  std::string out = RandomUnknownFields(rng);
  out += RandomEvent(rng).SerializeAsString();
  out += RandomUnknownFields(rng);
  if (rng() % 4 == 0) {
    schema::Event later;
    if (rng() % 2) later.set_occurred_at_ms(RandomTime(rng));
    if (rng() % 2) later.mutable_subject()->set_id(RandomText(rng));
    if (rng() % 2) later.mutable_subject()->set_kind(RandomText(rng));
    if (rng() % 2) later.set_schema_version(static_cast<uint32_t>(rng() % 2));
    out += later.SerializeAsString();
  }
  if (rng() % 8 == 0) {  // a subject with unknown fields inside
    std::string subject = RandomUnknownFields(rng);
    Delimited(subject, 2, "inner-id");
    subject += RandomUnknownFields(rng);
    Delimited(out, 7, subject);
  }
  return out;
}

// Both readers on `record`: the same verdict when Decode() accepts it, and the same fields.
// Returns whether Decode() accepted it.
bool ExpectAgrees(const std::string& record, bool must_refuse_if_decode_does) {
  schema::Event e;
  const Status decoded = Decode(record, e);
  IndexFields f;
  const Status read = ReadIndexFields(record, f);
  if (decoded.ok()) {
    EXPECT_TRUE(read.ok()) << read.error().message();
    if (read.ok()) {
      EXPECT_EQ(f.occurred_at_ms, e.occurred_at_ms());
      EXPECT_EQ(f.subject_kind, e.subject().kind());
      EXPECT_EQ(f.subject_id, e.subject().id());
    }
  } else if (must_refuse_if_decode_does) {
    EXPECT_FALSE(read.ok());
  }
  return decoded.ok();
}

uint64_t Seed() {
  const uint64_t seed = std::random_device{}();
  std::printf("seed=%llu\n", static_cast<unsigned long long>(seed));
  return seed;
}

TEST(IndexFieldsTest, ReadsWhatDecodeGivesForRandomRecords) {
  const uint64_t seed = Seed();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    accepted += ExpectAgrees(RandomRecord(rng), /*must_refuse_if_decode_does=*/true);
    if (HasFailure()) break;
  }
  EXPECT_GT(accepted, 15000);  // the generator makes records Decode() accepts
}

TEST(IndexFieldsTest, ATruncatedRecordIsAnErrorWheneverDecodeRefusesIt) {
  const uint64_t seed = Seed();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  int refused = 0;
  for (int i = 0; i < 300 && !HasFailure(); ++i) {
    const std::string record = RandomRecord(rng);
    for (size_t n = 0; n < record.size(); ++n) {
      refused += !ExpectAgrees(record.substr(0, n), /*must_refuse_if_decode_does=*/true);
    }
  }
  EXPECT_GT(refused, 0);
}

TEST(IndexFieldsTest, ACorruptRecordIsNeverReadDifferently) {
  // Random byte changes: no crash; what Decode() accepts is read the same. (A record corrupt
  // only inside fields the index does not need, e.g. an attribute, is read here and refused by
  // Decode(): index_fields.h.)
  const uint64_t seed = Seed();
  SCOPED_TRACE("seed=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  google::protobuf::LogSilencer quiet;  // Decode() logs each invalid UTF-8 string
  for (int i = 0; i < 20000 && !HasFailure(); ++i) {
    std::string record = RandomRecord(rng);
    if (record.empty()) continue;
    for (int k = static_cast<int>(1 + rng() % 3); k > 0; --k) {
      record[rng() % record.size()] = static_cast<char>(rng());
    }
    ExpectAgrees(record, /*must_refuse_if_decode_does=*/false);
  }
}

TEST(IndexFieldsTest, MalformedRecordsAreErrors) {
  google::protobuf::LogSilencer quiet;
  const auto refused = [](const std::string& record) {
    schema::Event e;
    IndexFields f;
    EXPECT_FALSE(Decode(record, e).ok());
    return !ReadIndexFields(record, f).ok();
  };
  std::string bad_utf8_id;
  Delimited(bad_utf8_id, 2, "\xff\xfe");
  std::string subject_of_bad_id;
  Delimited(subject_of_bad_id, 7, bad_utf8_id);
  EXPECT_TRUE(refused(subject_of_bad_id));
  EXPECT_TRUE(refused(std::string("\x00", 1)));  // tag 0
  EXPECT_TRUE(refused("\x02\x01x"));             // field number 0
  EXPECT_TRUE(refused("\x0c"));                  // an end-group tag outside a group
  EXPECT_TRUE(refused("\x0f"));                  // wire type 7
  EXPECT_TRUE(refused("\x3a\x05\x12\x03"));      // subject longer than the record
  EXPECT_TRUE(refused("\x3a\x02\x12\x03xyz"));   // id longer than the subject
  EXPECT_TRUE(refused("\x28\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"));  // 11-byte varint
}

TEST(IndexFieldsTest, ARecordOfANewerSchemaVersionIsAnError) {
  schema::Event e;
  e.set_schema_version(kSchemaVersion + 1);
  e.set_occurred_at_ms(5);
  IndexFields f;
  const Status read = ReadIndexFields(e.SerializeAsString(), f);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.error().message().find("newer than this build"), std::string::npos);
  e.set_schema_version(kSchemaVersion);
  EXPECT_TRUE(ReadIndexFields(e.SerializeAsString(), f).ok());
  EXPECT_EQ(f.occurred_at_ms, 5);
}

}  // namespace
}  // namespace teamhealth::eventlog
